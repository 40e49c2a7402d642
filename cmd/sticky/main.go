// Command sticky is the client of a Sticky server for applications, data
// subjects and delegates: it stores PII under a sticky policy, reads it for a
// declared purpose, manages policies, and encrypts and decrypts offline with
// identity-based encryption.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/stickypolicy/sticky/internal/client"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

const usage = `usage: sticky [--url URL] [--token TOKEN] <command> [flags] [args]

The server is STICKY_URL (default http://127.0.0.1:8080; http:// is assumed
when it has no scheme, e.g. 127.0.0.1:8080); the caller's bearer
token is STICKY_TOKEN. --url and --token (before or after the command) override them
(prefer STICKY_TOKEN: command-line arguments are visible to other users of the machine).

commands:
  put --policy FILE [--subject ID] [--encrypt-for IDS] [--content-type T] FILE|-
                                   store data under a sticky policy; prints the JSON answer
  get [--purpose IRI] [--out FILE] ID
                                   read data for a declared purpose (the owner needs none)
  list                             the records you own or may access
  policy get ID                    print a record's sticky policy
  policy set ID FILE               replace a record's sticky policy
  delete ID                        delete a record (its bytes are gone)
  disclose --to ID --purpose IRI ID
                                   share a record downstream
  events ID                        a record's event log, oldest first
  notifications                    your inbox, newest last
  decide --purpose IRI [--action A] ID
                                   what the server would decide, without reading
  preferences set FILE             register your data handling preferences
  preferences get                  print your registered preferences
  key [--format string|x509] [--public-key FILE] [--out FILE]
                                   fetch your own IBE private key
  key verify --params FILE --key FILE [--identity ID]
                                   check a received key against the public parameters
  params [--out FILE]              fetch the server's public IBE parameters
  encrypt --params FILE --to ID[,ID...] [--in FILE] [--out FILE]
                                   encrypt offline to identities
  decrypt --key FILE [--in FILE] [--out FILE]
                                   decrypt offline what get returned for encrypted data
  export [--out FILE] SUBJECT      everything held on a data subject, as JSON
  forget [--dry-run] SUBJECT       erase everything held on a data subject
  restore ID                       restore a deleted record within its restore window
  health                           check that the server can serve
  help                             this text

Exit status: 0 success, 1 failure (the server's message is printed), 2 bad usage.
`

// env is what a command runs with besides its arguments.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// url and token come from the global flags; empty when not given.
	url, token string
}

// run runs the sticky command line args and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runEnv(ctx, args, &env{stdin: os.Stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv})
}

// command is one subcommand.
type command func(ctx context.Context, e *env, args []string) int

// runEnv dispatches args in e.
func runEnv(ctx context.Context, args []string, e *env) int {
	global := flag.NewFlagSet("sticky", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	global.StringVar(&e.url, "url", "", "server URL")
	global.StringVar(&e.token, "token", "", "bearer token")
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(e.stdout, usage)
			return exitOK
		}
		fmt.Fprintf(e.stderr, "sticky: %v\n%s", err, usage)
		return exitUsage
	}
	args = global.Args()
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return exitUsage
	}
	sub := ""
	if len(args) > 1 {
		sub = args[1]
	}
	var cmd command
	rest := args[1:]
	switch args[0] {
	case "help", "-h", "--help":
		fmt.Fprint(e.stdout, usage)
		return exitOK
	case "put":
		cmd = cmdPut
	case "get":
		cmd = cmdGet
	case "list":
		cmd = cmdList
	case "policy":
		switch sub {
		case "get":
			cmd, rest = cmdPolicyGet, args[2:]
		case "set":
			cmd, rest = cmdPolicySet, args[2:]
		}
	case "delete":
		cmd = cmdDelete
	case "disclose":
		cmd = cmdDisclose
	case "events":
		cmd = cmdEvents
	case "notifications":
		cmd = cmdNotifications
	case "decide":
		cmd = cmdDecide
	case "preferences":
		switch sub {
		case "set":
			cmd, rest = cmdPreferencesSet, args[2:]
		case "get":
			cmd, rest = cmdPreferencesGet, args[2:]
		}
	case "key":
		if sub == "verify" {
			cmd, rest = ibeCommand(runVerifyKey), args[2:]
		} else {
			cmd = cmdKey
		}
	case "params":
		cmd = cmdParams
	case "encrypt":
		cmd = ibeCommand(runEncrypt)
	case "decrypt":
		cmd = ibeCommand(runDecrypt)
	case "export":
		cmd = cmdExport
	case "forget":
		cmd = cmdForget
	case "restore":
		cmd = cmdRestore
	case "health":
		cmd = cmdHealth
	}
	if cmd == nil {
		name := args[0]
		if (name == "policy" || name == "preferences") && sub != "" {
			name += " " + sub
		}
		fmt.Fprintf(e.stderr, "sticky: unknown command %q\n%s", name, usage)
		return exitUsage
	}
	return cmd(ctx, e, rest)
}

