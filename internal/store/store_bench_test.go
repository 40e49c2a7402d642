package store_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/internal/store"
	"github.com/stickypolicy/sticky/pep"
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
