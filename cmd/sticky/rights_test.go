package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/internal/client/clienttest"
	"github.com/stickypolicy/sticky/pep"
)

// TestExportAndForget: a data subject exports everything held on it, an
// admin previews and then carries out its erasure.
func TestExportAndForget(t *testing.T) {
	srv := clienttest.Start(t)
	dir := t.TempDir()
	r := mustOK(t, cli(t, srv, "alice", "my diary", "put", "--policy", "testdata/policy.xml", "--content-type", "text/plain", "-"), "put")
	var stored struct{ ID string }
	json.Unmarshal([]byte(r.stdout), &stored)
	mustOK(t, cli(t, srv, "bob", "", "get", "--purpose", purposeService, stored.ID), "bob reads")

	out := filepath.Join(dir, "export.json")
	mustOK(t, cli(t, srv, "alice", "", "export", "--out", out, "alice@example.org"), "export")
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var exp struct {
		Subject string
		Records []struct {
			ID            string
			Policy        string
			AccessHistory []struct{ Type, Principal, Purpose string } `json:"access_history"`
		}
	}
	if err := json.Unmarshal(raw, &exp); err != nil || exp.Subject != "alice@example.org" || len(exp.Records) != 1 || exp.Records[0].ID != stored.ID {
		t.Fatalf("export: %v\n%s", err, raw)
	}
	bobRead := false
	for _, e := range exp.Records[0].AccessHistory {
		bobRead = bobRead || (e.Type == "accessed" && e.Principal == "bob@example.org" && e.Purpose == purposeService)
	}
	if !bobRead || !strings.Contains(exp.Records[0].Policy, purposeService) {
		t.Errorf("the export lacks bob's read or the policy:\n%s", raw)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Errorf("export file mode %v", fi.Mode())
	}
	mustFail(t, cli(t, srv, "bob", "", "export", "alice@example.org"), "bob exports alice", "HTTP 403")
	mustFail(t, cli(t, srv, "dave", "", "export", "alice@example.org"), "dave exports alice", "HTTP 403")

	// forget: the dry run changes nothing, the real one erases and revokes.
	r = mustOK(t, cli(t, srv, "admin", "", "forget", "--dry-run", "alice@example.org"), "forget --dry-run")
	if !strings.Contains(r.stdout, stored.ID) {
		t.Errorf("the dry run does not name the record: %s", r.stdout)
	}
	mustOK(t, cli(t, srv, "bob", "", "get", "--purpose", purposeService, stored.ID), "bob reads after the dry run")
	mustFail(t, cli(t, srv, "admin", "", "forget", "nobody@example.org"), "forget an unknown subject", "HTTP 404")
	mustOK(t, cli(t, srv, "admin", "", "forget", "alice@example.org"), "forget")
	mustFail(t, cli(t, srv, "bob", "", "get", "--purpose", purposeService, stored.ID), "bob reads after forget", "HTTP 404")
	mustFail(t, cli(t, srv, "alice", "", "list"), "alice's token after forget", "HTTP 401")
}

// TestRestore: with a restore window, a deleted record is never served but
// can be restored by its owner.
func TestRestore(t *testing.T) {
	srv := clienttest.Start(t, pep.WithRestoreWindow(time.Hour))
	r := mustOK(t, cli(t, srv, "alice", "keep me", "put", "--policy", "testdata/policy.xml", "-"), "put")
	var stored struct{ ID string }
	json.Unmarshal([]byte(r.stdout), &stored)
	mustOK(t, cli(t, srv, "alice", "", "delete", stored.ID), "delete")
	mustFail(t, cli(t, srv, "bob", "", "get", "--purpose", purposeService, stored.ID), "bob reads a deleted record", "HTTP 404")
	mustFail(t, cli(t, srv, "bob", "", "restore", stored.ID), "bob restores", "HTTP 403")
	r = mustOK(t, cli(t, srv, "alice", "", "restore", stored.ID), "restore")
	if !strings.Contains(r.stdout, `"state": "active"`) {
		t.Errorf("restore printed %s", r.stdout)
	}
	r = mustOK(t, cli(t, srv, "bob", "", "get", "--purpose", purposeService, stored.ID), "bob reads the restored record")
	if r.stdout != "keep me" {
		t.Errorf("bob read %q", r.stdout)
	}
	mustFail(t, cli(t, srv, "alice", "", "restore", "nosuchrecord"), "restore an unknown record", "HTTP 404")
}
