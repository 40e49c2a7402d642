package obligations

import (
	"context"
	"errors"
	"time"
)

// ErrLeaseLost is returned by Complete, DeliverInbox and Fail when the job is
// no longer held by the caller's claim (its lease expired and it was claimed
// again, or it was cancelled).
var ErrLeaseLost = errors.New("obligations: job is no longer claimed by this worker")

// Notification is one message in a principal's inbox.
type Notification struct {
	// ID is the id of the job that delivered it: one job, one notification.
	ID string
	// Recipient is the identity whose inbox holds it.
	Recipient string
	// Time is when the event it tells about happened; Delivered when it
	// reached the inbox.
	Time      time.Time
	Delivered time.Time
	PII       string
	Event     EventType
	Principal string
	Purpose   string
	Text      string
}

// Outcome is what finishing a claimed job writes, in one transaction with
// marking it done.
type Outcome struct {
	Now time.Time
	// Next are jobs to enqueue (the next occurrence of a periodic job).
	Next []Job
	// Events are appended to the records' event logs ("notified",
	// "logged").
	Events []Event
	// Notification, when set, is inserted into the recipient's inbox
	// (once: a notification whose ID is already there is not inserted
	// again).
	Notification *Notification
}

// Completion is a claimed job and what finishing it writes.
type Completion struct {
	Job     Job
	Outcome Outcome
}

// Failure is what Fail records about one failed try.
type Failure struct {
	Now time.Time
	// Err is the error text (no data in it).
	Err string
	// RetryAt is when to try again; ignored when Final.
	RetryAt time.Time
	// Final ends the job as failed.
	Final bool
	// Events are appended to the records' event logs in the same
	// transaction ("obligation_failed" when Final).
	Events []Event
}

// Outbox is the durable store of jobs the Runner needs. internal/store
// implements it on SQLite; obligations/outboxtest has its conformance suite.
//
// A job is runnable when it is pending and its next try is due, or running
// with an expired lease (its worker died). NextDue is the earliest time a job
// of the lane becomes runnable; it must be answered from an index.
//
// Complete and Fail act only on a job still held by the caller's claim (the
// same attempt, state running) and return ErrLeaseLost otherwise; a job
// cancelled while it ran is left cancelled and they return nil, writing
// nothing.
type Outbox interface {
	// Enqueue adds jobs; a job whose ID is already known is ignored.
	Enqueue(ctx context.Context, jobs []Job) error
	// Claim leases up to limit runnable jobs of the lane, earliest first,
	// until now+lease, counting one more attempt for each.
	Claim(ctx context.Context, lane Lane, now time.Time, limit int, lease time.Duration) ([]Job, error)
	// Complete marks a claimed job done and writes the outcome, in one
	// transaction.
	Complete(ctx context.Context, j Job, o Outcome) error
	// CompleteAll is Complete for several jobs in one transaction. A job
	// no longer held by its claim is skipped with ErrLeaseLost in errs
	// (same index); err reports a failure of the whole transaction, which
	// then wrote nothing.
	CompleteAll(ctx context.Context, cs []Completion) (errs []error, err error)
	// Fail records a failed try of a claimed job: pending again from
	// f.RetryAt, or failed for good when f.Final.
	Fail(ctx context.Context, j Job, f Failure) error
	// NextDue returns when the next job of the lane becomes runnable; ok is
	// false when none is pending or running.
	NextDue(ctx context.Context, lane Lane) (at time.Time, ok bool, err error)
	// ReleaseLeases makes every running job runnable now (at start-up: the
	// previous process's claims died with it) and returns how many.
	ReleaseLeases(ctx context.Context, now time.Time) (int, error)
	// ListFailed returns up to limit failed jobs, most recent first.
	ListFailed(ctx context.Context, limit int) ([]Job, error)
	// Purge forgets done and cancelled jobs last updated before the given
	// time and returns how many.
	Purge(ctx context.Context, before time.Time) (int, error)
}
