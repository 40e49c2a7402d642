package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/stickypolicy/sticky/pep/rules"
)

const rulesUsage = `usage: stickyd rules validate --rules FILE
       stickyd rules dry-run  --data DIR --rules FILE
       stickyd rules execute  --data DIR --rules FILE

validate checks the rules file and prints every problem (rule and field);
dry-run prints, as JSON, what each rule would change without changing
anything; execute changes it, logging each change as an event of the record.
`

// runRules implements `stickyd rules validate|dry-run|execute`. Exit 0:
// done; 1: the rules file is invalid or the run failed; 2: bad arguments.
func runRules(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "validate" && args[0] != "dry-run" && args[0] != "execute") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprint(stdout, rulesUsage)
			return exitOK
		}
		fmt.Fprint(stderr, rulesUsage)
		return exitUsage
	}
	mode := args[0]
	fs := flag.NewFlagSet("stickyd rules "+mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr("STICKY_DATA", "./sticky-data"), "data `directory` (env STICKY_DATA)")
	file := fs.String("rules", "", "the rules `file` (JSON; required)")
	fs.Usage = func() { fmt.Fprint(stderr, rulesUsage); fs.PrintDefaults() }
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "stickyd rules %s: unexpected argument %q\n", mode, fs.Arg(0))
		return exitUsage
	}
	if *file == "" {
		fmt.Fprintf(stderr, "stickyd rules %s: --rules FILE is required\n", mode)
		return exitUsage
	}
	raw, err := readLimited(*file, rules.MaxFileBytes)
	if err != nil {
		fmt.Fprintf(stderr, "stickyd rules %s: %v\n", mode, err)
		return exitFailure
	}
	set, err := rules.Parse(raw)
	if err != nil {
		var ve *rules.ValidationError
		if errors.As(err, &ve) {
			fmt.Fprintf(stderr, "stickyd rules %s: %s is invalid; no rule was applied:\n", mode, *file)
			for _, p := range ve.Problems {
				fmt.Fprintf(stderr, "  %s\n", p)
			}
		} else {
			fmt.Fprintf(stderr, "stickyd rules %s: %v\n", mode, err)
		}
		return exitFailure
	}
	if mode == "validate" {
		fmt.Fprintf(stdout, "%s: %d rules, valid\n", *file, len(set.Rules))
		return exitOK
	}
	report, err := rulesRun(ctx, *data, set, mode == "dry-run")
	if err != nil {
		fmt.Fprintf(stderr, "stickyd rules %s: %v\n", mode, err)
		return exitFailure
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(report); err != nil {
		fmt.Fprintf(stderr, "stickyd rules %s: %v\n", mode, err)
		return exitFailure
	}
	return exitOK
}

// readLimited reads a file of at most limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return b, nil
}
