package peptest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/pep"
)

// Exercise runs the conformance suite: newStore must return a new, empty
// store each time it is called.
func Exercise(t *testing.T, newStore func(t *testing.T) pep.Store) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, s pep.Store)
	}{
		{"InsertAndRead", testInsertAndRead},
		{"UnknownRecord", testUnknownRecord},
		{"RollbackLeavesNothing", testRollback},
		{"UpdatePolicy", testUpdatePolicy},
		{"DeleteKeepsEvents", testDeleteKeepsEvents},
		{"EventChain", testEventChain},
		{"ListBySubject", testListBySubject},
		{"Candidates", testCandidates},
		{"Disclosures", testDisclosures},
		{"Preferences", testPreferences},
		{"UnknownToken", testUnknownToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
	}
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)

func record(id, subject, by string) pep.Record {
	return pep.Record{
		ID: id, Subject: subject, StoredBy: by, ContentType: "text/plain",
		Policy: []byte("<policy naming " + by + "/>"), PolicyVersion: 1, PolicyHash: "h1-" + id,
		StoredAt: t0, DeleteAt: t0.Add(24 * time.Hour),
	}
}

func put(t *testing.T, s pep.Store, r pep.Record, data []byte) {
	t.Helper()
	err := s.Write(context.Background(), func(tx pep.Tx) error {
		if err := tx.InsertRecord(context.Background(), r, data); err != nil {
			return err
		}
		_, err := tx.AppendEvent(context.Background(), pep.EventInput{PII: r.ID, Subject: r.Subject, Time: r.StoredAt,
			Type: pep.EventStored, Principal: r.StoredBy, Decision: "Permit", PolicyHash: r.PolicyHash})
		return err
	})
	if err != nil {
		t.Fatalf("storing %s: %v", r.ID, err)
	}
}

func testInsertAndRead(t *testing.T, s pep.Store) {
	ctx := context.Background()
	r := record("r1", "alice", "alice")
	r.Encrypted = true
	data := []byte("hello \x00 world")
	put(t, s, r, data)

	got, b, err := s.RecordData(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, data) {
		t.Errorf("data = %q, want %q", b, data)
	}
	if got.Subject != "alice" || got.StoredBy != "alice" || got.ContentType != "text/plain" || !got.Encrypted ||
		got.PolicyVersion != 1 || got.PolicyHash != "h1-r1" || !bytes.Equal(got.Policy, r.Policy) {
		t.Errorf("record = %+v", got)
	}
	if !got.StoredAt.Equal(t0) || !got.DeleteAt.Equal(r.DeleteAt) {
		t.Errorf("times = %v, %v; want %v, %v", got.StoredAt, got.DeleteAt, t0, r.DeleteAt)
	}
	if got.Size != int64(len(data)) {
		t.Errorf("size = %d, want %d", got.Size, len(data))
	}
	meta, err := s.Record(ctx, "r1")
	if err != nil || meta.ID != "r1" || meta.Size != int64(len(data)) {
		t.Errorf("Record = %+v, %v", meta, err)
	}
	// A record without deadline and with empty data.
	r2 := record("r2", "alice", "alice")
	r2.DeleteAt = time.Time{}
	put(t, s, r2, nil)
	got2, b2, err := s.RecordData(ctx, "r2")
	if err != nil || len(b2) != 0 || !got2.DeleteAt.IsZero() {
		t.Errorf("empty record = %+v, %q, %v", got2, b2, err)
	}
}

