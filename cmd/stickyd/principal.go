package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/stickypolicy/sticky/internal/store"
	"github.com/stickypolicy/sticky/pep"
)

// runPrincipalAdd implements `stickyd principal add --data DIR --role ROLE
// [--email ADDR] NAME`: it prints the new principal's bearer token as the only
// line on stdout.
func runPrincipalAdd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("stickyd principal add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr("STICKY_DATA", "./sticky-data"), "data `directory` (env STICKY_DATA)")
	role := fs.String("role", "", "the principal's `role`: subject, controller or admin (required)")
	email := fs.String("email", "", "the principal's e-mail `address` (optional)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: stickyd principal add --data DIR --role ROLE [--email ADDR] NAME")
		fs.PrintDefaults()
	}
	// NAME may come before, between or after the flags.
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "stickyd principal add: want exactly one NAME, got %d arguments\n", len(pos))
		fs.Usage()
		return exitUsage
	}
	name := pos[0]
	if *role == "" {
		fmt.Fprintln(stderr, "stickyd principal add: --role is required (subject, controller or admin)")
		return exitUsage
	}
	r, err := pep.ParseRole(*role)
	if err != nil {
		fmt.Fprintf(stderr, "stickyd principal add: %v\n", err)
		return exitUsage
	}
	if err := pep.ValidateName(name); err != nil {
		fmt.Fprintf(stderr, "stickyd principal add: %v\n", err)
		return exitUsage
	}
	if *email != "" {
		if err := pep.ValidateEmail(*email); err != nil {
			fmt.Fprintf(stderr, "stickyd principal add: %v\n", err)
			return exitUsage
		}
	}
	tok, hash, err := pep.NewToken(rand.Reader)
	if err != nil {
		fmt.Fprintf(stderr, "stickyd principal add: %v\n", err)
		return exitFailure
	}
	st, err := store.Open(ctx, *data)
	if err != nil {
		fmt.Fprintf(stderr, "stickyd principal add: %v\n", err)
		return exitFailure
	}
	defer st.Close()
	p := pep.Principal{Name: name, Role: r, Email: *email, Created: time.Now()}
	if err := st.AddPrincipal(ctx, p, hash); err != nil {
		fmt.Fprintf(stderr, "stickyd principal add: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(stdout, tok)
	return exitOK
}
