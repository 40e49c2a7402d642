package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/stickypolicy/sticky/pep"
)

// Tx is a write transaction on the writer connection. It implements pep.Tx;
// other files of this package (the outbox) add methods that take its SQL
// transaction.
type Tx struct {
	s      *Store
	tx     *sql.Tx
	erased bool // a record was deleted: scrub the WAL after commit

	// tip is the event this write (this fn of the batch) appended last,
	// and follow is set while EnqueueJobs delivers the inbox notices of that
	// very event: their notified events then chain on tip without reading
	// the record's last event, tombstone and subject key again (events.go).
	tip    *chainTip
	follow bool

	bound map[*sql.Stmt]*sql.Stmt // stmt: the prepared statements bound to tx
}

// SQL returns the underlying transaction, for statements of other files of
// this package (e.g. EnqueueJobsTx).
func (t *Tx) SQL() *sql.Tx { return t.tx }

// Write implements pep.Store: fn runs inside one transaction on the single
// writer connection, committed when fn returns nil. See WriteTx.
func (s *Store) Write(ctx context.Context, fn func(pep.Tx) error) error {
	return s.WriteTx(ctx, func(t *Tx) error { return fn(t) })
}

// WriteTx runs fn in a write transaction and returns once it is committed
// (nil) or rolled back (fn's error, or the commit's).
//
// Writes are group-committed: one writer goroutine takes the waiting calls
// in batches and runs them one after the other in ONE SQLite transaction,
// each inside its own savepoint, so that a failing fn rolls back only its own
// writes; a single COMMIT then makes the whole batch durable. Every fn sees
// the writes of the fns before it, exactly as if they had run in separate
// transactions in that order. A call whose ctx is done before its turn is
// skipped with ctx's error; once started, fn runs to its end, and its
// statements should use a context that is not cancelled midway
// (context.WithoutCancel), since an interrupted statement can abort the
// batch's transaction.
func (s *Store) WriteTx(ctx context.Context, fn func(*Tx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case s.writes <- req:
	case <-s.closed:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-s.writerDone:
		select {
		case err := <-req.done:
			return err
		default:
			return errClosed
		}
	}
}

var errClosed = errors.New("store: closed")

type writeReq struct {
	ctx  context.Context
	fn   func(*Tx) error
	done chan error
}

// maxBatch bounds the number of writes committed together.
const maxBatch = 256

// writer is the one goroutine that writes: it takes waiting writes in
// batches and commits each batch once.
func (s *Store) writer() {
	defer close(s.writerDone)
	batch := make([]*writeReq, 0, maxBatch)
	for {
		var first *writeReq
		select {
		case first = <-s.writes:
		case <-s.closed:
			return
		}
		batch = append(batch[:0], first)
	drain:
		for len(batch) < maxBatch {
			select {
			case r := <-s.writes:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		s.runBatch(batch)
	}
}

func (s *Store) runBatch(batch []*writeReq) {
	results := make([]error, len(batch))
	finish := func() {
		for i, r := range batch {
			r.done <- results[i]
		}
	}
	ctx := context.Background()
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		for i := range results {
			results[i] = fmt.Errorf("store: begin: %w", err)
		}
		finish()
		return
	}
	t := &Tx{s: s, tx: sqlTx}
	single := len(batch) == 1
	committed := 0
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if !single {
			if _, err := sqlTx.ExecContext(ctx, "SAVEPOINT w"); err != nil {
				results[i] = fmt.Errorf("store: savepoint: %w", err)
				continue
			}
		}
		t.tip = nil // each write starts afresh: tip never crosses savepoints
		err := runFn(r.fn, t)
		t.tip = nil
		results[i] = err
		if single {
			if err == nil {
				committed++
			}
			break
		}
		if err != nil {
			if _, rerr := sqlTx.ExecContext(ctx, "ROLLBACK TO w"); rerr != nil {
				// The transaction is unusable: fail the whole batch.
				sqlTx.Rollback()
				for j := range results {
					if j == i {
						continue
					}
					results[j] = fmt.Errorf("store: rolling back a failed write: %w", rerr)
				}
				finish()
				return
			}
		} else {
			committed++
		}
		if _, err := sqlTx.ExecContext(ctx, "RELEASE w"); err != nil {
			sqlTx.Rollback()
			for j := range results {
				if results[j] == nil {
					results[j] = fmt.Errorf("store: release savepoint: %w", err)
				}
			}
			finish()
			return
		}
	}
	if committed == 0 {
		sqlTx.Rollback()
		finish()
		return
	}
	if err := sqlTx.Commit(); err != nil {
		for j := range results {
			if results[j] == nil {
				results[j] = fmt.Errorf("store: commit: %w", err)
			}
		}
		finish()
		return
	}
	s.committed()
	if t.erased {
		if err := s.Scrub(ctx); err != nil {
			for j := range results {
				if results[j] == nil {
					results[j] = err
				}
			}
		}
	}
	finish()
}

// runFn runs fn, turning a panic into an error so that the writer survives.
func runFn(fn func(*Tx) error, t *Tx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("store: write panicked: %v", v)
		}
	}()
	return fn(t)
}

// MarkErased tells the transaction that it erased personal data, so that the
// WAL is scrubbed after commit. DeleteRecord calls it; other files of this
// package that erase data (forget, anonymise) call it too.
func (t *Tx) MarkErased() { t.erased, t.tip = true, nil }

