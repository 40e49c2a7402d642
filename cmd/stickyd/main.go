// Command stickyd is the Sticky server and its admin subcommands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	restrictUmask()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage: stickyd <command> [flags]

commands:
  serve                      run the HTTP server (stickyd serve -h for flags)
  principal add              create a principal and print its bearer token
  pdp eval                   evaluate a XACML request against a policy
  policy check FILE          validate a policy document
  log export --data DIR ID   print a record's event log as JSON lines
  obligations failed --data DIR
                             list obligations that failed for good (JSON lines)
  forget --data DIR ID       erase everything held on a data subject ([--dry-run])
  rules validate|dry-run|execute --rules FILE
                             apply operator rules (anonymise, pseudonymise, delete)
`

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// run dispatches a subcommand and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	sub := ""
	if len(args) > 1 {
		sub = args[1]
	}
	switch {
	case args[0] == "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case args[0] == "principal" && sub == "add":
		return runPrincipalAdd(ctx, args[2:], stdout, stderr)
	case args[0] == "pdp" && sub == "eval":
		return runPDPEval(ctx, args[2:], stdout, stderr)
	case args[0] == "policy" && sub == "check":
		return runPolicyCheck(ctx, args[2:], stdout, stderr)
	case args[0] == "log" && sub == "export":
		return runLogExport(ctx, args[2:], stdout, stderr)
	case args[0] == "forget":
		return runForget(ctx, args[1:], stdout, stderr)
	case args[0] == "rules":
		return runRules(ctx, args[1:], stdout, stderr)
	case args[0] == "obligations" && sub == "failed":
		return runObligationsFailed(ctx, args[2:], stdout, stderr)
	case args[0] == "help" || args[0] == "-h" || args[0] == "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "stickyd: unknown command %q\n%s", joinArgs(args), usage)
	return exitUsage
}

func joinArgs(args []string) string {
	if len(args) > 1 && len(args[0]) > 0 && args[0][0] != '-' && len(args[1]) > 0 && args[1][0] != '-' {
		return args[0] + " " + args[1]
	}
	return args[0]
}

// envOr returns the environment variable key, or dflt when it is unset or
// empty.
func envOr(key, dflt string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return dflt
}
