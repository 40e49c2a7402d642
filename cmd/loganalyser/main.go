// Command loganalyser checks a record's tamper-evident event log against its
// sticky policy: it verifies the hash chain, then applies the compliance
// rules (internal/compliance) and prints the verdict with every violation.
//
//	loganalyser --data DIR [--at TIME] [--json] ID
//	loganalyser --log FILE --policy FILE [--at TIME] [--json] [ID]
//
// Exit status: 0 compliant; 1 non-compliant or tampered; 2 could not check
// (bad arguments, no such record, unreadable input).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// systemClock is the real clock.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }
