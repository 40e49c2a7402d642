// Package obligations is Sticky's event handler and obligation handler: it
// turns events into due obligations from a record's sticky policy, keeps
// them in a durable outbox, and performs them (delete, anonymise, notify by
// inbox, email or webhook, log) with retries.
//
// Plan is pure: from a record's terms (policies.DataHandling) and one Event
// it returns the Jobs the event triggers, each with a stable id (the
// idempotency key), a due time and a deadline. pep writes them with
// (*store.Tx).EnqueueJobs in the transaction of the event itself, so that
// nothing owed is ever lost. A Runner claims due jobs from an Outbox
// (internal/store implements it), performs them through Performers — a
// Deleter and an Anonymiser that pep implements, an SMTPMailer, a
// WebhookPoster — and marks them done, retrying failures with exponential
// backoff until they end as failed (an obligation_failed event and the admin
// listing). Exact deadlines are kept by a timer on the next due time, never
// by scanning the jobs. The only use of net/http is webhook.go.
//
// docs/obligations.md describes the semantics and the delivery guarantees.
package obligations
