package main

import (
	"encoding/json"
	"testing"

	"github.com/stickypolicy/sticky/internal/client/clienttest"
)

// TestExportDefaultsToMe: `sticky export` without a subject exports the
// caller.
func TestExportDefaultsToMe(t *testing.T) {
	srv := clienttest.Start(t)
	r := mustOK(t, cli(t, srv, "dave", "dave's note", "put", "--policy", "testdata/policy.xml", "--content-type", "text/plain", "-"), "put")
	var stored struct{ ID string }
	if err := json.Unmarshal([]byte(r.stdout), &stored); err != nil {
		t.Fatal(err)
	}
	r = mustOK(t, cli(t, srv, "dave", "", "export"), "export without a subject")
	var doc struct {
		Subject string
		Records []struct{ ID string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || doc.Subject != "dave@example.org" || len(doc.Records) != 1 || doc.Records[0].ID != stored.ID {
		t.Fatalf("export = %v %s", err, r.stdout)
	}
	if r := cli(t, srv, "dave", "", "export", "a", "b"); r.code != exitUsage {
		t.Errorf("two subjects: exit %d, want %d", r.code, exitUsage)
	}
}
