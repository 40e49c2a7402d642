// Package outboxtest is the conformance suite for obligations.Outbox
// implementations: Exercise runs it against a fresh outbox per subtest.
package outboxtest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/policies"
)

// Inbox is implemented by outboxes that keep the notifications inbox; the
// inbox subtests run only for them.
type Inbox interface {
	Notifications(ctx context.Context, recipient string) ([]obligations.Notification, error)
}

// T0 is the time the suite's jobs are due around.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// Job returns a pending job for tests: a delete (local lane) or, with
// remote, a webhook notification, due at due.
func Job(id, pii string, due time.Time, remote bool) obligations.Job {
	j := obligations.Job{
		ID: id, PII: pii, Owner: "alice@example.org", ObligationID: "obligation-1",
		Trigger: policies.TriggerAtTime, Action: policies.ActionDeletePersonalData,
		Due: due, Deadline: due.Add(time.Minute), TimeDriven: true,
		Event: obligations.Event{Type: obligations.EventStored, PII: pii, Owner: "alice@example.org", Principal: "alice@example.org",
			Time: due.Add(-time.Hour), StoredAt: due.Add(-time.Hour), Seq: 1},
	}
	if remote {
		j.Trigger, j.Action, j.Media, j.Address, j.TimeDriven = policies.TriggerPersonalDataAccessedForPurpose,
			policies.ActionNotifyDataSubject, obligations.MediaWebhook, "https://hooks.example.org/x", false
		j.Event.Type, j.Event.Principal, j.Event.Purpose = obligations.EventAccessed, "bob@example.org", "https://w3id.org/dpv#ServiceProvision"
	}
	return j
}

