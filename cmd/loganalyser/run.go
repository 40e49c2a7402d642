package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/stickypolicy/sticky/internal/audit"
	"github.com/stickypolicy/sticky/internal/compliance"
	"github.com/stickypolicy/sticky/internal/store"
	"github.com/stickypolicy/sticky/pep"
	"github.com/stickypolicy/sticky/policies"
)

// Exit codes (CONTRACT.md).
const (
	exitCompliant    = 0
	exitNonCompliant = 1 // or tampered
	exitCannotCheck  = 2
)

// Clock gives the check time when --at is not given.
type Clock interface{ Now() time.Time }

const usage = `usage: loganalyser --data DIR [--at TIME] [--json] ID
       loganalyser --log FILE --policy FILE [--at TIME] [--json] [ID]

Verifies a record's event log (its hash chain) and checks it against the
record's sticky policy. Exit 0: compliant; 1: non-compliant or tampered;
2: could not check.
`

// run is the whole command with the real clock.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runWith(ctx, args, stdout, stderr, systemClock{})
}

// options are the parsed command line.
type options struct {
	data, logFile, policyFile, purposes string
	id                                  string
	at                                  time.Time
	json                                bool
	grace                               time.Duration
}

// errUsage marks bad arguments (already reported).
var errUsage = errors.New("bad arguments")

func parseArgs(args []string, stderr io.Writer, clock Clock) (options, error) {
	var o options
	fs := flag.NewFlagSet("loganalyser", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.data, "data", "", "Sticky data `directory` to read the record's log and policies from")
	fs.StringVar(&o.logFile, "log", "", "exported event log `file` (stickyd log export), - for stdin")
	fs.StringVar(&o.policyFile, "policy", "", "sticky policy `file` (with --log)")
	at := fs.String("at", "", "check `time`, RFC 3339 (default now)")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	fs.StringVar(&o.purposes, "purposes", "", "operator purpose `file` extending the taxonomy (JSON, as for the server)")
	fs.DurationVar(&o.grace, "grace", compliance.DefaultGrace, "how long after a deadline an action still counts as on time")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return o, err
	}
	bad := func(format string, a ...any) (options, error) {
		fmt.Fprintf(stderr, "loganalyser: "+format+"\n", a...)
		fmt.Fprint(stderr, usage)
		return o, errUsage
	}
	switch {
	case len(pos) > 1:
		return bad("want at most one record ID, got %d arguments", len(pos))
	case o.data != "" && o.logFile != "":
		return bad("give either --data DIR ID or --log FILE --policy FILE, not both")
	case o.data != "" && len(pos) == 0:
		return bad("--data needs the record ID")
	case o.data != "" && o.policyFile != "":
		return bad("--policy goes with --log; with --data the record's policies come from the store")
	case o.data == "" && o.logFile == "":
		return bad("give --data DIR ID or --log FILE --policy FILE")
	case o.logFile != "" && o.policyFile == "":
		return bad("--log needs --policy FILE (the record's sticky policy)")
	case o.grace < 0:
		return bad("--grace must not be negative")
	}
	if len(pos) == 1 {
		o.id = pos[0]
	}
	o.at = clock.Now()
	if *at != "" {
		t, err := time.Parse(time.RFC3339Nano, *at)
		if err != nil {
			return bad("--at %q is not an RFC 3339 time (e.g. 2026-03-01T09:00:00Z)", *at)
		}
		o.at = t
	}
	return o, nil
}

// runWith is run with an injected clock.
func runWith(ctx context.Context, args []string, stdout, stderr io.Writer, clock Clock) int {
	o, err := parseArgs(args, stderr, clock)
	if errors.Is(err, flag.ErrHelp) {
		return exitCompliant
	}
	if err != nil {
		return exitCannotCheck
	}
	cannot := func(err error) int {
		fmt.Fprintf(stderr, "loganalyser: could not check: %v\n", err)
		return exitCannotCheck
	}
	tax, err := policies.LoadTaxonomy(o.purposes)
	if err != nil {
		return cannot(err)
	}
	var in compliance.Input
	if o.data != "" {
		in, err = fromStore(ctx, o)
	} else {
		in, err = fromFiles(o, tax)
	}
	if errors.Is(err, audit.ErrTampered) {
		// The file is not even a whole export (its header was removed).
		rep := compliance.Tampered(o.id, o.at, 0, err)
		if perr := printReport(stdout, rep, o.json); perr != nil {
			return cannot(perr)
		}
		return exitNonCompliant
	}
	if err != nil {
		return cannot(err)
	}
	in.At = o.at
	var rep compliance.Report
	if verr := in.Log.Verify(); verr != nil {
		rep = compliance.Tampered(in.Log.Header.PII, o.at, len(in.Log.Entries), verr)
	} else {
		if in.Policies == nil {
			pols, err := compliance.LogPolicies(in.Log, tax)
			if err != nil {
				return cannot(err)
			}
			in.Policies = pols
		}
		rep = compliance.NewChecker(compliance.WithPurposes(tax), compliance.WithGrace(o.grace)).Check(in)
	}
	if err := printReport(stdout, rep, o.json); err != nil {
		return cannot(err)
	}
	if rep.Verdict == compliance.Compliant {
		return exitCompliant
	}
	return exitNonCompliant
}

