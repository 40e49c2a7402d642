package store_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/internal/audit"
	"github.com/stickypolicy/sticky/internal/store"
	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/pep"
	"github.com/stickypolicy/sticky/policies"
)

// TestNoticeChainsOnItsEvent: reads whose notices are delivered in their
// own transaction (the notified event chained on the accessed event without
// reading the chain again), from many goroutines so that they share
// group-commit batches, some of them failing after their appends (rolled
// back to their savepoint): every committed read has its accessed and
// notified events and its inbox row, nothing of a failed one remains, and
// the record's chain verifies.
func TestNoticeChainsOnItsEvent(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	rec := pep.Record{ID: "r1", Subject: "alice@example.org", StoredBy: "alice@example.org", ContentType: "text/plain",
		Policy: []byte("<p/>"), PolicyVersion: 1, PolicyHash: "h", StoredAt: time.Now()}
	if err := s.Write(ctx, func(tx pep.Tx) error { return tx.InsertRecord(ctx, rec, []byte("data")) }); err != nil {
		t.Fatal(err)
	}
	errFail := errors.New("failing after the appends")
	read := func(i int, fail bool) error {
		return s.WriteTx(ctx, func(tx *store.Tx) error {
			now := time.Now()
			e, err := tx.AppendEvent(ctx, pep.EventInput{PII: "r1", Subject: "alice@example.org", Time: now, Type: pep.EventAccessed,
				Principal: "bob@example.org", Purpose: "p", Decision: "Permit", PolicyHash: "h"})
			if err != nil {
				return err
			}
			notice := func(id, to string) obligations.Job {
				return obligations.Job{ID: id, PII: "r1", Owner: "alice@example.org", ObligationID: "o",
					Trigger: policies.TriggerPersonalDataAccessedForPurpose, Action: policies.ActionNotifyDataSubject,
					Media: obligations.MediaInbox, Address: to, Due: now,
					Event: obligations.Event{Type: obligations.EventAccessed, PII: "r1", Owner: "alice@example.org",
						Principal: "bob@example.org", Purpose: "p", Time: now, Seq: e.Seq}}
			}
			n := strconv.Itoa(i)
			// Two notices of one event, the second one twice (planned twice:
			// delivered once).
			a, c := notice("a"+n, "alice@example.org"), notice("c"+n, "carol@example.org")
			if err := tx.EnqueueJobs(ctx, []obligations.Job{a, c, c}); err != nil {
				return err
			}
			if fail {
				return errFail
			}
			return nil
		})
	}
	const readers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, readers*each)
	for g := range readers {
		wg.Go(func() {
			for k := range each {
				i := g*each + k
				if err := read(i, i%5 == 0); err != nil && !errors.Is(err, errFail) {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	ok := readers * each * 4 / 5
	evs, err := s.Events(ctx, "r1")
	if err != nil || len(evs) != 3*ok {
		t.Fatalf("%d events, %v; want %d (accessed and two notified per committed read)", len(evs), err, 3*ok)
	}
	for _, who := range []string{"alice@example.org", "carol@example.org"} {
		if ns, err := s.Notifications(ctx, who); err != nil || len(ns) != ok {
			t.Fatalf("%s has %d notices, %v; want %d", who, len(ns), err, ok)
		}
	}
	l, err := s.AuditLog(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.Verify(l.Entries); err != nil {
		t.Fatalf("chain does not verify: %v", err)
	}
}
