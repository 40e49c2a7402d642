package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/internal/audit"
	"github.com/stickypolicy/sticky/internal/store"
	"github.com/stickypolicy/sticky/pep"
)

// storeWithLog makes a data directory holding record rec-1 with two events.
func storeWithLog(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	xml := []byte("<policy/>")
	err = s.WriteTx(ctx, func(tx *store.Tx) error {
		rec := pep.Record{ID: "rec-1", Subject: "alice@example.org", StoredBy: "alice@example.org", ContentType: "text/plain",
			Policy: xml, PolicyVersion: 1, PolicyHash: audit.PolicyHash(xml), StoredAt: t0}
		if err := tx.InsertRecord(ctx, rec, []byte("x")); err != nil {
			return err
		}
		for i, typ := range []string{audit.TypeStored, audit.TypeAccessed} {
			if _, err := tx.AppendEvent(ctx, pep.EventInput{PII: "rec-1", Subject: "alice@example.org", Time: t0.Add(time.Duration(i) * time.Minute),
				Type: typ, Principal: "bob@example.org", Purpose: "https://w3id.org/dpv#ServiceProvision", Decision: "Permit", PolicyHash: rec.PolicyHash}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLogExport(t *testing.T) {
	dir := storeWithLog(t)
	for _, args := range [][]string{
		{"log", "export", "--data", dir, "rec-1"},
		{"log", "export", "rec-1", "--data", dir},
		{"log", "export", "--data", dir, "--identities", "rec-1"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != exitOK {
			t.Fatalf("%v: exit %d, stderr %s", args, code, errb.String())
		}
		l, err := audit.ReadLog(&out)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Verify(); err != nil || len(l.Entries) != 2 || l.Header.PII != "rec-1" || len(l.Header.Policies) != 1 {
			t.Fatalf("%v: %v, header %+v", args, err, l.Header)
		}
		withIDs := args[len(args)-2] == "--identities"
		if got := l.Header.Identities[l.Entries[0].Principal]; (got == "bob@example.org") != withIDs {
			t.Errorf("%v: identity of the principal = %q", args, got)
		}
	}
}

func TestLogExportErrors(t *testing.T) {
	dir := storeWithLog(t)
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no id", []string{"--data", dir}, exitUsage, "want exactly one record ID"},
		{"two ids", []string{"--data", dir, "a", "b"}, exitUsage, "want exactly one record ID"},
		{"bad flag", []string{"--nope", "rec-1"}, exitUsage, "flag provided but not defined"},
		{"no database", []string{"--data", t.TempDir(), "rec-1"}, exitFailure, "no Sticky database"},
		{"unknown record", []string{"--data", dir, "rec-2"}, exitFailure, `no record "rec-2"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := runLogExport(context.Background(), tc.args, &out, &errb)
			if code != tc.code || !strings.Contains(errb.String(), tc.msg) || out.Len() != 0 {
				t.Fatalf("exit %d (want %d), stdout %q, stderr %q (want %q)", code, tc.code, out.String(), errb.String(), tc.msg)
			}
		})
	}
}
