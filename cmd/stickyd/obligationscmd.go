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
	"time"

	"github.com/stickypolicy/sticky/internal/store"
)

// runObligationsFailed implements `stickyd obligations failed --data DIR
// [--limit N]`: the admin listing of obligations that failed for good (after
// their last try), most recent first, as JSON lines. Exit 0 on success (also
// when none failed), 1 when the store cannot be read, 2 on bad arguments.
func runObligationsFailed(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("stickyd obligations failed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr("STICKY_DATA", "./sticky-data"), "data `directory` (env STICKY_DATA)")
	limit := fs.Int("limit", 100, "list at most `N` failed obligations")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: stickyd obligations failed --data DIR [--limit N]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 || *limit <= 0 {
		fmt.Fprintln(stderr, "stickyd obligations failed: takes no arguments and a positive --limit")
		fs.Usage()
		return exitUsage
	}
	if _, err := os.Stat(filepath.Join(*data, store.FileName)); err != nil {
		fmt.Fprintf(stderr, "stickyd obligations failed: no Sticky database in %s (%s missing)\n", *data, store.FileName)
		return exitFailure
	}
	st, err := store.Open(ctx, *data)
	if err != nil {
		fmt.Fprintf(stderr, "stickyd obligations failed: %v\n", err)
		return exitFailure
	}
	defer st.Close()
	jobs, err := st.ListFailed(ctx, *limit)
	if err != nil {
		fmt.Fprintf(stderr, "stickyd obligations failed: %v\n", err)
		return exitFailure
	}
	enc := json.NewEncoder(stdout)
	for _, j := range jobs {
		if err := enc.Encode(failedJSON{ID: j.ID, PII: j.PII, Obligation: j.ObligationID, Trigger: string(j.Trigger), Action: string(j.Action),
			Media: j.Media, Address: j.Address, Event: string(j.Event.Type), Due: j.Due.UTC(), Deadline: j.Deadline.UTC(),
			Attempts: j.Attempts, Error: j.LastError}); err != nil {
			fmt.Fprintf(stderr, "stickyd obligations failed: %v\n", err)
			return exitFailure
		}
	}
	return exitOK
}

type failedJSON struct {
	ID         string    `json:"id"`
	PII        string    `json:"pii"`
	Obligation string    `json:"obligation"`
	Trigger    string    `json:"trigger,omitempty"`
	Action     string    `json:"action"`
	Media      string    `json:"media,omitempty"`
	Address    string    `json:"address,omitempty"`
	Event      string    `json:"event"`
	Due        time.Time `json:"due"`
	Deadline   time.Time `json:"deadline"`
	Attempts   int       `json:"attempts"`
	Error      string    `json:"error"`
}
