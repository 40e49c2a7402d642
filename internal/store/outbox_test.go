package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/internal/store"
	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/obligations/outboxtest"
)

func openOutboxStore(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOutboxConformance(t *testing.T) {
	outboxtest.Exercise(t, func(t *testing.T) obligations.Outbox { return openOutboxStore(t) })
}

// TestOutboxQueriesUseIndexes checks that the scheduler's queries are
// answered from jobs_runnable, not by scanning the jobs table.
func TestOutboxQueriesUseIndexes(t *testing.T) {
	s := openOutboxStore(t)
	for name, q := range map[string]string{
		"next_due": store.NextDueSQL,
		"claim": `SELECT id FROM jobs WHERE lane = ? AND state IN ('pending', 'running') AND next_attempt_at <= ?
				ORDER BY next_attempt_at LIMIT ?`,
	} {
		t.Run(name, func(t *testing.T) {
			rows, err := s.ReadDB().Query("EXPLAIN QUERY PLAN "+q, "local", 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			p := strings.Join(plan, "; ")
			if !strings.Contains(p, "jobs_runnable") || strings.Contains(p, "TEMP B-TREE") {
				t.Fatalf("query plan %q does not walk jobs_runnable in order", p)
			}
		})
	}
}

func TestCancelTimeDriven(t *testing.T) {
	ctx := context.Background()
	s := openOutboxStore(t)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	retention := outboxtest.Job("ret", "pii-1", t0, false) // time-driven delete
	notice := outboxtest.Job("use", "pii-1", t0, true)     // event-driven webhook
	other := outboxtest.Job("other", "pii-2", t0, false)
	if err := s.Enqueue(ctx, []obligations.Job{retention, notice, other}); err != nil {
		t.Fatal(err)
	}
	var n int
	err := s.WriteTx(ctx, func(tx *store.Tx) (err error) {
		n, err = tx.CancelTimeDriven(ctx, "pii-1", t0)
		return err
	})
	if err != nil || n != 1 {
		t.Fatalf("CancelTimeDriven = %d, %v; want 1", n, err)
	}
	jobs, err := s.Jobs(ctx, "pii-1")
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]obligations.JobState{}
	for _, j := range jobs {
		states[j.ID] = j.State
	}
	if states["ret"] != obligations.StateCancelled || states["use"] != obligations.StatePending {
		t.Fatalf("states after cancel = %v; want the retention job cancelled, the notification pending", states)
	}
	if got, _ := s.Claim(ctx, obligations.LaneLocal, t0, 10, time.Minute); len(got) != 1 || got[0].ID != "other" {
		t.Fatalf("claimable local jobs = %v; want only pii-2's", got)
	}
}

// TestOutcomeEventsAreChained checks that the events a finished job writes
// land in the record's hash-chained log in the same transaction.
func TestOutcomeEventsAreChained(t *testing.T) {
	ctx := context.Background()
	s := openOutboxStore(t)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	j := outboxtest.Job("n", "pii-9", t0, true)
	if err := s.Enqueue(ctx, []obligations.Job{j}); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.Claim(ctx, obligations.LaneRemote, t0, 1, time.Minute)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	ev := obligations.Event{Type: obligations.EventNotified, PII: "pii-9", Owner: "alice@example.org",
		Recipient: "https://hooks.example.org/x", Purpose: "https://w3id.org/dpv#Marketing", Time: t0, Reason: "obligation-1 by webhook"}
	if err := s.Complete(ctx, claimed[0], obligations.Outcome{Now: t0, Events: []obligations.Event{ev}}); err != nil {
		t.Fatal(err)
	}
	evs, err := s.Events(ctx, "pii-9")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Type != "notified" || evs[0].Recipient != ev.Recipient || evs[0].Hash == "" {
		t.Fatalf("events = %+v; want one chained notified event", evs)
	}
}

func TestEmailAddress(t *testing.T) {
	s := openOutboxStore(t)
	got, err := s.EmailAddress(context.Background(), "carol@example.org")
	if err != nil || got != "carol@example.org" {
		t.Fatalf("EmailAddress of an unknown identity that is an address = %q, %v", got, err)
	}
	if _, err := s.EmailAddress(context.Background(), "service-x"); err == nil {
		t.Fatal("EmailAddress of an identity without an address succeeded")
	}
}

// TestEnqueueJobsTx enqueues through a plain *sql.Tx: an inbox
// notification due at its event is delivered in it, a later job is queued.
func TestEnqueueJobsTx(t *testing.T) {
	ctx := context.Background()
	s := openOutboxStore(t)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	notice := outboxtest.Job("n1", "pii-1", t0, false)
	notice.Action, notice.Media, notice.Address, notice.TimeDriven = "ActionNotifyDataSubject", obligations.MediaInbox, "alice@example.org", false
	notice.Event.Time = t0
	later := outboxtest.Job("later", "pii-1", t0.Add(time.Hour), false)
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnqueueJobsTx(ctx, tx, []obligations.Job{notice, later, notice}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	inbox, err := s.Notifications(ctx, "alice@example.org")
	if err != nil || len(inbox) != 1 || inbox[0].ID != "n1" {
		t.Fatalf("inbox = %+v, %v; want the notification once", inbox, err)
	}
	jobs, _ := s.Jobs(ctx, "pii-1")
	if len(jobs) != 1 || jobs[0].ID != "later" || jobs[0].State != obligations.StatePending {
		t.Fatalf("jobs = %+v; want only the later job, pending (the delivered notification needs no jobs row)", jobs)
	}
	evs, _ := s.Events(ctx, "pii-1")
	if len(evs) != 1 || evs[0].Type != "notified" {
		t.Fatalf("events = %+v; want one notified event", evs)
	}
}
