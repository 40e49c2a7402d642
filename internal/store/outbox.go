package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/pep"
	"github.com/stickypolicy/sticky/policies"
)

// This file implements obligations.Outbox on the jobs table (migration
// 0002) and the notifications inbox.

var _ obligations.Outbox = (*Store)(nil)

// jobPayload is the JSON kept in jobs.payload: what a job needs beyond its
// columns.
type jobPayload struct {
	Event    payloadEvent          `json:"event"`
	Schedule *obligations.Schedule `json:"schedule,omitempty"`
	URL      string                `json:"url,omitempty"`
}

type payloadEvent struct {
	Type      obligations.EventType `json:"type"`
	PII       string                `json:"pii"`
	Owner     string                `json:"owner,omitempty"`
	Principal string                `json:"principal,omitempty"`
	Purpose   string                `json:"purpose,omitempty"`
	Recipient string                `json:"recipient,omitempty"`
	Time      time.Time             `json:"time"`
	StoredAt  time.Time             `json:"stored_at"`
	Seq       int64                 `json:"seq,omitempty"`
}

const insertJobSQL = `INSERT INTO jobs (idempotency_key, pii, owner, obligation, trigger_kind, action, media, address, lane,
	time_driven, payload, due_at, deadline, state, attempts, next_attempt_at, created, updated)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (idempotency_key) DO NOTHING`

const jobColumns = `idempotency_key, pii, owner, obligation, trigger_kind, action, media, address, time_driven, payload,
	due_at, deadline, state, attempts, next_attempt_at, last_error, created`

// EnqueueJobsTx adds jobs inside the caller's transaction (the one that
// writes the event that planned them), like (*Tx).EnqueueJobs. A job whose
// id is already known is ignored, so planning one event twice enqueues its
// jobs once.
func (s *Store) EnqueueJobsTx(ctx context.Context, tx *sql.Tx, jobs []obligations.Job) error {
	return (&Tx{s: s, tx: tx}).EnqueueJobs(ctx, jobs)
}

// EnqueueJobs adds jobs inside this transaction; see EnqueueJobsTx. An
// inbox notification due when its event happened (a use, a disclosure, a
// denial) is not queued: it is delivered here, in the event's own
// transaction — the inbox row (keyed by the job's id, so exactly once) and
// its "notified" event, which are its whole record: no jobs row is written
// for it (it would be a finished job at once, and the jobs table's indexes
// made it the costliest write of a read).
func (t *Tx) EnqueueJobs(ctx context.Context, jobs []obligations.Job) error {
	queued := jobs[:0:0]
	var f *finisher
	// The notices of the event this write appended last chain their
	// notified events on it (AppendEvent's tip) when every inline job is
	// about that event.
	tip := t.tip
	for _, j := range jobs {
		if inline(j) && (tip == nil || j.PII != tip.pii || j.Event.Seq != tip.seq) {
			tip = nil
		}
	}
	t.tip, t.follow = tip, tip != nil
	defer func() { t.follow = false }()
	for _, j := range jobs {
		if !inline(j) {
			queued = append(queued, j)
			continue
		}
		if f == nil {
			f = newFinisher(ctx, t)
		}
		if err := f.deliver(ctx, j); err != nil {
			return err
		}
	}
	t.tip = nil
	return enqueueTx(ctx, t, queued, time.Now())
}

// inline reports whether j is an inbox notification due at its event.
func inline(j obligations.Job) bool { return obligations.DeliveredAtEvent(j) }

