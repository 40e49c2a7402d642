package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/stickypolicy/sticky/internal/store"
	"github.com/stickypolicy/sticky/pep"
	"github.com/stickypolicy/sticky/pep/rules"
)

const forgetUsage = `usage: stickyd forget --data DIR [--dry-run] ID

Erases everything held on data subject ID (right to be forgotten) and prints
the report as JSON. --dry-run prints the same report without changing
anything. Exit 1 when ID is not a known data subject.
`

// runForget implements `stickyd forget --data DIR [--dry-run] ID`.
func runForget(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("stickyd forget", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr("STICKY_DATA", "./sticky-data"), "data `directory` (env STICKY_DATA)")
	dry := fs.Bool("dry-run", false, "report what would be erased without changing anything")
	fs.Usage = func() { fmt.Fprint(stderr, forgetUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "stickyd forget: want exactly one subject ID, got %d arguments\n", fs.NArg())
		fs.Usage()
		return exitUsage
	}
	id := fs.Arg(0)
	if err := pep.ValidateName(id); err != nil {
		fmt.Fprintf(stderr, "stickyd forget: %v\n", err)
		return exitUsage
	}
	st, err := openExisting(ctx, *data)
	if err != nil {
		fmt.Fprintf(stderr, "stickyd forget: %v\n", err)
		return exitFailure
	}
	defer st.Close()
	rep, err := pep.New(st).ForgetSubject(ctx, id, pep.SystemPrincipal, *dry)
	if err != nil {
		fmt.Fprintf(stderr, "stickyd forget: %v\n", err)
		return exitFailure
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		fmt.Fprintf(stderr, "stickyd forget: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// rulesRun plans (dryRun) or executes a rule set on the store in data.
func rulesRun(ctx context.Context, data string, set *rules.RuleSet, dryRun bool) (any, error) {
	st, err := openExisting(ctx, data)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return pep.New(st).RunRules(ctx, set, dryRun)
}

// openExisting opens the store in dir, refusing a directory without a
// database (rather than creating an empty one).
func openExisting(ctx context.Context, dir string) (*store.Store, error) {
	if _, err := os.Stat(filepath.Join(dir, store.FileName)); err != nil {
		return nil, fmt.Errorf("no Sticky database in %s (%s missing)", dir, store.FileName)
	}
	return store.Open(ctx, dir)
}

// rightsOptions are the data-subject rights flags of `stickyd serve`.
type rightsOptions struct {
	restoreWindow  windowFlag
	auditRetention windowFlag
}

// windowFlag is a length of time given as a Go duration (720h), a number of
// days (90d) or an xs:duration without years or months (P30D, PT12H).
type windowFlag struct{ d time.Duration }

func (w *windowFlag) String() string {
	if w == nil || w.d == 0 {
		return "0"
	}
	return w.d.String()
}

func (w *windowFlag) Set(s string) error {
	if s == "0" || s == "" {
		w.d = 0
		return nil
	}
	a, err := rules.ParseAge(s)
	if err != nil {
		return err
	}
	if a.Years != 0 || a.Months != 0 {
		return fmt.Errorf("%q: give years and months as days (e.g. 365d), their length varies", s)
	}
	w.d = time.Duration(a.Days)*24*time.Hour + a.Clock
	return nil
}

// registerRightsFlags defines --restore-window and --audit-retention on fs
// (defaults from STICKY_RESTORE_WINDOW and STICKY_AUDIT_RETENTION).
func registerRightsFlags(fs *flag.FlagSet) *rightsOptions {
	o := &rightsOptions{}
	o.restoreWindow.Set(envOr("STICKY_RESTORE_WINDOW", "0"))
	o.auditRetention.Set(envOr("STICKY_AUDIT_RETENTION", "0"))
	fs.Var(&o.restoreWindow, "restore-window", "keep deleted records restorable for this `long` (e.g. 30d, 72h); 0 erases at once (env STICKY_RESTORE_WINDOW)")
	fs.Var(&o.auditRetention, "audit-retention", "remove event logs of gone records, finished jobs and rights reports older than this `long` (e.g. 90d); 0 keeps them (env STICKY_AUDIT_RETENTION)")
	return o
}

// serviceOption is the pep option the flags ask for.
func (o *rightsOptions) serviceOption() pep.Option {
	return pep.WithRestoreWindow(o.restoreWindow.d)
}

// start runs audit-log retention every hour in the background when it is
// configured; it stops with ctx.
func (o *rightsOptions) start(ctx context.Context, svc *pep.Service, logger *slog.Logger) {
	if o.auditRetention.d <= 0 {
		return
	}
	go svc.RunAuditRetention(ctx, o.auditRetention.d, "@every 1h", func(p pep.AuditPurge, err error) {
		if err != nil {
			logger.Warn("audit retention failed", "err", err)
			return
		}
		logger.Info("audit retention", "chains", p.Chains, "events", p.Events, "jobs", p.Jobs, "reports", p.Reports)
	})
}