// Scrub checkpoints the WAL into the database file and truncates it, so that
// the old versions of erased pages, still in WAL frames, leave the disk: with
// secure_delete the database file then holds zeros where the data was. It
// waits (busy timeout) for readers still on older snapshots.
func (s *Store) Scrub(ctx context.Context) error {
	s.ckMu.Lock()
	defer s.ckMu.Unlock()
	for range 3 {
		var busy, logFrames, done int
		if err := s.w.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &done); err != nil {
			return fmt.Errorf("store: checkpoint after erasure: %w", err)
		}
		if busy == 0 {
			return nil
		}
	}
	return errors.New("store: checkpoint after erasure could not complete: readers kept old snapshots")
}

// stmt returns st, prepared once on the writer connection, bound to this
// transaction: bound once per transaction (a group-commit batch) and reused
// by every write of the batch, instead of a new binding at every call.
func (t *Tx) stmt(ctx context.Context, st *sql.Stmt) *sql.Stmt {
	if b, ok := t.bound[st]; ok {
		return b
	}
	// Not cancelled: a binding that failed would stay in the cache for
	// the rest of the batch.
	b := t.tx.StmtContext(context.WithoutCancel(ctx), st)
	if t.bound == nil {
		t.bound = make(map[*sql.Stmt]*sql.Stmt, 16)
	}
	t.bound[st] = b
	return b
}

// PolicyVersion implements pep.Tx.
func (t *Tx) PolicyVersion(ctx context.Context, id string) (int64, time.Time, error) {
	var v int64
	var deleteAt sql.NullInt64
	err := t.stmt(ctx, t.s.ws.policyVersion).QueryRowContext(ctx, id).Scan(&v, &deleteAt)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, pep.ErrNotFound
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: %w", err)
	}
	var d time.Time
	if deleteAt.Valid {
		d = unixTime(deleteAt.Int64)
	}
	return v, d, nil
}

// InsertRecord implements pep.Tx.
func (t *Tx) InsertRecord(ctx context.Context, r pep.Record, data []byte) error {
	if data == nil {
		data = []byte{}
	}
	if r.PolicyVersion == 0 {
		r.PolicyVersion = 1
	}
	enc := 0
	if r.Encrypted {
		enc = 1
	}
	if _, err := t.stmt(ctx, t.s.ws.insertRecord).ExecContext(ctx, r.ID, r.Subject, r.StoredBy, r.ContentType, data,
		r.Policy, r.PolicyVersion, r.PolicyHash, enc, r.StoredAt.UnixNano(), nullTime(r.DeleteAt)); err != nil {
		return fmt.Errorf("store: inserting record: %w", err)
	}
	if _, err := t.stmt(ctx, t.s.ws.insertHistory).ExecContext(ctx, r.ID, r.PolicyVersion, r.PolicyHash, r.Policy,
		r.StoredAt.UnixNano()); err != nil {
		return fmt.Errorf("store: recording policy: %w", err)
	}
	return nil
}

// UpdatePolicy implements pep.Tx.
func (t *Tx) UpdatePolicy(ctx context.Context, id string, policy []byte, version int64, hash string, deleteAt, now time.Time) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE pii SET policy = ?, policy_version = ?, policy_hash = ?, delete_at = ? WHERE id = ?`,
		policy, version, hash, nullTime(deleteAt), id)
	if err != nil {
		return fmt.Errorf("store: updating policy: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return pep.ErrNotFound
	}
	if _, err := t.stmt(ctx, t.s.ws.insertHistory).ExecContext(ctx, id, version, hash, policy, now.UnixNano()); err != nil {
		return fmt.Errorf("store: recording policy: %w", err)
	}
	return nil
}

// DeleteRecord implements pep.Tx: the row goes (secure_delete overwrites its
// pages), its disclosures with it, and a tombstone keeps the owner's name so
// that the record's events stay readable.
func (t *Tx) DeleteRecord(ctx context.Context, id string, now time.Time) error {
	var subject string
	err := t.tx.QueryRowContext(ctx, `DELETE FROM pii WHERE id = ? RETURNING subject`, id).Scan(&subject)
	if errors.Is(err, sql.ErrNoRows) {
		return pep.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store: deleting record: %w", err)
	}
	t.MarkErased()
	if _, err := t.tx.ExecContext(ctx, `INSERT OR REPLACE INTO tombstones (pii, subject, deleted_at) VALUES (?, ?, ?)`,
		id, subject, now.UnixNano()); err != nil {
		return fmt.Errorf("store: deleting record: %w", err)
	}
	return nil
}

// InsertDisclosure implements pep.Tx.
func (t *Tx) InsertDisclosure(ctx context.Context, d pep.Disclosure) error {
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO disclosures (pii, recipient, purpose, disclosed_by, time) VALUES (?, ?, ?, ?, ?)`,
		d.PII, d.Recipient, d.Purpose, d.By, d.Time.UnixNano()); err != nil {
		return fmt.Errorf("store: recording disclosure: %w", err)
	}
	return nil
}

// SetPreferences implements pep.Tx.
func (t *Tx) SetPreferences(ctx context.Context, subject string, xml []byte, now time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO preferences (subject, policy, updated) VALUES (?, ?, ?)
		ON CONFLICT (subject) DO UPDATE SET policy = excluded.policy, updated = excluded.updated`,
		subject, xml, now.UnixNano()); err != nil {
		return fmt.Errorf("store: saving preferences: %w", err)
	}
	return nil
}