// deliver writes an inbox notification and its "notified" event at once.
func (f *finisher) deliver(ctx context.Context, j obligations.Job) error {
	n, ev := obligations.InboxDelivery(j, j.Event.Time)
	res, err := f.exec(ctx, f.notify, notificationSQL, n.ID, n.Recipient, n.Time.UnixNano(), n.Delivered.UnixNano(),
		n.PII, string(n.Event), n.Principal, n.Purpose, n.Text)
	if err != nil {
		return fmt.Errorf("store: delivering notification: %w", err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return nil // delivered before: the same event planned twice
	}
	return f.appendEvents(ctx, []obligations.Event{ev})
}

// CancelTimeDriven cancels the pending and running time-driven jobs
// (TriggerAtTime, TriggerPeriodic) of a record, inside this transaction:
// pep calls it when the record is deleted or its policy replaced (and then
// enqueues the jobs the new policy plans). It returns how many it cancelled.
func (t *Tx) CancelTimeDriven(ctx context.Context, pii string, now time.Time) (int, error) {
	res, err := t.tx.ExecContext(ctx, `UPDATE jobs SET state = 'cancelled', updated = ?
		WHERE pii = ? AND state IN ('pending', 'running') AND time_driven = 1`, now.UnixNano(), pii)
	if err != nil {
		return 0, fmt.Errorf("store: cancelling jobs: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// Enqueue implements obligations.Outbox.
func (s *Store) Enqueue(ctx context.Context, jobs []obligations.Job) error {
	if len(jobs) == 0 {
		return nil
	}
	return s.WriteTx(ctx, func(t *Tx) error { return t.EnqueueJobs(ctx, jobs) })
}

// enqueue inserts pending jobs in tx, preparing the insert per call (for
// transactions that are not a *Tx); enqueueTx uses the prepared statement.
func enqueue(ctx context.Context, tx *sql.Tx, jobs []obligations.Job, now time.Time) error {
	return insertJobs(ctx, tx, nil, jobs, now, obligations.StatePending)
}

func enqueueTx(ctx context.Context, t *Tx, jobs []obligations.Job, now time.Time) error {
	return insertJobs(ctx, t.tx, t.stmt(ctx, t.s.ws.ob.insertJob), jobs, now, obligations.StatePending)
}

// insertJobs inserts jobs in the given state: pending, or done for the
// inbox notifications delivered in their event's transaction (kept for the
// record like any finished job). st is the prepared insert bound to tx, or
// nil.
func insertJobs(ctx context.Context, tx *sql.Tx, st *sql.Stmt, jobs []obligations.Job, now time.Time, state obligations.JobState) error {
	if len(jobs) == 0 {
		return nil
	}
	for _, j := range jobs {
		args, err := jobArgs(j, now, state)
		if err != nil {
			return err
		}
		if st != nil {
			_, err = st.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertJobSQL, args...)
		}
		if err != nil {
			return fmt.Errorf("store: enqueueing job: %w", err)
		}
	}
	return nil
}

func jobArgs(j obligations.Job, now time.Time, state obligations.JobState) ([]any, error) {
	if j.ID == "" || j.PII == "" || j.Action == "" {
		return nil, errors.New("store: a job needs an id, a record and an action")
	}
	if j.Due.IsZero() {
		return nil, fmt.Errorf("store: job %s has no due time", j.ID)
	}
	deadline := j.Deadline
	if deadline.IsZero() {
		deadline = j.Due
	}
	ev := j.Event
	p, err := json.Marshal(jobPayload{
		Event: payloadEvent{Type: ev.Type, PII: ev.PII, Owner: ev.Owner, Principal: ev.Principal, Purpose: ev.Purpose,
			Recipient: ev.Recipient, Time: ev.Time.UTC(), StoredAt: ev.StoredAt.UTC(), Seq: ev.Seq},
		Schedule: j.Schedule,
		URL:      j.URL,
	})
	if err != nil {
		return nil, fmt.Errorf("store: encoding job %s: %w", j.ID, err)
	}
	td := 0
	if j.TimeDriven {
		td = 1
	}
	due := j.Due.UnixNano()
	attempts := 0
	if state == obligations.StateDone {
		attempts = 1
	}
	return []any{j.ID, j.PII, j.Owner, j.ObligationID, string(j.Trigger), string(j.Action), j.Media, j.Address,
		string(j.Lane()), td, string(p), due, deadline.UnixNano(), string(state), attempts, due, now.UnixNano(), now.UnixNano()}, nil
}

func scanJob(row scanner) (obligations.Job, error) {
	var j obligations.Job
	var trig, action, state, payload string
	var td int
	var due, deadline, next, created int64
	if err := row.Scan(&j.ID, &j.PII, &j.Owner, &j.ObligationID, &trig, &action, &j.Media, &j.Address, &td, &payload,
		&due, &deadline, &state, &j.Attempts, &next, &j.LastError, &created); err != nil {
		return obligations.Job{}, err
	}
	j.Trigger, j.Action, j.State = policies.TriggerKind(trig), policies.ActionKind(action), obligations.JobState(state)
	j.TimeDriven = td != 0
	j.Due, j.Deadline, j.NextTry, j.Created = unixTime(due), unixTime(deadline), unixTime(next), unixTime(created)
	var p jobPayload
	if err := json.Unmarshal([]byte(payload), &p); err != nil {
		return obligations.Job{}, fmt.Errorf("store: job %s: bad payload: %w", j.ID, err)
	}
	e := p.Event
	j.Event = obligations.Event{Type: e.Type, PII: e.PII, Owner: e.Owner, Principal: e.Principal, Purpose: e.Purpose,
		Recipient: e.Recipient, Time: e.Time, StoredAt: e.StoredAt, Seq: e.Seq}
	j.Schedule, j.URL = p.Schedule, p.URL
	return j, nil
}

func scanJobs(rows *sql.Rows) ([]obligations.Job, error) {
	defer rows.Close()
	out := []obligations.Job{}
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return out, nil
}

// Claim implements obligations.Outbox: one UPDATE ... RETURNING over the
// jobs_runnable index.
func (s *Store) Claim(ctx context.Context, lane obligations.Lane, now time.Time, limit int, lease time.Duration) ([]obligations.Job, error) {
	if limit <= 0 {
		return nil, nil
	}
	// A tick that finds nothing due costs one indexed read, not a write
	// transaction.
	var one int
	err := s.r.QueryRowContext(ctx, `SELECT 1 FROM jobs WHERE lane = ? AND state IN ('pending', 'running') AND next_attempt_at <= ?
		ORDER BY next_attempt_at LIMIT 1`, string(lane), now.UnixNano()).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	var jobs []obligations.Job
	err = s.WriteTx(ctx, func(t *Tx) error {
		rows, err := t.tx.QueryContext(ctx, `UPDATE jobs SET state = 'running', attempts = attempts + 1,
				next_attempt_at = ?, updated = ?
			WHERE id IN (SELECT id FROM jobs WHERE lane = ? AND state IN ('pending', 'running') AND next_attempt_at <= ?
				ORDER BY next_attempt_at LIMIT ?)
			RETURNING `+jobColumns, now.Add(lease).UnixNano(), now.UnixNano(), string(lane), now.UnixNano(), limit)
		if err != nil {
			return fmt.Errorf("store: claiming jobs: %w", err)
		}
		jobs, err = scanJobs(rows)
		return err
	})
	if err != nil {
		return nil, err
	}
	// RETURNING gives no order; hand them out earliest first.
	slices.SortStableFunc(jobs, func(a, b obligations.Job) int { return a.Due.Compare(b.Due) })
	return jobs, nil
}

// The statements of finishing a job.
const (
	claimedSQL      = `SELECT state, attempts FROM jobs WHERE idempotency_key = ?`
	doneSQL         = `UPDATE jobs SET state = 'done', last_error = '', updated = ? WHERE idempotency_key = ?`
	notificationSQL = `INSERT INTO notifications (id, recipient, time, delivered, pii, event, principal, purpose, text)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`
	policyHashSQL = `SELECT hash FROM policy_history WHERE pii = ? ORDER BY version DESC LIMIT 1`
)

// outboxStmts are the outbox's hot statements, prepared once with the
// store's other writer statements (statements.go).
type outboxStmts struct {
	insertJob, claimed, done, notify, policyHash *sql.Stmt
}

func (o *outboxStmts) all() []*sql.Stmt {
	return []*sql.Stmt{o.insertJob, o.claimed, o.done, o.notify, o.policyHash}
}

func (o *outboxStmts) items() []struct {
	dst  **sql.Stmt
	text string
} {
	return []struct {
		dst  **sql.Stmt
		text string
	}{{&o.insertJob, insertJobSQL}, {&o.claimed, claimedSQL}, {&o.done, doneSQL}, {&o.notify, notificationSQL}, {&o.policyHash, policyHashSQL}}
}

// finisher finishes jobs inside one transaction, with the store's prepared
// statements bound to it.
type finisher struct {
	t                                 *Tx
	claimed, done, notify, policyHash *sql.Stmt
}

func newFinisher(ctx context.Context, t *Tx) *finisher {
	ob := &t.s.ws.ob
	return &finisher{t: t, claimed: t.stmt(ctx, ob.claimed), done: t.stmt(ctx, ob.done), notify: t.stmt(ctx, ob.notify),
		policyHash: t.stmt(ctx, ob.policyHash)}
}

func (f *finisher) exec(ctx context.Context, st *sql.Stmt, text string, args ...any) (sql.Result, error) {
	if st != nil {
		return st.ExecContext(ctx, args...)
	}
	return f.t.tx.ExecContext(ctx, text, args...)
}

func (f *finisher) queryRow(ctx context.Context, st *sql.Stmt, text string, args ...any) *sql.Row {
	if st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return f.t.tx.QueryRowContext(ctx, text, args...)
}

// claimedBy checks that j is still held by the caller's claim: (true, nil)
// when it is, (false, nil) when it was cancelled meanwhile, ErrLeaseLost
// otherwise.
func (f *finisher) claimedBy(ctx context.Context, j obligations.Job) (bool, error) {
	var state string
	var attempts int
	err := f.queryRow(ctx, f.claimed, claimedSQL, j.ID).Scan(&state, &attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return false, obligations.ErrLeaseLost
	}
	if err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	switch {
	case state == string(obligations.StateCancelled):
		return false, nil
	case state != string(obligations.StateRunning) || attempts != j.Attempts:
		return false, obligations.ErrLeaseLost
	}
	return true, nil
}

// complete marks j done and writes its outcome.
func (f *finisher) complete(ctx context.Context, j obligations.Job, o obligations.Outcome) error {
	ok, err := f.claimedBy(ctx, j)
	if !ok || err != nil {
		return err
	}
	if _, err := f.exec(ctx, f.done, doneSQL, o.Now.UnixNano(), j.ID); err != nil {
		return fmt.Errorf("store: completing job: %w", err)
	}
	if n := o.Notification; n != nil {
		if _, err := f.exec(ctx, f.notify, notificationSQL, n.ID, n.Recipient, n.Time.UnixNano(), n.Delivered.UnixNano(),
			n.PII, string(n.Event), n.Principal, n.Purpose, n.Text); err != nil {
			return fmt.Errorf("store: delivering notification: %w", err)
		}
	}
	if err := f.appendEvents(ctx, o.Events); err != nil {
		return err
	}
	return enqueueTx(ctx, f.t, o.Next, o.Now)
}

// appendEvents appends the events the obligation handler writes to the
// records' hash-chained logs, with the hash of the policy last in force for
// the record.
func (f *finisher) appendEvents(ctx context.Context, evs []obligations.Event) error {
	for _, ev := range evs {
		var hash string
		err := f.queryRow(ctx, f.policyHash, policyHashSQL, ev.PII).Scan(&hash)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: %w", err)
		}
		if _, err := f.t.AppendEvent(ctx, pep.EventInput{
			PII: ev.PII, Subject: ev.Owner, Time: ev.Time, Type: string(ev.Type), Principal: ev.Principal,
			Purpose: ev.Purpose, Recipient: ev.Recipient, Reason: ev.Reason, PolicyHash: hash,
		}); err != nil {
			return err
		}
	}
	return nil
}

// Complete implements obligations.Outbox.
func (s *Store) Complete(ctx context.Context, j obligations.Job, o obligations.Outcome) error {
	return s.WriteTx(ctx, func(t *Tx) error {
		return newFinisher(ctx, t).complete(ctx, j, o)
	})
}

// CompleteAll implements obligations.Outbox: one transaction.
func (s *Store) CompleteAll(ctx context.Context, cs []obligations.Completion) ([]error, error) {
	errs := make([]error, len(cs))
	if len(cs) == 0 {
		return errs, nil
	}
	err := s.WriteTx(ctx, func(t *Tx) error {
		f := newFinisher(ctx, t)
		for i, c := range cs {
			err := f.complete(ctx, c.Job, c.Outcome)
			if errors.Is(err, obligations.ErrLeaseLost) {
				errs[i] = err
				continue
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return errs, nil
}

// Fail implements obligations.Outbox.
func (s *Store) Fail(ctx context.Context, j obligations.Job, f obligations.Failure) error {
	return s.WriteTx(ctx, func(t *Tx) error {
		fin := newFinisher(ctx, t)
		ok, err := fin.claimedBy(ctx, j)
		if !ok || err != nil {
			return err
		}
		msg := f.Err
		if len(msg) > 2000 {
			msg = msg[:2000]
		}
		if f.Final {
			_, err = t.tx.ExecContext(ctx, `UPDATE jobs SET state = 'failed', last_error = ?, updated = ? WHERE idempotency_key = ?`,
				msg, f.Now.UnixNano(), j.ID)
		} else {
			_, err = t.tx.ExecContext(ctx, `UPDATE jobs SET state = 'pending', last_error = ?, next_attempt_at = ?, updated = ?
				WHERE idempotency_key = ?`, msg, f.RetryAt.UnixNano(), f.Now.UnixNano(), j.ID)
		}
		if err != nil {
			return fmt.Errorf("store: recording job failure: %w", err)
		}
		return fin.appendEvents(ctx, f.Events)
	})
}

// NextDue implements obligations.Outbox from the jobs_runnable index.
func (s *Store) NextDue(ctx context.Context, lane obligations.Lane) (time.Time, bool, error) {
	var at int64
	err := s.r.QueryRowContext(ctx, nextDueSQL, string(lane)).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: %w", err)
	}
	return unixTime(at), true, nil
}

const nextDueSQL = `SELECT next_attempt_at FROM jobs WHERE lane = ? AND state IN ('pending', 'running')
	ORDER BY next_attempt_at LIMIT 1`

// ReleaseLeases implements obligations.Outbox.
func (s *Store) ReleaseLeases(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.WriteTx(ctx, func(t *Tx) error {
		res, err := t.tx.ExecContext(ctx, `UPDATE jobs SET state = 'pending', next_attempt_at = min(next_attempt_at, ?), updated = ?
			WHERE state = 'running'`, now.UnixNano(), now.UnixNano())
		if err != nil {
			return fmt.Errorf("store: releasing leases: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return int(n), err
}

// ListFailed implements obligations.Outbox.
func (s *Store) ListFailed(ctx context.Context, limit int) ([]obligations.Job, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE state = 'failed' ORDER BY updated DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return scanJobs(rows)
}

// Jobs returns a record's jobs in every state, by due time (for tests and
// the admin).
func (s *Store) Jobs(ctx context.Context, pii string) ([]obligations.Job, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE pii = ? ORDER BY due_at, id`, pii)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return scanJobs(rows)
}

// Purge implements obligations.Outbox.
func (s *Store) Purge(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.WriteTx(ctx, func(t *Tx) error {
		res, err := t.tx.ExecContext(ctx, `DELETE FROM jobs WHERE state IN ('done', 'cancelled') AND updated < ?`, before.UnixNano())
		if err != nil {
			return fmt.Errorf("store: purging jobs: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return int(n), err
}

// MaxNotifications is how many notifications Notifications returns at most
// (the newest).
const MaxNotifications = 10_000

// Notifications returns the recipient's inbox, oldest first (newest last),
// at most MaxNotifications of the newest.
func (s *Store) Notifications(ctx context.Context, recipient string) ([]obligations.Notification, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, recipient, time, delivered, pii, event, principal, purpose, text FROM (
			SELECT * FROM notifications WHERE recipient = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq`, recipient, MaxNotifications)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	out := []obligations.Notification{}
	for rows.Next() {
		var n obligations.Notification
		var t, d int64
		var ev string
		if err := rows.Scan(&n.ID, &n.Recipient, &t, &d, &n.PII, &ev, &n.Principal, &n.Purpose, &n.Text); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		n.Time, n.Delivered, n.Event = unixTime(t), unixTime(d), obligations.EventType(ev)
		out = append(out, n)
	}
	return out, rows.Err()
}

// EmailAddress implements obligations.AddressBook: the --email of a
// principal, or the identity itself when it is an address and none was
// given.
func (s *Store) EmailAddress(ctx context.Context, identity string) (string, error) {
	var email string
	err := s.r.QueryRowContext(ctx, `SELECT email FROM principals WHERE name = ?`, identity).Scan(&email)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store: %w", err)
	}
	if email == "" && strings.Contains(identity, "@") {
		email = identity
	}
	if email == "" {
		return "", fmt.Errorf("store: no email address for %q: %w", identity, pep.ErrNotFound)
	}
	return email, nil
}