func testUnknownRecord(t *testing.T, s pep.Store) {
	ctx := context.Background()
	if _, err := s.Record(ctx, "nope"); !errors.Is(err, pep.ErrNotFound) {
		t.Errorf("Record: %v, want ErrNotFound", err)
	}
	if _, _, err := s.RecordData(ctx, "nope"); !errors.Is(err, pep.ErrNotFound) {
		t.Errorf("RecordData: %v, want ErrNotFound", err)
	}
	if _, _, err := s.Owner(ctx, "nope"); !errors.Is(err, pep.ErrNotFound) {
		t.Errorf("Owner: %v, want ErrNotFound", err)
	}
	err := s.Write(ctx, func(tx pep.Tx) error {
		if _, _, err := tx.PolicyVersion(ctx, "nope"); !errors.Is(err, pep.ErrNotFound) {
			t.Errorf("PolicyVersion: %v, want ErrNotFound", err)
		}
		if err := tx.DeleteRecord(ctx, "nope", t0); !errors.Is(err, pep.ErrNotFound) {
			t.Errorf("DeleteRecord: %v, want ErrNotFound", err)
		}
		if err := tx.UpdatePolicy(ctx, "nope", []byte("<p/>"), 2, "h", time.Time{}, t0); !errors.Is(err, pep.ErrNotFound) {
			t.Errorf("UpdatePolicy: %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if evs, err := s.Events(ctx, "nope"); err != nil || len(evs) != 0 {
		t.Errorf("Events = %v, %v; want none", evs, err)
	}
}

func testRollback(t *testing.T, s pep.Store) {
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.Write(ctx, func(tx pep.Tx) error {
		if err := tx.InsertRecord(ctx, record("r1", "alice", "alice"), []byte("x")); err != nil {
			return err
		}
		if _, err := tx.AppendEvent(ctx, pep.EventInput{PII: "r1", Subject: "alice", Time: t0, Type: pep.EventStored, Principal: "alice"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write = %v, want boom", err)
	}
	if _, err := s.Record(ctx, "r1"); !errors.Is(err, pep.ErrNotFound) {
		t.Errorf("record survived a rollback: %v", err)
	}
	if evs, _ := s.Events(ctx, "r1"); len(evs) != 0 {
		t.Errorf("events survived a rollback: %v", evs)
	}
	// The store still works afterwards.
	put(t, s, record("r1", "alice", "alice"), []byte("x"))
}

func testUpdatePolicy(t *testing.T, s pep.Store) {
	ctx := context.Background()
	put(t, s, record("r1", "alice", "alice"), []byte("x"))
	err := s.Write(ctx, func(tx pep.Tx) error {
		v, d, err := tx.PolicyVersion(ctx, "r1")
		if err != nil {
			return err
		}
		if v != 1 || !d.Equal(t0.Add(24*time.Hour)) {
			t.Errorf("PolicyVersion = %d, %v", v, d)
		}
		return tx.UpdatePolicy(ctx, "r1", []byte("<new/>"), v+1, "h2", time.Time{}, t0.Add(time.Minute))
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Record(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Policy) != "<new/>" || r.PolicyVersion != 2 || r.PolicyHash != "h2" || !r.DeleteAt.IsZero() {
		t.Errorf("after update: %+v", r)
	}
}

func testDeleteKeepsEvents(t *testing.T, s pep.Store) {
	ctx := context.Background()
	put(t, s, record("r1", "alice", "bob"), []byte("secret"))
	err := s.Write(ctx, func(tx pep.Tx) error {
		if err := tx.InsertDisclosure(ctx, pep.Disclosure{PII: "r1", Recipient: "carol", Purpose: "p", By: "bob", Time: t0}); err != nil {
			return err
		}
		if err := tx.DeleteRecord(ctx, "r1", t0.Add(time.Hour)); err != nil {
			return err
		}
		_, err := tx.AppendEvent(ctx, pep.EventInput{PII: "r1", Subject: "alice", Time: t0.Add(time.Hour), Type: pep.EventDeleted, Principal: "alice"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RecordData(ctx, "r1"); !errors.Is(err, pep.ErrNotFound) {
		t.Errorf("RecordData after delete: %v", err)
	}
	owner, deleted, err := s.Owner(ctx, "r1")
	if err != nil || owner != "alice" || !deleted {
		t.Errorf("Owner = %q, %v, %v; want alice, deleted", owner, deleted, err)
	}
	if _, ok, _ := s.Disclosed(ctx, "r1", "carol"); ok {
		t.Errorf("a disclosure outlived its record")
	}
	evs, err := s.Events(ctx, "r1")
	if err != nil || len(evs) != 2 || evs[1].Type != pep.EventDeleted {
		t.Fatalf("events after delete = %+v, %v", evs, err)
	}
	if list, _ := s.RecordsBySubject(ctx, "alice"); len(list) != 0 {
		t.Errorf("deleted record still listed: %+v", list)
	}
}

func testEventChain(t *testing.T, s pep.Store) {
	ctx := context.Background()
	put(t, s, record("r1", "alice", "alice"), []byte("x"))
	put(t, s, record("r2", "alice", "alice"), []byte("y"))
	for i := range 3 {
		err := s.Write(ctx, func(tx pep.Tx) error {
			_, err := tx.AppendEvent(ctx, pep.EventInput{PII: "r1", Subject: "alice", Time: t0.Add(time.Duration(i+1) * time.Second),
				Type: pep.EventAccessed, Principal: "bob", Purpose: fmt.Sprintf("purpose-%d", i), Recipient: "carol",
				Decision: "Permit", Reason: "ok", PolicyHash: "h1-r1"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	evs, err := s.Events(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 4 {
		t.Fatalf("got %d events, want 4", len(evs))
	}
	for i, e := range evs {
		if e.Seq != int64(i+1) {
			t.Errorf("event %d: seq %d", i, e.Seq)
		}
		if e.Hash == "" {
			t.Errorf("event %d: empty hash", i)
		}
		if i == 0 && (e.Prev == "" || e.Prev == e.Hash) {
			t.Errorf("first event has prev %q", e.Prev)
		}
		if i > 0 && e.Prev != evs[i-1].Hash {
			t.Errorf("event %d: prev %q, want %q", i, e.Prev, evs[i-1].Hash)
		}
	}
	e := evs[3]
	if e.Principal != "bob" || e.Recipient != "carol" || e.Purpose != "purpose-2" || e.Decision != "Permit" ||
		e.Reason != "ok" || e.PolicyHash != "h1-r1" || e.Type != pep.EventAccessed || !e.Time.Equal(t0.Add(3*time.Second)) {
		t.Errorf("last event = %+v", e)
	}
	// The other record has its own chain.
	evs2, _ := s.Events(ctx, "r2")
	if len(evs2) != 1 || evs2[0].Seq != 1 || evs2[0].Prev == evs[0].Prev {
		t.Errorf("second chain = %+v", evs2)
	}
}

func testListBySubject(t *testing.T, s pep.Store) {
	ctx := context.Background()
	a1 := record("a1", "alice", "alice")
	a2 := record("a2", "alice", "app")
	a2.StoredAt = t0.Add(time.Second)
	put(t, s, a1, []byte("1"))
	put(t, s, a2, []byte("2"))
	put(t, s, record("b1", "bob", "bob"), []byte("3"))
	list, err := s.RecordsBySubject(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "a1" || list[1].ID != "a2" {
		t.Errorf("alice's records = %+v", list)
	}
	if list, _ := s.RecordsBySubject(ctx, "nobody"); len(list) != 0 {
		t.Errorf("nobody's records = %+v", list)
	}
}

func testCandidates(t *testing.T, s pep.Store) {
	ctx := context.Background()
	put(t, s, record("stored", "alice", "app"), []byte("1")) // stored by app
	named := record("named", "alice", "alice")
	named.Policy = []byte("<Rule>app</Rule>") // names app
	put(t, s, named, []byte("2"))
	other := record("other", "alice", "alice")
	other.Policy = []byte("<Rule>someone</Rule>")
	put(t, s, other, []byte("3"))
	shared := record("shared", "bob", "bob")
	shared.Policy = []byte("<Rule>partner</Rule>")
	put(t, s, shared, []byte("4"))
	err := s.Write(ctx, func(tx pep.Tx) error {
		return tx.InsertDisclosure(ctx, pep.Disclosure{PII: "shared", Recipient: "app", Purpose: "p", By: "partner", Time: t0})
	})
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.RecordCandidates(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, r := range list {
		got[r.ID] = true
	}
	if len(list) != 3 || !got["stored"] || !got["named"] || !got["shared"] {
		t.Errorf("candidates for app = %v", got)
	}
}

func testDisclosures(t *testing.T, s pep.Store) {
	ctx := context.Background()
	put(t, s, record("r1", "alice", "app"), []byte("1"))
	if _, ok, err := s.Disclosed(ctx, "r1", "partner"); ok || err != nil {
		t.Fatalf("Disclosed before any = %v, %v", ok, err)
	}
	for _, by := range []string{"app", "app2"} {
		err := s.Write(ctx, func(tx pep.Tx) error {
			return tx.InsertDisclosure(ctx, pep.Disclosure{PII: "r1", Recipient: "partner", Purpose: "p-" + by, By: by, Time: t0})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	d, ok, err := s.Disclosed(ctx, "r1", "partner")
	if err != nil || !ok || d.By != "app2" || d.Purpose != "p-app2" || d.Recipient != "partner" || !d.Time.Equal(t0) {
		t.Errorf("Disclosed = %+v, %v, %v; want the latest, by app2", d, ok, err)
	}
}

func testPreferences(t *testing.T, s pep.Store) {
	ctx := context.Background()
	if _, err := s.Preferences(ctx, "alice"); !errors.Is(err, pep.ErrNotFound) {
		t.Errorf("Preferences before any: %v", err)
	}
	for _, xml := range []string{"<first/>", "<second/>"} {
		if err := s.Write(ctx, func(tx pep.Tx) error { return tx.SetPreferences(ctx, "alice", []byte(xml), t0) }); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Preferences(ctx, "alice")
	if err != nil || string(got) != "<second/>" {
		t.Errorf("Preferences = %q, %v", got, err)
	}
}

func testUnknownToken(t *testing.T, s pep.Store) {
	if _, err := s.PrincipalByToken(context.Background(), pep.HashToken("sticky_nope")); !errors.Is(err, pep.ErrNotFound) {
		t.Errorf("PrincipalByToken(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.Principal(context.Background(), "nobody"); !errors.Is(err, pep.ErrNotFound) {
		t.Errorf("Principal(unknown) = %v, want ErrNotFound", err)
	}
}
