package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/stickypolicy/sticky/ibe"
	"github.com/stickypolicy/sticky/internal/store"
	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/pep"
	"github.com/stickypolicy/sticky/pep/httpapi"
	"github.com/stickypolicy/sticky/policies"
)

// serveOptions are the flags of `stickyd serve`; each has an environment
// fallback (STICKY_...).
type serveOptions struct {
	addr              string
	data              string
	maxBody           int64
	maxPolicy         int
	readHeaderTimeout time.Duration
	readTimeout       time.Duration
	writeTimeout      time.Duration
	idleTimeout       time.Duration
	shutdownTimeout   time.Duration
	synchronous       string
	readers           int
	logLevel          string
	// obligations holds the obligation handler's flags (SMTP, webhook
	// secret, retries): obligations.RegisterFlags.
	obligations *obligations.Config
	// rights holds --restore-window and --audit-retention (forget.go).
	rights *rightsOptions
	// purposes is the operator's purpose file extending the taxonomy.
	purposes string
}

func envInt(key string, dflt int64) int64 {
	if v, err := strconv.ParseInt(envOr(key, ""), 10, 64); err == nil {
		return v
	}
	return dflt
}

func envDuration(key string, dflt time.Duration) time.Duration {
	if v, err := time.ParseDuration(envOr(key, "")); err == nil {
		return v
	}
	return dflt
}

func serveFlags(stderr io.Writer) (*flag.FlagSet, *serveOptions) {
	o := &serveOptions{}
	fs := flag.NewFlagSet("stickyd serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", envOr("STICKY_ADDR", "127.0.0.1:8080"), "listen `address` HOST:PORT (env STICKY_ADDR)")
	fs.StringVar(&o.data, "data", envOr("STICKY_DATA", "./sticky-data"), "data `directory`, created if missing (env STICKY_DATA)")
	fs.Int64Var(&o.maxBody, "max-body", envInt("STICKY_MAX_BODY", httpapi.DefaultMaxBodyBytes), "request body limit in `bytes` (env STICKY_MAX_BODY)")
	fs.IntVar(&o.maxPolicy, "max-policy", int(envInt("STICKY_MAX_POLICY", pep.DefaultMaxPolicyBytes)), "policy document limit in `bytes` (env STICKY_MAX_POLICY)")
	fs.DurationVar(&o.readHeaderTimeout, "read-header-timeout", envDuration("STICKY_READ_HEADER_TIMEOUT", 5*time.Second), "time to read request headers (env STICKY_READ_HEADER_TIMEOUT)")
	fs.DurationVar(&o.readTimeout, "read-timeout", envDuration("STICKY_READ_TIMEOUT", 60*time.Second), "time to read a whole request (env STICKY_READ_TIMEOUT)")
	fs.DurationVar(&o.writeTimeout, "write-timeout", envDuration("STICKY_WRITE_TIMEOUT", 60*time.Second), "time to write a response (env STICKY_WRITE_TIMEOUT)")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", envDuration("STICKY_IDLE_TIMEOUT", 120*time.Second), "keep-alive idle time (env STICKY_IDLE_TIMEOUT)")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", envDuration("STICKY_SHUTDOWN_TIMEOUT", 30*time.Second), "time given to in-flight requests on SIGTERM (env STICKY_SHUTDOWN_TIMEOUT)")
	fs.StringVar(&o.synchronous, "synchronous", envOr("STICKY_SYNCHRONOUS", "FULL"), "SQLite synchronous `mode`: FULL (acknowledged writes survive power loss) or NORMAL (faster; survive process crashes) (env STICKY_SYNCHRONOUS)")
	fs.StringVar(&o.purposes, "purposes", envOr("STICKY_PURPOSES", ""), "operator purpose `file` (JSON [{iri, parent, label}]) adding child purposes to the DPV/P3P taxonomy (env STICKY_PURPOSES)")
	fs.IntVar(&o.readers, "readers", int(envInt("STICKY_READERS", 4)), "database reader connections (env STICKY_READERS)")
	fs.StringVar(&o.logLevel, "log-level", envOr("STICKY_LOG_LEVEL", "info"), "log `level`: debug, info, warn or error (env STICKY_LOG_LEVEL)")
	o.obligations = obligations.RegisterFlags(fs, os.Getenv)
	o.rights = registerRightsFlags(fs)
	return fs, o
}

