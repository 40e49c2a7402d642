package obligations_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/policies"
)

// wallClock is the real clock; Set is refused (the live tests run in real
// time).
type wallClock struct{ obligations.SystemClock }

func (wallClock) Set(time.Time) { panic("the wall clock cannot be set") }

// timedDeleter notes when each record was deleted.
type timedDeleter struct {
	inner obligations.Deleter
	mu    sync.Mutex
	at    map[string]time.Time
}

func (d *timedDeleter) DeleteForRetention(ctx context.Context, pii string) error {
	err := d.inner.DeleteForRetention(ctx, pii)
	d.mu.Lock()
	if _, seen := d.at[pii]; !seen {
		d.at[pii] = time.Now()
	}
	d.mu.Unlock()
	return err
}

func (d *timedDeleter) deletedAt(pii string) (time.Time, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.at[pii]
	return t, ok
}

func waitDeleted(t *testing.T, d *timedDeleter, pii string, limit time.Duration) time.Time {
	t.Helper()
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		if at, ok := d.deletedAt(pii); ok {
			return at
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s was not deleted within %s", pii, limit)
	return time.Time{}
}

// TestRunKeepsDeadlines runs the real scheduler: what fell due while the
// server was down (including a job claimed by the dead process) is deleted
// at start, and a new record is deleted within a second of its deadline
// after a Kick, without any polling scan.
func TestRunKeepsDeadlines(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the scheduler in real time (about a second)")
	}
	h := newHarnessClock(t, wallClock{}, obligations.Performers{})
	del := &timedDeleter{inner: storeDeleter{s: h.s, clock: obligations.SystemClock{}}, at: map[string]time.Time{}}
	h.r = obligations.NewRunner(h.s, obligations.Performers{Deleter: del}, obligations.SystemClock{})

	second := policies.Duration{Clock: time.Second}
	h.store("overdue", retention(policies.Duration{Clock: time.Millisecond}))
	h.store("claimed", retention(policies.Duration{Clock: time.Millisecond}))
	time.Sleep(2 * time.Millisecond)
	// A worker of the previous process claimed "claimed" for an hour, then died.
	if _, err := h.s.Claim(h.ctx, obligations.LaneLocal, time.Now(), 1, time.Hour); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- h.r.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	for _, id := range []string{"overdue", "claimed"} {
		// Overdue at start: first thing (the 1-second rule is for deadlines
		// that fall while the server runs, checked below).
		if at := waitDeleted(t, del, id, 3*time.Second); at.Sub(start) > 2*time.Second {
			t.Errorf("%s, overdue at start, was deleted %s after start; want it first thing", id, at.Sub(start))
		}
	}

	stored := time.Now()
	h.store("fresh", retention(second))
	h.r.Kick()
	deadline := stored.Add(time.Second)
	at := waitDeleted(t, del, "fresh", 3*time.Second)
	if at.Before(deadline) {
		t.Fatalf("deleted %s before its deadline", deadline.Sub(at))
	}
	if late := at.Sub(deadline); late > time.Second {
		t.Fatalf("deleted %s after its deadline; want within 1s", late)
	}
	if h.exists("fresh") || h.exists("overdue") || h.exists("claimed") {
		t.Fatal("a record past its deadline still exists")
	}
}
