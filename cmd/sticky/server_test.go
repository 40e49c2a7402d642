package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stickypolicy/sticky/internal/client/clienttest"
)

const (
	purposeService   = "https://w3id.org/dpv#ServiceProvision"
	purposeMarketing = "https://w3id.org/dpv#Marketing"
)

// cli runs sticky against srv as the named principal (through the
// environment, like a user would).
func cli(t *testing.T, srv *clienttest.Server, who string, stdin string, args ...string) result {
	t.Helper()
	return runCLI(t, map[string]string{"STICKY_URL": srv.URL, "STICKY_TOKEN": srv.Token(who)}, strings.NewReader(stdin), args...)
}

func mustOK(t *testing.T, r result, what string) result {
	t.Helper()
	if r.code != exitOK {
		t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", what, r.code, r.stdout, r.stderr)
	}
	return r
}

func mustFail(t *testing.T, r result, what, stderr string) {
	t.Helper()
	if r.code != exitFailure || !strings.Contains(r.stderr, stderr) {
		t.Fatalf("%s: exit %d, stderr %q; want exit 1 and %q", what, r.code, r.stderr, stderr)
	}
}

func TestWalkthrough(t *testing.T) {
	srv := clienttest.Start(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "address.txt")
	if err := os.WriteFile(data, []byte("12 Rabbit Hole Lane\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// put: prints the server's JSON.
	r := mustOK(t, cli(t, srv, "alice", "", "put", "--policy", "testdata/policy.xml", data), "put")
	var stored struct {
		ID, Subject string
		Encrypted   bool
		DeleteAt    *string `json:"delete_at"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &stored); err != nil || stored.ID == "" || stored.Subject != "alice@example.org" || stored.DeleteAt == nil {
		t.Fatalf("put printed %q (%v)", r.stdout, err)
	}
	id := stored.ID

	// put from stdin, flags after the file, --url/--token flags instead of the environment.
	r = runCLI(t, nil, strings.NewReader("from stdin"), "put", "-", "--policy", "testdata/policy.xml", "--url", srv.URL, "--token", srv.Token("alice"), "--content-type", "text/plain")
	mustOK(t, r, "put -")
	var stdinRec struct{ ID string }
	json.Unmarshal([]byte(r.stdout), &stdinRec)
	r = mustOK(t, runCLI(t, nil, nil, "--url", srv.URL, "--token", srv.Token("bob"), "get", "--purpose", purposeService, stdinRec.ID), "get of stdin data")
	if r.stdout != "from stdin" {
		t.Errorf("stdin data read back as %q", r.stdout)
	}

	// get: to stdout, and to a 0600 file.
	r = mustOK(t, cli(t, srv, "bob", "", "get", "--purpose", purposeService, id), "bob get")
	if r.stdout != "12 Rabbit Hole Lane\n" {
		t.Errorf("bob got %q", r.stdout)
	}
	out := filepath.Join(dir, "out.txt")
	mustOK(t, cli(t, srv, "bob", "", "get", "--purpose", purposeService, "--out", out, id), "bob get --out")
	if b, err := os.ReadFile(out); err != nil || string(b) != "12 Rabbit Hole Lane\n" {
		t.Errorf("--out file: %q %v", b, err)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("--out file mode: %v %v", fi.Mode(), err)
	}

	// denials print the server's message and exit 1; no file is left behind.
	denied := filepath.Join(dir, "denied.txt")
	mustFail(t, cli(t, srv, "bob", "", "get", "--purpose", purposeMarketing, "--out", denied, id), "bob for marketing", "denied")
	if _, err := os.Stat(denied); !os.IsNotExist(err) {
		t.Errorf("a denied get left %s behind", denied)
	}
	mustFail(t, cli(t, srv, "carol", "", "get", "--purpose", purposeService, id), "carol", "HTTP 403")
	mustFail(t, cli(t, srv, "bob", "", "get", id), "no purpose", "HTTP 400")
	mustFail(t, cli(t, srv, "bob", "", "get", "--purpose", purposeService, "nosuch"), "unknown id", "HTTP 404")
	mustFail(t, runCLI(t, map[string]string{"STICKY_URL": srv.URL, "STICKY_TOKEN": "sticky_bad"}, nil, "list"), "bad token", "HTTP 401")

	// decide: a value, not an error.
	r = mustOK(t, cli(t, srv, "bob", "", "decide", "--purpose", purposeMarketing, id), "decide")
	if !strings.Contains(r.stdout, `"decision": "Deny"`) {
		t.Errorf("decide printed %s", r.stdout)
	}

	// list.
	r = mustOK(t, cli(t, srv, "bob", "", "list"), "list")
	if !strings.Contains(r.stdout, id) {
		t.Errorf("bob's list %s lacks %s", r.stdout, id)
	}
	r = mustOK(t, cli(t, srv, "carol", "", "list"), "carol list")
	if strings.Contains(r.stdout, id) {
		t.Errorf("carol's list shows %s", id)
	}

	// policy get / set.
	r = mustOK(t, cli(t, srv, "alice", "", "policy", "get", id), "policy get")
	if !strings.Contains(r.stdout, purposeService) {
		t.Errorf("policy get printed %s", r.stdout)
	}
	r = cli(t, srv, "alice", "", "policy", "set", id, "testdata/policy-invalid.xml")
	mustFail(t, r, "invalid policy", "HTTP 400")
	if strings.Count(r.stderr, "\n") < 2 {
		t.Errorf("an invalid policy's problems are not listed: %s", r.stderr)
	}
	mustFail(t, cli(t, srv, "bob", "", "policy", "set", id, "testdata/policy-marketing.xml"), "bob sets the policy", "HTTP 403")
	mustOK(t, cli(t, srv, "alice", "", "policy", "set", id, "testdata/policy-marketing.xml"), "policy set")
	mustOK(t, cli(t, srv, "bob", "", "get", "--purpose", purposeMarketing, id), "bob for marketing after the update")

	// events.
	r = mustOK(t, cli(t, srv, "alice", "", "events", id), "events")
	var evs []struct {
		Seq       int64
		Type      string
		Principal string
		Purpose   string
	}
	if err := json.Unmarshal([]byte(r.stdout), &evs); err != nil || len(evs) < 5 {
		t.Fatalf("events printed %s (%v)", r.stdout, err)
	}
	types := map[string]bool{}
	for _, e := range evs {
		types[e.Type] = true
	}
	for _, want := range []string{"stored", "accessed", "denied", "policy_updated"} {
		if !types[want] {
			t.Errorf("no %s event in %s", want, r.stdout)
		}
	}
	mustFail(t, cli(t, srv, "bob", "", "events", id), "bob's events", "HTTP 403")

	// notifications: a JSON array.
	r = mustOK(t, cli(t, srv, "alice", "", "notifications"), "notifications")
	var ns []json.RawMessage
	if err := json.Unmarshal([]byte(r.stdout), &ns); err != nil {
		t.Errorf("notifications printed %s (%v)", r.stdout, err)
	}

	// preferences and the controller flow.
	mustOK(t, cli(t, srv, "alice", "", "preferences", "set", "testdata/preferences.xml"), "preferences set")
	r = mustOK(t, cli(t, srv, "alice", "", "preferences", "get"), "preferences get")
	if !strings.Contains(r.stdout, purposeService) {
		t.Errorf("preferences get printed %s", r.stdout)
	}
	r = cli(t, srv, "bob", "x", "put", "--policy", "testdata/controller-policy-marketing.xml", "--subject", "alice@example.org", "-")
	mustFail(t, r, "mismatch", "HTTP 409")
	if !strings.Contains(r.stderr, "mismatch at") {
		t.Errorf("mismatches not listed: %s", r.stderr)
	}

	// delete.
	mustFail(t, cli(t, srv, "bob", "", "delete", id), "bob deletes", "HTTP 403")
	r = mustOK(t, cli(t, srv, "alice", "", "delete", id), "delete")
	if !strings.Contains(r.stdout, "deleted "+id) {
		t.Errorf("delete printed %q", r.stdout)
	}
	mustFail(t, cli(t, srv, "bob", "", "get", "--purpose", purposeService, id), "get after delete", "HTTP 404")
	r = mustOK(t, cli(t, srv, "alice", "", "events", id), "events after delete")
	if !strings.Contains(r.stdout, `"deleted"`) {
		t.Errorf("no deleted event: %s", r.stdout)
	}
}