// ibeCommand adapts an offline IBE command (ibecmd.go) to a command.
func ibeCommand(f func(ctx context.Context, args []string, stdout, stderr io.Writer) int) command {
	return func(ctx context.Context, e *env, args []string) int {
		return f(ctx, args, e.stdout, e.stderr)
	}
}

// connFlags are the connection flags every server command accepts.
type connFlags struct {
	url, token string
}

func addConnFlags(fs *flag.FlagSet) *connFlags {
	c := &connFlags{}
	fs.StringVar(&c.url, "url", "", "server URL (default $STICKY_URL or "+client.DefaultURL+")")
	fs.StringVar(&c.token, "token", "", "bearer token (default $STICKY_TOKEN)")
	return c
}

// client returns the client configured by the flags, the global flags and
// the environment, in that order of precedence.
func (e *env) client(c *connFlags) (*client.Client, error) {
	u := withScheme(firstNonEmpty(c.url, e.url, e.getenv("STICKY_URL"), client.DefaultURL))
	tok := firstNonEmpty(c.token, e.token, e.getenv("STICKY_TOKEN"))
	return client.New(u, tok, client.WithUserAgent("sticky-cli"))
}

// withScheme adds http:// to a server address given without a scheme
// (STICKY_URL=127.0.0.1:8080, the form stickyd serve --addr takes).
func withScheme(u string) string {
	if u != "" && !strings.Contains(u, "://") {
		return "http://" + u
	}
	return u
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// newFlagSet returns a subcommand's flag set whose usage goes to stderr.
func newFlagSet(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: sticky %s\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args with flags and positional arguments in any order
// ("--" ends the flags) and checks the number of positional arguments. It
// returns the positional arguments, or an exit code when done.
func parse(e *env, fs *flag.FlagSet, args []string, minPos, maxPos int) ([]string, int, bool) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK, false
			}
			return nil, exitUsage, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	if len(pos) < minPos || (maxPos >= 0 && len(pos) > maxPos) {
		switch {
		case len(pos) < minPos:
			fmt.Fprintf(e.stderr, "sticky %s: missing argument\n", fs.Name())
		default:
			fmt.Fprintf(e.stderr, "sticky %s: unexpected argument %q\n", fs.Name(), pos[maxPos])
		}
		fs.Usage()
		return nil, exitUsage, false
	}
	return pos, exitOK, true
}

// connect parses a server command's arguments (see parse) and builds its
// client. It returns the client and the positional arguments, or the exit
// code to return when done.
func connect(e *env, fs *flag.FlagSet, conn *connFlags, args []string, minPos, maxPos int) (*client.Client, []string, int, bool) {
	pos, code, ok := parse(e, fs, args, minPos, maxPos)
	if !ok {
		return nil, nil, code, false
	}
	c, err := e.client(conn)
	if err != nil {
		return nil, nil, fail(e, fs.Name(), err), false
	}
	return c, pos, exitOK, true
}

// usageError prints a usage problem and returns exitUsage.
func usageError(e *env, fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "sticky %s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fs.Usage()
	return exitUsage
}

// fail prints err (the server's message and its details) and returns
// exitFailure.
func fail(e *env, name string, err error) int {
	var ce *client.Error
	if errors.As(err, &ce) {
		fmt.Fprintf(e.stderr, "sticky %s: %s\n", name, ce.Error())
		for _, p := range ce.Problems {
			fmt.Fprintf(e.stderr, "  %s\n", describeProblem(p))
		}
		for _, m := range ce.Mismatches {
			fmt.Fprintf(e.stderr, "  mismatch at %s: preference %q, policy %q: %s\n", m.Element, m.Preference, m.Policy, m.Message)
		}
		return exitFailure
	}
	fmt.Fprintf(e.stderr, "sticky %s: %v\n", name, err)
	return exitFailure
}

func describeProblem(p client.Problem) string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Element != "" {
		fmt.Fprintf(&b, "<%s> ", p.Element)
	}
	if p.Attribute != "" {
		fmt.Fprintf(&b, "@%s ", p.Attribute)
	}
	if p.Value != "" {
		fmt.Fprintf(&b, "%q ", p.Value)
	}
	b.WriteString(p.Message)
	return b.String()
}
