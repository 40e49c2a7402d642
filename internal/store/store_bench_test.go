package store_test

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/internal/store"
	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/pep"
	"github.com/stickypolicy/sticky/policies"
)

func benchStore(b *testing.B) (*store.Store, pep.TokenHash) {
	b.Helper()
	s := open(b, b.TempDir())
	_, h, _ := pep.NewToken(bytes.NewReader(bytes.Repeat([]byte{1}, 32)))
	if err := s.AddPrincipal(context.Background(), pep.Principal{Name: "bob@example.org", Role: pep.RoleController}, h); err != nil {
		b.Fatal(err)
	}
	r := pep.Record{ID: "r1", Subject: "alice@example.org", StoredBy: "alice@example.org", ContentType: "text/plain",
		Policy: bytes.Repeat([]byte("p"), 2000), PolicyVersion: 1, PolicyHash: "h", StoredAt: time.Now()}
	if err := s.Write(context.Background(), func(tx pep.Tx) error { return tx.InsertRecord(context.Background(), r, []byte("data")) }); err != nil {
		b.Fatal(err)
	}
	return s, h
}

func BenchmarkPrincipalByToken(b *testing.B) {
	s, h := benchStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.PrincipalByToken(ctx, h); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRecordData(b *testing.B) {
	s, _ := benchStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.RecordData(ctx, "r1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAccessTx is the write transaction of one permitted read: version
// check and event append.
func BenchmarkAccessTx(b *testing.B) {
	s, _ := benchStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		err := s.Write(ctx, func(tx pep.Tx) error {
			if _, _, err := tx.PolicyVersion(ctx, "r1"); err != nil {
				return err
			}
			_, err := tx.AppendEvent(ctx, pep.EventInput{PII: "r1", Subject: "alice@example.org", Time: time.Now(), Type: pep.EventAccessed,
				Principal: "bob@example.org", Purpose: "https://w3id.org/dpv#ServiceProvision", Decision: "Permit", PolicyHash: "h"})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAccessTxParallel is BenchmarkAccessTx from 32 goroutines: the
// writer group-commits them.
func BenchmarkAccessTxParallel(b *testing.B) {
	s, _ := benchStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			err := s.Write(ctx, func(tx pep.Tx) error {
				if _, _, err := tx.PolicyVersion(ctx, "r1"); err != nil {
					return err
				}
				_, err := tx.AppendEvent(ctx, pep.EventInput{PII: "r1", Subject: "alice@example.org", Time: time.Now(), Type: pep.EventAccessed,
					Principal: "bob@example.org", Purpose: "https://w3id.org/dpv#ServiceProvision", Decision: "Permit", PolicyHash: "h"})
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAccessTxNotify is the write transaction of one permitted read
// whose policy tells the owner in her inbox at each use: version check,
// the accessed event, and the notice delivered in the same transaction (the
// inbox row and its notified event). synchronous=NORMAL, so that the figure
// is the writer's statement work, not the disk's fsync.
func BenchmarkAccessTxNotify(b *testing.B) {
	s := open(b, b.TempDir(), store.WithSynchronous("NORMAL"))
	ctx := context.Background()
	r := pep.Record{ID: "r1", Subject: "alice@example.org", StoredBy: "alice@example.org", ContentType: "text/plain",
		Policy: bytes.Repeat([]byte("p"), 2000), PolicyVersion: 1, PolicyHash: "h", StoredAt: time.Now()}
	if err := s.Write(ctx, func(tx pep.Tx) error { return tx.InsertRecord(ctx, r, []byte("data")) }); err != nil {
		b.Fatal(err)
	}
	purpose := "https://w3id.org/dpv#ServiceProvision"
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		err := s.WriteTx(ctx, func(tx *store.Tx) error {
			if _, _, err := tx.PolicyVersion(ctx, "r1"); err != nil {
				return err
			}
			now := time.Now()
			e, err := tx.AppendEvent(ctx, pep.EventInput{PII: "r1", Subject: "alice@example.org", Time: now, Type: pep.EventAccessed,
				Principal: "bob@example.org", Purpose: purpose, Decision: "Permit", PolicyHash: "h"})
			if err != nil {
				return err
			}
			return tx.EnqueueJobs(ctx, []obligations.Job{{
				ID: "n" + strconv.Itoa(n), PII: "r1", Owner: "alice@example.org", ObligationID: "obligation-2",
				Trigger: policies.TriggerPersonalDataAccessedForPurpose, Action: policies.ActionNotifyDataSubject,
				Media: obligations.MediaInbox, Address: "alice@example.org", Due: now, Deadline: now.Add(time.Minute),
				Event: obligations.Event{Type: obligations.EventAccessed, PII: "r1", Owner: "alice@example.org",
					Principal: "bob@example.org", Purpose: purpose, Time: now, StoredAt: r.StoredAt, Seq: e.Seq},
			}})
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	evs, err := s.Events(ctx, "r1")
	if err != nil || len(evs) != 2*n {
		b.Fatalf("%d events, %v; want %d (accessed + notified per read)", len(evs), err, 2*n)
	}
}