// fromStore reads the record's log, with identities and roles, from the
// store in o.data.
func fromStore(ctx context.Context, o options) (compliance.Input, error) {
	if _, err := os.Stat(filepath.Join(o.data, store.FileName)); err != nil {
		return compliance.Input{}, fmt.Errorf("no Sticky database in %s (%s missing)", o.data, store.FileName)
	}
	st, err := store.Open(ctx, o.data)
	if err != nil {
		return compliance.Input{}, err
	}
	defer st.Close()
	al, err := st.AuditLog(ctx, o.id)
	if errors.Is(err, pep.ErrNotFound) {
		return compliance.Input{}, fmt.Errorf("no record %q in %s", o.id, o.data)
	}
	if err != nil {
		return compliance.Input{}, err
	}
	roles := map[string][]string{}
	for _, ident := range al.Identities {
		if p, err := st.Principal(ctx, ident); err == nil {
			roles[ident] = []string{string(p.Role)}
		}
	}
	return compliance.Input{
		Log:   al.Export(true),
		Roles: func(identity string) []string { return roles[identity] },
	}, nil
}

// fromFiles reads an exported log and the policy file.
func fromFiles(o options, tax *policies.Taxonomy) (compliance.Input, error) {
	var r io.Reader
	if o.logFile == "-" {
		r = os.Stdin
	} else {
		f, err := os.Open(o.logFile)
		if err != nil {
			return compliance.Input{}, fmt.Errorf("reading the log: %w", err)
		}
		defer f.Close()
		r = f
	}
	l, err := audit.ReadLog(r)
	if err != nil {
		return compliance.Input{}, fmt.Errorf("%s: %w", o.logFile, err)
	}
	if o.id != "" && o.id != l.Header.PII {
		return compliance.Input{}, fmt.Errorf("%s is the log of record %q, not %q", o.logFile, l.Header.PII, o.id)
	}
	xml, err := os.ReadFile(o.policyFile)
	if err != nil {
		return compliance.Input{}, fmt.Errorf("reading the policy: %w", err)
	}
	pol, err := compliance.ParsePolicy(xml, tax)
	if err != nil {
		return compliance.Input{}, fmt.Errorf("%s: %w", o.policyFile, err)
	}
	in := compliance.Input{Log: l, Default: pol}
	if hash := audit.PolicyHash(xml); len(l.Header.Policies) > 0 {
		if _, ok := l.PolicyByHash(hash); !ok {
			// Not a policy the record had: check every entry against it.
			in.Policies = map[string]compliance.Policy{}
			in.Notes = []string{fmt.Sprintf("%s is not a policy the log records: every entry was checked against it, not against the log's own policies", o.policyFile)}
		}
	}
	return in, nil
}

// printReport writes the report as text or JSON.
func printReport(w io.Writer, rep compliance.Report, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(rep)
	}
	var b strings.Builder
	what := "record " + rep.PII
	if rep.PII == "" {
		what = "log of an unknown record"
	}
	fmt.Fprintf(&b, "%s: %s (%d entries, checked at %s)\n", what, rep.Verdict, rep.Entries, rep.CheckedAt.Format(time.RFC3339))
	for _, v := range rep.Violations {
		fmt.Fprintf(&b, "  seq %d: %s: %s\n", v.Seq, v.Rule, v.Message)
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(&b, "  note: %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// parseInterleaved parses fs from args allowing flags after positional
// arguments, and returns the positional arguments. "--" ends flag parsing.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
