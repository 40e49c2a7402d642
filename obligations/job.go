package obligations

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"

	"github.com/stickypolicy/sticky/policies"
)

// JobState is where a job is in its life.
type JobState string

// The job states. A job is pending until a worker claims it (running, under
// a lease that expires), then done or, after its last try, failed.
// Cancelled jobs were time-driven jobs of a record that was deleted or whose
// policy was replaced.
const (
	StatePending   JobState = "pending"
	StateRunning   JobState = "running"
	StateDone      JobState = "done"
	StateFailed    JobState = "failed"
	StateCancelled JobState = "cancelled"
)

// Media of ActionNotifyDataSubject.
const (
	MediaInbox   = "inbox"
	MediaEmail   = "email"
	MediaWebhook = "webhook"
)

// Lane separates jobs performed locally (delete, anonymise, inbox, log:
// quick database work) from jobs that talk to the outside world (email,
// webhook) so that a slow webhook never delays a due deletion.
type Lane string

// The two lanes.
const (
	LaneLocal  Lane = "local"
	LaneRemote Lane = "remote"
)

// AllLanes lists every lane.
func AllLanes() []Lane { return []Lane{LaneLocal, LaneRemote} }

// DelegateNoticeID is the ObligationID of the notice a recipient gets when a
// record is shared with it (not a PPL obligation: Sticky always sends it).
const DelegateNoticeID = "sticky:delegate-notice"

// Job is one due obligation: an action to perform on a record, due at a time
// and to be done by a deadline. Jobs are planned from events by Plan and kept
// durably in an Outbox.
type Job struct {
	// ID is stable: the same event planned twice yields the same ID, and it
	// is the idempotency key sent with webhooks.
	ID string
	// PII is the record the job is about.
	PII string
	// Owner is the record's data subject.
	Owner string
	// ObligationID names the obligation of the policy (its ObligationId or
	// "obligation-N"), or DelegateNoticeID.
	ObligationID string
	// Trigger is the trigger that fired.
	Trigger policies.TriggerKind
	// Action is what to do.
	Action policies.ActionKind
	// Media and Address say where a notification goes.
	Media   string
	Address string
	// URL is the TriggerDataSubjectAccess url, when given.
	URL string
	// Due is when the job may run; Deadline when it must have run.
	Due      time.Time
	Deadline time.Time
	// Event is what caused the job (for the notification text).
	Event Event
	// Schedule is set for TriggerPeriodic jobs: the next occurrence is
	// planned when this one is done.
	Schedule *Schedule
	// TimeDriven marks jobs planned from a time trigger (TriggerAtTime,
	// TriggerPeriodic): they are cancelled when the record is deleted or
	// its policy replaced.
	TimeDriven bool

	// The fields below are kept by the outbox.

	State     JobState
	Attempts  int
	LastError string
	NextTry   time.Time
	Created   time.Time
}

// IdempotencyKey is the key a receiver uses to drop duplicate deliveries of
// the job; it is the same on every retry.
func (j Job) IdempotencyKey() string { return j.ID }

// Lane is where the job runs.
func (j Job) Lane() Lane {
	if j.Action == policies.ActionNotifyDataSubject && (j.Media == MediaEmail || j.Media == MediaWebhook) {
		return LaneRemote
	}
	return LaneLocal
}

// Schedule is the remainder of a TriggerPeriodic: occurrences at
// Start + k*Period for k = 0, 1, ... up to End (inclusive; zero = no end).
type Schedule struct {
	Start      time.Time
	End        time.Time
	Period     policies.Duration
	MaxDelay   *policies.Duration
	Occurrence int // k of this job's occurrence
	// TriggerIndex is the trigger's position in its obligation (part of
	// the job id).
	TriggerIndex int
}

// jobID derives a stable id from what identifies a job: the event, the
// obligation and trigger that fired, the occurrence, and the target.
func jobID(ev Event, obligation string, trigger, occurrence int, action policies.ActionKind, media, address string) string {
	h := sha256.New()
	var buf [8]byte
	str := func(s string) {
		binary.BigEndian.PutUint64(buf[:], uint64(len(s)))
		h.Write(buf[:])
		h.Write([]byte(s))
	}
	num := func(n int64) {
		binary.BigEndian.PutUint64(buf[:], uint64(n))
		h.Write(buf[:])
	}
	str("sticky-job-v1")
	str(ev.PII)
	str(string(ev.Type))
	num(ev.Seq)
	num(ev.Time.UnixNano())
	str(ev.Principal)
	str(ev.Purpose)
	str(ev.Recipient)
	str(obligation)
	num(int64(trigger))
	num(int64(occurrence))
	str(string(action))
	str(media)
	str(address)
	return "job_" + hex.EncodeToString(h.Sum(nil)[:16])
}

// DeliveredAtEvent reports whether j is an inbox notification due when its
// event happened: the store delivers such a notice inside the event's own
// transaction (the inbox row and its notified event), so it never reaches
// the outbox and the runner need not be woken for it.
func DeliveredAtEvent(j Job) bool {
	return j.Action == policies.ActionNotifyDataSubject && j.Media == MediaInbox && j.Address != "" &&
		!j.TimeDriven && !j.Due.After(j.Event.Time)
}
