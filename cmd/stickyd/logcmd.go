package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/stickypolicy/sticky/internal/store"
	"github.com/stickypolicy/sticky/pep"
)

// runLogExport implements `stickyd log export --data DIR [--identities] ID`:
// it writes record ID's event log to stdout as JSON lines (a header, then
// one hash-chained entry per line; docs/event-log.md). Exit 0 on success, 1
// when the record is unknown or the store cannot be read, 2 on bad
// arguments.
func runLogExport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("stickyd log export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr("STICKY_DATA", "./sticky-data"), "data `directory` (env STICKY_DATA)")
	idents := fs.Bool("identities", false, "include the identities behind the log's pseudonyms (personal data)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: stickyd log export --data DIR [--identities] ID")
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if len(pos) != 1 || pos[0] == "" {
		fmt.Fprintf(stderr, "stickyd log export: want exactly one record ID, got %d arguments\n", len(pos))
		fs.Usage()
		return exitUsage
	}
	if err := exportLog(ctx, *data, pos[0], *idents, time.Now(), stdout); err != nil {
		fmt.Fprintf(stderr, "stickyd log export: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// exportLog writes record id's log from the store in dir to w.
func exportLog(ctx context.Context, dir, id string, identities bool, now time.Time, w io.Writer) error {
	if _, err := os.Stat(filepath.Join(dir, store.FileName)); err != nil {
		return fmt.Errorf("no Sticky database in %s (%s missing)", dir, store.FileName)
	}
	st, err := store.Open(ctx, dir)
	if err != nil {
		return err
	}
	defer st.Close()
	l, err := st.AuditLog(ctx, id)
	if errors.Is(err, pep.ErrNotFound) {
		return fmt.Errorf("no record %q in %s", id, dir)
	}
	if err != nil {
		return err
	}
	out := l.Export(identities)
	out.Header.ExportedAt = now.UTC()
	_, err = out.WriteTo(w)
	return err
}

// parseInterleaved parses fs from args allowing flags after positional
// arguments (`ID --data DIR` as well as `--data DIR ID`) and returns the
// positional arguments. "--" ends flag parsing.
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
		if len(args) > 0 && len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
