package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	_ "github.com/mattn/go-sqlite3" // the SQLite driver
)

// FileName is the database file's name inside the data directory.
const FileName = "sticky.db"

// Store is Sticky's SQLite store: one writer connection (every write
// transaction runs on it, one at a time) and a pool of reader connections,
// both on the same WAL-mode database file. It is safe for concurrent use.
type Store struct {
	path string
	w    *sql.DB // exactly one connection: the writer
	r    *sql.DB // the readers (query_only)
	rand io.Reader

	ws writerStmts
	rs readerStmts

	writes     chan *writeReq
	closed     chan struct{}
	closeOnce  sync.Once
	writerDone chan struct{}

	ck       *sql.DB // the checkpointer's connection (checkpoint.go)
	ckpt     chan struct{}
	ckptDone chan struct{}
	ckMu     sync.Mutex // one checkpoint at a time: the checkpointer's or Scrub's
}

// Option configures Open.
type Option func(*options)

type options struct {
	readers     int
	synchronous string
	busyTimeout int
	rand        io.Reader
}

// WithReaders sets the size of the reader pool (default 4).
func WithReaders(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.readers = n
		}
	}
}

// WithSynchronous sets PRAGMA synchronous: "FULL" (the default: the WAL is
// synced at every commit, so an acknowledged write survives a power loss;
// with group commit that is one fsync per batch) or "NORMAL" (faster: an
// application crash loses nothing, a power loss may lose the last
// transactions).
func WithSynchronous(mode string) Option {
	return func(o *options) { o.synchronous = strings.ToUpper(mode) }
}

// WithBusyTimeout sets how long, in milliseconds, a connection waits for a
// lock held by another process (e.g. `stickyd principal add` while the server
// runs). Default 5000.
func WithBusyTimeout(ms int) Option {
	return func(o *options) { o.busyTimeout = ms }
}

// WithRand sets the randomness used for per-subject pseudonym keys (default
// crypto/rand.Reader).
func WithRand(r io.Reader) Option {
	return func(o *options) { o.rand = r }
}

// Open opens (creating when missing) the database in dir/sticky.db, creating
// dir (0700) if needed, and applies pending migrations.
func Open(ctx context.Context, dir string, opts ...Option) (*Store, error) {
	o := options{readers: 4, synchronous: "FULL", busyTimeout: 5000, rand: rand.Reader}
	for _, opt := range opts {
		opt(&o)
	}
	switch o.synchronous {
	case "NORMAL", "FULL", "EXTRA":
	default:
		return nil, fmt.Errorf("store: synchronous mode %q: want NORMAL, FULL or EXTRA", o.synchronous)
	}
	if dir == "" {
		return nil, errors.New("store: empty data directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: creating data directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("store: data directory %q contains '?'", dir)
	}
	// _stmt_cache_size: the driver keeps ad-hoc statements prepared per connection.
	common := fmt.Sprintf("_busy_timeout=%d&_foreign_keys=on&_secure_delete=on&_synchronous=%s&_stmt_cache_size=64", o.busyTimeout, o.synchronous)
	w, err := sql.Open("sqlite3", path+"?_journal_mode=WAL&_txlock=immediate&"+common)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{path: path, w: w, rand: o.rand, writes: make(chan *writeReq, maxBatch),
		closed: make(chan struct{}), writerDone: make(chan struct{}), ckpt: make(chan struct{}, 1), ckptDone: make(chan struct{})}
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	// The writer never checkpoints inside a commit: see checkpoint.go.
	if _, err := w.ExecContext(ctx, "PRAGMA wal_autocheckpoint=0"); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	ck, err := sql.Open("sqlite3", path+"?"+common)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	ck.SetMaxOpenConns(1)
	ck.SetMaxIdleConns(1)
	ck.SetConnMaxLifetime(0)
	ck.SetConnMaxIdleTime(0)
	s.ck = ck
	r, err := sql.Open("sqlite3", path+"?_query_only=on&"+common)
	if err != nil {
		ck.Close()
		w.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	r.SetMaxOpenConns(o.readers)
	r.SetMaxIdleConns(o.readers)
	r.SetConnMaxLifetime(0)
	r.SetConnMaxIdleTime(0)
	s.r = r
	if err := s.prepare(ctx); err != nil {
		s.r.Close()
		ck.Close()
		w.Close()
		return nil, err
	}
	go s.checkpointer(ck)
	go s.writer()
	return s, nil
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Ping checks that the database answers (for /healthz).
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Close stops the writer (after the batch in progress) and closes every
// connection, checkpointing the WAL. Writes after Close fail.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	<-s.writerDone
	<-s.ckptDone
	// Writes still queued get an error.
	for {
		select {
		case r := <-s.writes:
			r.done <- errClosed
			continue
		default:
		}
		break
	}
	var errs []error
	for _, st := range append(s.ws.all(), s.rs.all()...) {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.ck != nil {
		errs = append(errs, s.ck.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	return errors.Join(errs...)
}

// DB returns the writer handle, for other parts of this package (the outbox,
// the audit export) that need their own statements. Writes must go through
// transactions on it (one at a time).
func (s *Store) DB() *sql.DB { return s.w }

// ReadDB returns the reader pool.
func (s *Store) ReadDB() *sql.DB { return s.r }