// runServe implements `stickyd serve`.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, o := serveFlags(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "stickyd serve: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		fmt.Fprintf(stderr, "stickyd serve: --log-level %q: want debug, info, warn or error\n", o.logLevel)
		return exitUsage
	}
	if o.maxBody <= 0 || o.maxPolicy <= 0 || o.readers <= 0 {
		fmt.Fprintln(stderr, "stickyd serve: --max-body, --max-policy and --readers must be positive")
		return exitUsage
	}
	if err := o.obligations.Validate(); err != nil {
		fmt.Fprintf(stderr, "stickyd serve: %v\n", err)
		return exitUsage
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if err := serve(ctx, o, logger, stderr); err != nil {
		fmt.Fprintf(stderr, "stickyd serve: %v\n", err)
		return exitFailure
	}
	return exitOK
}

func serve(ctx context.Context, o *serveOptions, logger *slog.Logger, stderr io.Writer) error {
	tax, err := policies.LoadTaxonomy(o.purposes)
	if err != nil {
		return fmt.Errorf("purpose file: %w", err)
	}
	st, err := store.Open(ctx, o.data, store.WithSynchronous(o.synchronous), store.WithReaders(o.readers))
	if err != nil {
		return err
	}
	tightenDatabaseFiles(o.data, logger)
	defer st.Close()
	pkg, err := ibe.LoadOrCreatePKG(o.data, rand.Reader)
	if err != nil {
		return fmt.Errorf("identity-based encryption: %w", err)
	}
	secret, err := o.obligations.Secret(o.data, rand.Reader)
	if err != nil {
		return err
	}

	// The runner needs the service (it deletes through it) and the service
	// kicks the runner after each commit that enqueued jobs.
	var runner *obligations.Runner
	kick := func() {
		if runner != nil {
			runner.Kick()
		}
	}
	svc := pep.New(st, pep.WithTaxonomy(tax), pep.WithMaxPolicyBytes(o.maxPolicy), pep.WithIBE(pep.NewIBE(pkg, rand.Reader)), pep.WithKick(kick), o.rights.serviceOption())
	clock := obligations.SystemClock{}
	perf := o.obligations.Performers(secret, clock)
	perf.Deleter = svc
	if a, ok := any(svc).(obligations.Anonymiser); ok {
		perf.Anonymiser = a
	}
	perf.Addresses = st
	runner = obligations.NewRunner(st, perf, clock, append(o.obligations.Options(), obligations.WithLogger(logger))...)

	api := httpapi.New(svc, httpapi.WithMaxBodyBytes(o.maxBody), httpapi.WithLogger(logger), httpapi.WithHealth(st.Ping))
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: o.readHeaderTimeout,
		ReadTimeout:       o.readTimeout,
		WriteTimeout:      o.writeTimeout,
		IdleTimeout:       o.idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}

	// The obligations runner: due deletions and notifications, also those
	// that fell due while the server was down.
	runCtx, stopRunner := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRunner()
	runnerDone := make(chan error, 1)
	go func() { runnerDone <- runner.Run(runCtx) }()
	o.rights.start(runCtx, svc, logger) // audit-log retention, when configured

	fmt.Fprintf(stderr, "stickyd: listening on http://%s (data in %s)\n", ln.Addr(), o.data)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		stopRunner()
		<-runnerDone
		return err
	case err := <-runnerDone:
		srv.Close()
		return fmt.Errorf("obligations runner stopped: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing in-flight requests", "timeout", o.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	shutdownErr := srv.Shutdown(sctx)
	stopRunner()
	if err := <-runnerDone; err != nil && !errors.Is(err, context.Canceled) {
		logger.Warn("obligations runner", "err", err.Error())
	}
	if shutdownErr != nil {
		return fmt.Errorf("shutdown: %w", shutdownErr)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// tightenDatabaseFiles removes group and other permissions from the
// database files in dir (sticky.db and its WAL and shared-memory files),
// which an older stickyd or another tool may have created under a lax
// umask: they hold personal data. New files get 0600 from main's umask.
func tightenDatabaseFiles(dir string, logger *slog.Logger) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "sticky.db") || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil || info.Mode().Perm()&0o077 == 0 {
			continue
		}
		if err := os.Chmod(filepath.Join(dir, e.Name()), info.Mode().Perm()&^0o077); err != nil {
			logger.Warn("could not make a database file private", "file", e.Name(), "err", err.Error())
		} else {
			logger.Info("made a database file private (it was readable by others)", "file", e.Name())
		}
	}
}
