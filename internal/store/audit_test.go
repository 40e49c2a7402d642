package store_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/internal/audit"
	"github.com/stickypolicy/sticky/internal/store"
	"github.com/stickypolicy/sticky/pep"
)

// TestAuditLog writes a record's life through the store's write path and
// reads its log back: the chain verifies, principals are pseudonyms whose
// identities are known, the policies survive deletion, and after the subject
// is forgotten the chain still verifies with no identity left.
func TestAuditLog(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	v1, v2 := []byte("<policy version='1'/>"), []byte("<policy version='2'/>")
	h1, h2 := audit.PolicyHash(v1), audit.PolicyHash(v2)
	rec := pep.Record{ID: "rec-1", Subject: "alice@example.org", StoredBy: "alice@example.org", ContentType: "text/plain",
		Policy: v1, PolicyVersion: 1, PolicyHash: h1, StoredAt: t0}
	event := func(at time.Duration, typ, principal, purpose, recipient, hash string) pep.EventInput {
		return pep.EventInput{PII: "rec-1", Subject: "alice@example.org", Time: t0.Add(at), Type: typ, Principal: principal,
			Purpose: purpose, Recipient: recipient, Decision: "Permit", PolicyHash: hash}
	}
	write := func(fn func(tx *store.Tx) error) {
		t.Helper()
		if err := s.WriteTx(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	write(func(tx *store.Tx) error {
		if err := tx.InsertRecord(ctx, rec, []byte("data")); err != nil {
			return err
		}
		_, err := tx.AppendEvent(ctx, event(0, audit.TypeStored, "alice@example.org", "", "", h1))
		return err
	})
	write(func(tx *store.Tx) error {
		_, err := tx.AppendEvent(ctx, event(time.Hour, audit.TypeAccessed, "bob@example.org", "https://w3id.org/dpv#ServiceProvision", "", h1))
		return err
	})
	write(func(tx *store.Tx) error {
		if err := tx.UpdatePolicy(ctx, "rec-1", v2, 2, h2, time.Time{}, t0.Add(2*time.Hour)); err != nil {
			return err
		}
		_, err := tx.AppendEvent(ctx, event(2*time.Hour, audit.TypePolicyUpdated, "alice@example.org", "", "", h2))
		return err
	})
	write(func(tx *store.Tx) error {
		if _, err := tx.AppendEvent(ctx, event(3*time.Hour, audit.TypeDisclosed, "bob@example.org", "https://w3id.org/dpv#ServiceProvision", "erin@example.org", h2)); err != nil {
			return err
		}
		return nil
	})
	write(func(tx *store.Tx) error {
		if err := tx.DeleteRecord(ctx, "rec-1", t0.Add(4*time.Hour)); err != nil {
			return err
		}
		_, err := tx.AppendEvent(ctx, event(4*time.Hour, audit.TypeDeleted, "alice@example.org", "", "", h2))
		return err
	})

	l, err := s.AuditLog(ctx, "rec-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Entries) != 5 || !l.Deleted || l.Subject != "alice@example.org" {
		t.Fatalf("log = %d entries, deleted %v, subject %q", len(l.Entries), l.Deleted, l.Subject)
	}
	if err := audit.Verify(l.Entries); err != nil {
		t.Fatalf("the stored chain does not verify: %v", err)
	}
	if len(l.Policies) != 2 || l.Policies[0].Hash != h1 || l.Policies[1].XML != string(v2) {
		t.Errorf("policies after deletion = %+v", l.Policies)
	}
	bob := l.Entries[1].Principal
	if !audit.IsPseudonym(bob) || l.Identities[bob] != "bob@example.org" || l.Identities[l.Entries[3].Recipient] != "erin@example.org" {
		t.Errorf("pseudonyms/identities: principal %q, identities %v", bob, l.Identities)
	}
	if l.SubjectPseudonym == "" || l.SubjectPseudonym != l.Entries[0].Principal {
		t.Errorf("subject pseudonym %q, the owner's entries say %q", l.SubjectPseudonym, l.Entries[0].Principal)
	}

	exp := l.Export(false)
	if exp.Header.Identities != nil || exp.Header.Policy != h2 || exp.Header.Entries != 5 {
		t.Errorf("export header = %+v", exp.Header)
	}
	var buf bytes.Buffer
	if _, err := l.Export(true).WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := audit.ReadLog(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Verify(); err != nil || back.Header.Identities[bob] != "bob@example.org" {
		t.Fatalf("exported log: %v, identities %v", err, back.Header.Identities)
	}

	// Forget alice's people: identities and key go, the chain stays.
	for _, q := range []string{`DELETE FROM identities WHERE subject = ?`, `DELETE FROM subject_keys WHERE subject = ?`} {
		if _, err := s.DB().ExecContext(ctx, q, "alice@example.org"); err != nil {
			t.Fatal(err)
		}
	}
	l2, err := s.AuditLog(ctx, "rec-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.Verify(l2.Entries); err != nil {
		t.Fatalf("chain after forgetting: %v", err)
	}
	if len(l2.Identities) != 0 || l2.SubjectPseudonym != "" || l2.Entries[1].Principal != bob {
		t.Errorf("after forgetting: identities %v, subject pseudonym %q, principal %q", l2.Identities, l2.SubjectPseudonym, l2.Entries[1].Principal)
	}

	if _, err := s.AuditLog(ctx, "no-such-record"); !errors.Is(err, pep.ErrNotFound) {
		t.Errorf("unknown record: %v, want pep.ErrNotFound", err)
	}
}

// TestAuditLogTimesMonotonic appends an event whose clock reading is older
// than the last event's (writes committing out of clock order): its time is
// raised to the last one's so that the chain still verifies.
func TestAuditLogTimesMonotonic(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{t0.Add(time.Second), t0, t0.Add(2 * time.Second)} {
		err := s.WriteTx(ctx, func(tx *store.Tx) error {
			_, err := tx.AppendEvent(ctx, pep.EventInput{PII: "rec-1", Subject: "alice@example.org", Time: at, Type: audit.TypeAccessed,
				Principal: "bob@example.org", Purpose: "p", Decision: "Permit"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	l, err := s.AuditLog(ctx, "rec-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.Verify(l.Entries); err != nil {
		t.Fatalf("chain with an out-of-order clock reading: %v", err)
	}
	if !l.Entries[1].Time.Equal(t0.Add(time.Second)) || !l.Entries[2].Time.Equal(t0.Add(2*time.Second)) {
		t.Errorf("times = %v, %v, %v", l.Entries[0].Time, l.Entries[1].Time, l.Entries[2].Time)
	}
}
