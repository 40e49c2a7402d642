package obligations_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/internal/store"
	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/pep"
	"github.com/stickypolicy/sticky/policies"
)

// seedRetention stores n records whose retention deadlines are spread
// evenly over span from start, each with its retention job pending in the
// outbox, as pep would have written them (in batches of 10,000 per
// transaction).
func seedRetention(b *testing.B, s *store.Store, n int, start time.Time, span time.Duration) {
	b.Helper()
	ctx := context.Background()
	planner := obligations.NewPlanner(nil)
	const batch = 10_000
	for lo := 0; lo < n; lo += batch {
		err := s.WriteTx(ctx, func(tx *store.Tx) error {
			var jobs []obligations.Job
			for i := lo; i < min(lo+batch, n); i++ {
				id := fmt.Sprintf("rec-%07d", i)
				deadline := start.Add(span / time.Duration(n) * time.Duration(i))
				storedAt := deadline.Add(-24 * time.Hour)
				if err := tx.InsertRecord(ctx, pep.Record{ID: id, Subject: "alice@example.org", StoredBy: "alice@example.org",
					ContentType: "text/plain", Policy: []byte("<p/>"), PolicyHash: "h", StoredAt: storedAt, DeleteAt: deadline},
					[]byte("0123456789abcdef")); err != nil {
					return err
				}
				jobs = append(jobs, planner.Plan(retention(policies.Duration{Days: 1}), obligations.Event{
					Type: obligations.EventStored, PII: id, Owner: "alice@example.org", Principal: "alice@example.org",
					Time: storedAt, StoredAt: storedAt, Seq: 1})...)
			}
			return tx.EnqueueJobs(ctx, jobs)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScheduler measures, with n retention jobs pending (deadlines
// spread over a day), the cost of a scheduler tick when nothing is due
// (NextDue + an empty Claim: what the timer costs), and the throughput of
// retention deletion (each deletion: claim, erase the record with
// secure_delete and scrub the WAL, log "deleted", cancel, complete).
func BenchmarkScheduler(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		b.Run(fmt.Sprintf("pending=%d", n), func(b *testing.B) {
			ctx := context.Background()
			s, err := store.Open(ctx, b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			start := t0.Add(time.Hour)
			seedRetention(b, s, n, start, 24*time.Hour)
			clock := &fakeClock{t: t0}
			r := obligations.NewRunner(s, obligations.Performers{Deleter: storeDeleter{s: s, clock: clock}}, clock)

			b.Run("tick", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, ok, err := s.NextDue(ctx, obligations.LaneLocal); err != nil || !ok {
						b.Fatal("NextDue", ok, err)
					}
					if jobs, err := s.Claim(ctx, obligations.LaneLocal, clock.Now(), 64, time.Minute); err != nil || len(jobs) != 0 {
						b.Fatal("Claim", len(jobs), err)
					}
				}
			})
			b.Run("next_due", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, _, err := s.NextDue(ctx, obligations.LaneLocal); err != nil {
						b.Fatal(err)
					}
				}
			})
			if n < 100_000 {
				return // too few records to delete for a second
			}
			for _, batch := range []int{1, 100} {
				b.Run(fmt.Sprintf("delete/due_per_tick=%d", batch), func(b *testing.B) {
					b.ReportAllocs()
					deleted := 0
					spacing := 24 * time.Hour / time.Duration(n)
					for b.Loop() {
						// The next `batch` deadlines come due; one tick deletes them.
						at, ok, err := s.NextDue(ctx, obligations.LaneLocal)
						if err != nil || !ok {
							b.Fatal("nothing left to delete", err)
						}
						clock.Set(at.Add(spacing * time.Duration(batch-1)))
						k, err := r.ProcessDue(ctx, obligations.LaneLocal)
						if err != nil || k == 0 {
							b.Fatal("ProcessDue", k, err)
						}
						deleted += k
					}
					b.ReportMetric(float64(deleted)/b.Elapsed().Seconds(), "deletions/s")
				})
			}
		})
	}
}

// BenchmarkUse measures what a permitted use costs the store with and
// without a notify-at-each-use obligation: the accessed event and the jobs
// planned from it, in one transaction (the inbox notification is delivered
// in that transaction: its row and its "notified" event).
func BenchmarkUse(b *testing.B) {
	for _, c := range []struct {
		name  string
		terms *policies.DataHandling
	}{
		{"notify=none", retention(policies.Duration{Days: 30})},
		{"notify=inbox", onUse(policies.Action{Kind: policies.ActionNotifyDataSubject, Media: "inbox"})},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			s, err := store.Open(ctx, b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			planner := obligations.NewPlanner(nil)
			seq := int64(0)
			b.ReportAllocs()
			for b.Loop() {
				seq++
				pii := fmt.Sprintf("rec-%d", seq%100)
				err := s.WriteTx(ctx, func(tx *store.Tx) error {
					ev, err := tx.AppendEvent(ctx, pep.EventInput{PII: pii, Subject: "alice@example.org", Time: t0, Type: pep.EventAccessed,
						Principal: "bob@example.org", Purpose: purpose, Decision: "Permit"})
					if err != nil {
						return err
					}
					return tx.EnqueueJobs(ctx, planner.Plan(c.terms, obligations.Event{Type: obligations.EventAccessed, PII: pii,
						Owner: "alice@example.org", Principal: "bob@example.org", Purpose: purpose, Time: t0, Seq: ev.Seq}))
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
