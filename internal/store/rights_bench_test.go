package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/internal/store"
	"github.com/stickypolicy/sticky/pep"
)

// forgetBenchStore holds `others` records of other subjects (5 events each)
// and n records of the subject to forget (5 events each, one disclosure).
func forgetBenchStore(b *testing.B, n, others int) *store.Store {
	b.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	var h pep.TokenHash
	h[0] = 9
	if err := s.AddPrincipal(ctx, pep.Principal{Name: "target@example.org", Role: pep.RoleSubject}, h); err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	add := func(id, subject string) error {
		return s.WriteTx(ctx, func(tx *store.Tx) error {
			r := pep.Record{ID: id, Subject: subject, StoredBy: subject, ContentType: "text/plain", Policy: []byte("<p/>"), PolicyHash: "h", StoredAt: now}
			if err := tx.InsertRecord(ctx, r, []byte("some data of "+subject)); err != nil {
				return err
			}
			for k := range 5 {
				if _, err := tx.AppendEvent(ctx, pep.EventInput{PII: id, Subject: subject, Time: now.Add(time.Duration(k) * time.Second),
					Type: pep.EventAccessed, Principal: "app@example.org", Purpose: "https://w3id.org/dpv#ServiceProvision", Decision: "Permit"}); err != nil {
					return err
				}
			}
			if subject == "target@example.org" {
				return tx.InsertDisclosure(ctx, pep.Disclosure{PII: id, Recipient: "erin@example.org", Purpose: "p", By: "app@example.org", Time: now})
			}
			return nil
		})
	}
	for i := range others {
		if err := add(fmt.Sprintf("o%d", i), fmt.Sprintf("s%d@example.org", i%100)); err != nil {
			b.Fatal(err)
		}
	}
	for i := range n {
		if err := add(fmt.Sprintf("t%d", i), "target@example.org"); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkForgetDryRun runs forget's whole transaction (every statement,
// the erasure events, the reference scan over every table) and rolls it
// back: the work of a real forget but the fsync of its commit.
func BenchmarkForgetDryRun(b *testing.B) {
	for _, tc := range []struct{ n, others int }{{10, 1000}, {100, 1000}, {100, 10000}} {
		b.Run(fmt.Sprintf("records=%d/others=%d", tc.n, tc.others), func(b *testing.B) {
			s := forgetBenchStore(b, tc.n, tc.others)
			ctx := context.Background()
			req := pep.ForgetRequest{Subject: "target@example.org", By: "sticky", ReportID: "fgt_b", Placeholder: "forgotten:fgt_b",
				Now: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), DryRun: true}
			b.ReportAllocs()
			for b.Loop() {
				rep, err := s.Forget(ctx, req)
				if err != nil || len(rep.Records) != tc.n {
					b.Fatalf("%+v %v", rep, err)
				}
			}
		})
	}
}

// BenchmarkForgetReferenceScan is the scan of every text and blob column
// for the identity that a real forget runs after its commit, on a reader.
func BenchmarkForgetReferenceScan(b *testing.B) {
	for _, others := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("others=%d", others), func(b *testing.B) {
			s := forgetBenchStore(b, 100, others)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := store.ReferencesForTest(ctx, s, "target@example.org"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