// Exercise runs the conformance suite; open returns a fresh, empty outbox.
func Exercise(t *testing.T, open func(t *testing.T) obligations.Outbox) {
	ctx := context.Background()
	local, remote := obligations.LaneLocal, obligations.LaneRemote
	lease := 30 * time.Second

	t.Run("empty", func(t *testing.T) {
		o := open(t)
		if _, ok, err := o.NextDue(ctx, local); err != nil || ok {
			t.Fatalf("NextDue on an empty outbox = ok %v, err %v; want nothing", ok, err)
		}
		jobs, err := o.Claim(ctx, local, t0, 10, lease)
		if err != nil || len(jobs) != 0 {
			t.Fatalf("Claim on an empty outbox = %d jobs, %v", len(jobs), err)
		}
	})

	t.Run("round_trip", func(t *testing.T) {
		o := open(t)
		j := Job("job_rt", "pii-1", t0, true)
		j.URL = "https://example.org/access"
		per := policies.Duration{Days: 1}
		j.Schedule = &obligations.Schedule{Start: t0.Add(-time.Hour), End: t0.Add(240 * time.Hour), Period: per, MaxDelay: &policies.Duration{Clock: time.Minute}, Occurrence: 3, TriggerIndex: 1}
		mustEnqueue(t, o, j)
		got := claimOne(t, o, remote, t0)
		want := j
		want.State, want.Attempts = obligations.StateRunning, 1
		got.NextTry, got.Created = time.Time{}, time.Time{}
		if !reflect.DeepEqual(normal(got), normal(want)) {
			t.Fatalf("claimed job differs from the enqueued one:\n got %+v\nwant %+v", normal(got), normal(want))
		}
	})

	t.Run("enqueue_is_idempotent", func(t *testing.T) {
		o := open(t)
		j := Job("job_a", "pii-1", t0, false)
		mustEnqueue(t, o, j, j)
		mustEnqueue(t, o, j)
		jobs := claim(t, o, local, t0.Add(time.Hour), 10)
		if len(jobs) != 1 {
			t.Fatalf("a job enqueued three times was claimed %d times", len(jobs))
		}
	})

	t.Run("next_due_per_lane", func(t *testing.T) {
		o := open(t)
		mustEnqueue(t, o, Job("l1", "p", t0.Add(5*time.Second), false), Job("l2", "p", t0.Add(9*time.Second), false),
			Job("r1", "p", t0.Add(time.Second), true))
		expectNextDue(t, o, local, t0.Add(5*time.Second))
		expectNextDue(t, o, remote, t0.Add(time.Second))
	})

	t.Run("claim_due_only_earliest_first", func(t *testing.T) {
		o := open(t)
		mustEnqueue(t, o, Job("c", "p", t0.Add(10*time.Second), false), Job("a", "p", t0, false),
			Job("b", "p", t0.Add(time.Second), false), Job("r", "p", t0, true))
		jobs := claim(t, o, local, t0.Add(2*time.Second), 10)
		if ids(jobs) != "[a b]" {
			t.Fatalf("claimed %s at t0+2s; want [a b] (due, local, earliest first)", ids(jobs))
		}
		for _, j := range jobs {
			if j.State != obligations.StateRunning || j.Attempts != 1 {
				t.Errorf("claimed job %s: state %s attempts %d; want running, 1", j.ID, j.State, j.Attempts)
			}
		}
		if again := claim(t, o, local, t0.Add(2*time.Second), 10); len(again) != 0 {
			t.Fatalf("jobs under lease claimed again: %s", ids(again))
		}
		expectNextDue(t, o, local, t0.Add(10*time.Second))
	})

	t.Run("claim_limit", func(t *testing.T) {
		o := open(t)
		for i := range 5 {
			mustEnqueue(t, o, Job(fmt.Sprintf("j%d", i), "p", t0.Add(time.Duration(i)*time.Millisecond), false))
		}
		if got := claim(t, o, local, t0.Add(time.Second), 2); ids(got) != "[j0 j1]" {
			t.Fatalf("claim limit 2 = %s; want [j0 j1]", ids(got))
		}
		if got := claim(t, o, local, t0.Add(time.Second), 10); ids(got) != "[j2 j3 j4]" {
			t.Fatalf("second claim = %s; want [j2 j3 j4]", ids(got))
		}
	})

	t.Run("expired_lease_is_retaken", func(t *testing.T) {
		o := open(t)
		mustEnqueue(t, o, Job("j", "p", t0, false))
		first := claimOne(t, o, local, t0)
		if got := claim(t, o, local, t0.Add(lease-time.Second), 10); len(got) != 0 {
			t.Fatal("a job was retaken before its lease expired")
		}
		expectNextDue(t, o, local, t0.Add(lease))
		second := claimOne(t, o, local, t0.Add(lease))
		if second.Attempts != 2 {
			t.Fatalf("retaken job has attempts %d; want 2", second.Attempts)
		}
		err := o.Complete(ctx, first, obligations.Outcome{Now: t0.Add(lease)})
		if !errors.Is(err, obligations.ErrLeaseLost) {
			t.Fatalf("Complete by the worker whose lease expired = %v; want ErrLeaseLost", err)
		}
		if err := o.Complete(ctx, second, obligations.Outcome{Now: t0.Add(lease)}); err != nil {
			t.Fatalf("Complete by the current holder: %v", err)
		}
		if _, ok, _ := o.NextDue(ctx, local); ok {
			t.Fatal("a done job is still due")
		}
	})

	t.Run("complete_enqueues_next", func(t *testing.T) {
		o := open(t)
		mustEnqueue(t, o, Job("j", "p", t0, false))
		j := claimOne(t, o, local, t0)
		next := Job("j-next", "p", t0.Add(time.Hour), false)
		if err := o.Complete(ctx, j, obligations.Outcome{Now: t0, Next: []obligations.Job{next}}); err != nil {
			t.Fatal(err)
		}
		expectNextDue(t, o, local, t0.Add(time.Hour))
		if got := claim(t, o, local, t0.Add(time.Hour), 10); ids(got) != "[j-next]" {
			t.Fatalf("after completion claimed %s; want [j-next]", ids(got))
		}
		if err := o.Complete(ctx, j, obligations.Outcome{Now: t0}); !errors.Is(err, obligations.ErrLeaseLost) {
			t.Fatalf("completing a done job again = %v; want ErrLeaseLost", err)
		}
	})

	t.Run("complete_all", func(t *testing.T) {
		o := open(t)
		mustEnqueue(t, o, Job("a", "p", t0, false), Job("b", "p", t0, false), Job("c", "p", t0, false))
		jobs := claim(t, o, local, t0, 10)
		stale := jobs[1]
		stale.Attempts = 7 // as if another claim had taken it since
		next := Job("a-next", "p", t0.Add(time.Hour), false)
		errs, err := o.CompleteAll(ctx, []obligations.Completion{
			{Job: jobs[0], Outcome: obligations.Outcome{Now: t0, Next: []obligations.Job{next}}},
			{Job: stale, Outcome: obligations.Outcome{Now: t0}},
			{Job: jobs[2], Outcome: obligations.Outcome{Now: t0}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(errs) != 3 || errs[0] != nil || !errors.Is(errs[1], obligations.ErrLeaseLost) || errs[2] != nil {
			t.Fatalf("CompleteAll errs = %v; want [nil ErrLeaseLost nil]", errs)
		}
		// b is still running under its real claim; a and c are done; a's next is due in an hour.
		if err := o.Complete(ctx, jobs[1], obligations.Outcome{Now: t0}); err != nil {
			t.Fatalf("the real holder of b could not complete it: %v", err)
		}
		expectNextDue(t, o, local, t0.Add(time.Hour))
		if errs, err := o.CompleteAll(ctx, nil); err != nil || len(errs) != 0 {
			t.Fatalf("CompleteAll(nil) = %v, %v", errs, err)
		}
	})

	t.Run("fail_then_retry", func(t *testing.T) {
		o := open(t)
		mustEnqueue(t, o, Job("j", "p", t0, true))
		j := claimOne(t, o, remote, t0)
		if err := o.Fail(ctx, j, obligations.Failure{Now: t0, Err: "status 503", RetryAt: t0.Add(4 * time.Second)}); err != nil {
			t.Fatal(err)
		}
		expectNextDue(t, o, remote, t0.Add(4*time.Second))
		if got := claim(t, o, remote, t0.Add(3*time.Second), 10); len(got) != 0 {
			t.Fatal("a failed job was retried before its backoff")
		}
		again := claimOne(t, o, remote, t0.Add(4*time.Second))
		if again.Attempts != 2 || again.LastError != "status 503" {
			t.Fatalf("retried job: attempts %d last error %q; want 2, status 503", again.Attempts, again.LastError)
		}
	})

	t.Run("final_failure_is_listed", func(t *testing.T) {
		o := open(t)
		mustEnqueue(t, o, Job("j", "p", t0, true), Job("k", "p", t0, true))
		for _, j := range claim(t, o, remote, t0, 10) {
			if err := o.Fail(ctx, j, obligations.Failure{Now: t0.Add(time.Second), Err: "refused " + j.ID, Final: true}); err != nil {
				t.Fatal(err)
			}
		}
		failed, err := o.ListFailed(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(failed) != 2 || failed[0].State != obligations.StateFailed || failed[0].LastError == "" {
			t.Fatalf("ListFailed = %+v; want the two failed jobs with their errors", failed)
		}
		if _, ok, _ := o.NextDue(ctx, remote); ok {
			t.Fatal("a failed job is still due")
		}
		if got := claim(t, o, remote, t0.Add(time.Hour), 10); len(got) != 0 {
			t.Fatal("a failed job was claimed")
		}
	})

	t.Run("release_leases", func(t *testing.T) {
		o := open(t)
		mustEnqueue(t, o, Job("j", "p", t0, false))
		claimOne(t, o, local, t0)
		n, err := o.ReleaseLeases(ctx, t0.Add(time.Second))
		if err != nil || n != 1 {
			t.Fatalf("ReleaseLeases = %d, %v; want 1", n, err)
		}
		j := claimOne(t, o, local, t0.Add(time.Second))
		if j.Attempts != 2 {
			t.Fatalf("released job attempts %d; want 2", j.Attempts)
		}
	})

	t.Run("purge_keeps_open_jobs", func(t *testing.T) {
		o := open(t)
		mustEnqueue(t, o, Job("done", "p", t0, false), Job("open", "p", t0.Add(time.Hour), false))
		j := claimOne(t, o, local, t0)
		if err := o.Complete(ctx, j, obligations.Outcome{Now: t0}); err != nil {
			t.Fatal(err)
		}
		n, err := o.Purge(ctx, t0.Add(time.Minute))
		if err != nil || n != 1 {
			t.Fatalf("Purge = %d, %v; want 1", n, err)
		}
		expectNextDue(t, o, local, t0.Add(time.Hour))
	})

	t.Run("inbox_exactly_once", func(t *testing.T) {
		o := open(t)
		inbox, ok := o.(Inbox)
		if !ok {
			t.Skip("the outbox keeps no inbox")
		}
		j := Job("n", "p", t0, false)
		j.Action, j.Media, j.Address, j.TimeDriven = policies.ActionNotifyDataSubject, obligations.MediaInbox, "alice@example.org", false
		mustEnqueue(t, o, j)
		first := claimOne(t, o, local, t0)
		second := claimOne(t, o, local, t0.Add(lease)) // the first worker "crashed"
		n := &obligations.Notification{ID: j.ID, Recipient: "alice@example.org", Time: t0, Delivered: t0.Add(lease),
			PII: "p", Event: obligations.EventAccessed, Principal: "bob@example.org", Purpose: "https://w3id.org/dpv#Marketing", Text: "bob used p."}
		if err := o.Complete(ctx, second, obligations.Outcome{Now: t0.Add(lease), Notification: n}); err != nil {
			t.Fatal(err)
		}
		if err := o.Complete(ctx, first, obligations.Outcome{Now: t0.Add(lease), Notification: n}); !errors.Is(err, obligations.ErrLeaseLost) {
			t.Fatalf("late delivery by the crashed worker = %v; want ErrLeaseLost", err)
		}
		got, err := inbox.Notifications(ctx, "alice@example.org")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Text != n.Text || got[0].Principal != "bob@example.org" || !got[0].Time.Equal(t0) {
			t.Fatalf("inbox = %+v; want exactly the one notification", got)
		}
		if other, _ := inbox.Notifications(ctx, "bob@example.org"); len(other) != 0 {
			t.Fatalf("bob's inbox holds alice's notification: %+v", other)
		}
	})
}

func normal(j obligations.Job) obligations.Job {
	j.Due, j.Deadline = j.Due.UTC(), j.Deadline.UTC()
	j.Event.Time, j.Event.StoredAt = j.Event.Time.UTC(), j.Event.StoredAt.UTC()
	if s := j.Schedule; s != nil {
		c := *s
		c.Start, c.End = c.Start.UTC(), c.End.UTC()
		j.Schedule = &c
	}
	return j
}

func mustEnqueue(t *testing.T, o obligations.Outbox, jobs ...obligations.Job) {
	t.Helper()
	if err := o.Enqueue(context.Background(), jobs); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
}

func claim(t *testing.T, o obligations.Outbox, lane obligations.Lane, now time.Time, limit int) []obligations.Job {
	t.Helper()
	jobs, err := o.Claim(context.Background(), lane, now, limit, 30*time.Second)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	return jobs
}

func claimOne(t *testing.T, o obligations.Outbox, lane obligations.Lane, now time.Time) obligations.Job {
	t.Helper()
	jobs := claim(t, o, lane, now, 10)
	if len(jobs) != 1 {
		t.Fatalf("Claim at %s = %s; want one job", now, ids(jobs))
	}
	return jobs[0]
}

func expectNextDue(t *testing.T, o obligations.Outbox, lane obligations.Lane, want time.Time) {
	t.Helper()
	at, ok, err := o.NextDue(context.Background(), lane)
	if err != nil || !ok || !at.Equal(want) {
		t.Fatalf("NextDue(%s) = %s, %v, %v; want %s", lane, at, ok, err, want)
	}
}

func ids(jobs []obligations.Job) string {
	s := make([]string, len(jobs))
	for i, j := range jobs {
		s[i] = j.ID
	}
	return fmt.Sprint(s)
}
