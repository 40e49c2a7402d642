package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/internal/audit"
	"github.com/stickypolicy/sticky/internal/compliance"
	"github.com/stickypolicy/sticky/internal/store"
	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/pep"
	"github.com/stickypolicy/sticky/pep/httpapi"
)

// settableClock is the clock the server, the obligation runner and the
// analyser share in the end-to-end test.
type settableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *settableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *settableClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// life is a real server (httptest over pep/httpapi and a real store) with
// the real obligation runner, driven step by step.
type life struct {
	t      *testing.T
	dir    string
	st     *store.Store
	clock  *settableClock
	runner *obligations.Runner
	url    string
	tokens map[string]string
}

func startLife(t *testing.T) *life {
	t.Helper()
	l := &life{t: t, dir: t.TempDir(), clock: &settableClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}, tokens: map[string]string{}}
	st, err := store.Open(context.Background(), l.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	l.st = st
	for _, p := range []struct {
		name string
		role pep.Role
	}{{"alice@example.org", pep.RoleSubject}, {"bob@example.org", pep.RoleController},
		{"carol@example.org", pep.RoleController}, {"erin@example.org", pep.RoleController}} {
		tok, hash, err := pep.NewToken(strings.NewReader(strings.Repeat(p.name, 8)))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddPrincipal(context.Background(), pep.Principal{Name: p.name, Role: p.role}, hash); err != nil {
			t.Fatal(err)
		}
		l.tokens[strings.TrimSuffix(p.name, "@example.org")] = tok
	}
	svc := pep.New(st, pep.WithClock(l.clock))
	l.runner = obligations.NewRunner(st, obligations.Performers{Deleter: svc}, l.clock)
	srv := httptest.NewServer(httpapi.New(svc))
	t.Cleanup(srv.Close)
	l.url = srv.URL
	return l
}

// do sends a request as who and returns the status and body.
func (l *life) do(who, method, path, contentType string, body io.Reader, header ...string) (int, []byte) {
	l.t.Helper()
	req, err := http.NewRequest(method, l.url+path, body)
	if err != nil {
		l.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+l.tokens[who])
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (l *life) expect(want int, got int, body []byte, what string) {
	l.t.Helper()
	if got != want {
		l.t.Fatalf("%s: status %d, want %d: %s", what, got, want, body)
	}
}

// store stores data for alice under policy and returns the record id.
func (l *life) store(policy []byte) string {
	l.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("data", "note.txt")
	fw.Write([]byte("alice's blood test results"))
	pw, _ := mw.CreateFormFile("policy", "policy.xml")
	pw.Write(policy)
	mw.Close()
	code, body := l.do("alice", http.MethodPost, "/v1/pii", mw.FormDataContentType(), &buf)
	l.expect(http.StatusCreated, code, body, "store")
	var out struct{ ID string }
	if err := json.Unmarshal(body, &out); err != nil || out.ID == "" {
		l.t.Fatalf("store answer %s: %v", body, err)
	}
	return out.ID
}

// work lets the obligation runner perform everything due now.
func (l *life) work() {
	l.t.Helper()
	for _, lane := range obligations.AllLanes() {
		for {
			n, err := l.runner.ProcessDue(context.Background(), lane)
			if err != nil {
				l.t.Fatalf("runner: %v", err)
			}
			if n == 0 {
				break
			}
		}
	}
}

// buildBinary builds one of the module's commands into a test directory.
func buildBinary(t *testing.T, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), filepath.Base(pkg))
	out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// TestEndToEnd drives a record through its life on the real server, exports
// its log with the real `stickyd log export` and checks it with
// loganalyser: compliant; a forged line is tampering.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the stickyd binary")
	}
	bin := buildBinary(t, "github.com/stickypolicy/sticky/cmd/stickyd")
	l := startLife(t)
	policy, err := os.ReadFile("testdata/e2e-policy.xml")
	if err != nil {
		t.Fatal(err)
	}
	service := []string{"X-Purpose", "https://w3id.org/dpv#ServiceProvision"}
	id := l.store(policy)
	l.work()

	l.clock.Advance(time.Hour)
	code, body := l.do("bob", http.MethodGet, "/v1/pii/"+id, "", nil, service...)
	l.expect(http.StatusOK, code, body, "bob reads for service provision")
	l.work()

	l.clock.Advance(time.Minute)
	code, body = l.do("bob", http.MethodGet, "/v1/pii/"+id, "", nil, "X-Purpose", "https://w3id.org/dpv#Marketing")
	l.expect(http.StatusForbidden, code, body, "bob reads for marketing")
	code, body = l.do("carol", http.MethodGet, "/v1/pii/"+id, "", nil, service...)
	l.expect(http.StatusForbidden, code, body, "carol reads")
	l.work()

	l.clock.Advance(time.Minute)
	code, body = l.do("bob", http.MethodPost, "/v1/pii/"+id+"/disclosures", "application/json",
		strings.NewReader(`{"recipient":"erin@example.org","purpose":"https://w3id.org/dpv#ServiceProvision"}`))
	l.expect(http.StatusCreated, code, body, "bob discloses to erin")
	code, body = l.do("bob", http.MethodPost, "/v1/pii/"+id+"/disclosures", "application/json",
		strings.NewReader(`{"recipient":"carol@example.org","purpose":"https://w3id.org/dpv#ServiceProvision"}`))
	l.expect(http.StatusForbidden, code, body, "bob discloses to carol")
	l.work()

	l.clock.Advance(time.Minute)
	code, body = l.do("erin", http.MethodGet, "/v1/pii/"+id, "", nil, service...)
	l.expect(http.StatusOK, code, body, "erin reads what bob disclosed")
	code, body = l.do("alice", http.MethodGet, "/v1/pii/"+id, "", nil)
	l.expect(http.StatusOK, code, body, "alice reads her own data")
	l.work()

	// The retention deadline (P1D after storage) comes; the runner deletes
	// the record on time.
	l.clock.Advance(24*time.Hour - 3*time.Minute - time.Hour)
	l.work()
	code, body = l.do("bob", http.MethodGet, "/v1/pii/"+id, "", nil, service...)
	l.expect(http.StatusNotFound, code, body, "bob reads after deletion")
	at := l.clock.Now().Add(time.Minute).Format(time.RFC3339Nano)

	// A second record that nobody deletes: the runner stops here, so at a
	// check time past its deadline its deletion is missing.
	forgotten := l.store(policy)
	later := l.clock.Now().Add(48 * time.Hour).Format(time.RFC3339Nano)

	exportLog := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"log", "export", "--data", l.dir}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("stickyd log export %v: %v: %s", args, err, stderr.String())
		}
		return out
	}
	dir := t.TempDir()
	policyFile := filepath.Join(dir, "policy.xml")
	os.WriteFile(policyFile, policy, 0o600)
	analyse := func(args ...string) (int, compliance.Report, string) {
		t.Helper()
		var out, errb bytes.Buffer
		if !slices.Contains(args, "--at") {
			args = append(args, "--at", at)
		}
		code := run(context.Background(), append(args, "--json"), &out, &errb)
		var rep compliance.Report
		if code != exitCannotCheck {
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatalf("report %q: %v (stderr %s)", out.String(), err, errb.String())
			}
		}
		return code, rep, errb.String()
	}

	withIDs := exportLog("--identities", id)
	logFile := filepath.Join(dir, "with-identities.jsonl")
	os.WriteFile(logFile, withIDs, 0o600)
	lines := strings.Split(strings.TrimSpace(string(withIDs)), "\n")
	for _, typ := range []string{"stored", "accessed", "denied", "disclosed", "subject_access", "notified", "deleted"} {
		if !strings.Contains(string(withIDs), `"type":"`+typ+`"`) {
			t.Errorf("the exported log has no %s entry:\n%s", typ, withIDs)
		}
	}
	// Entries are looked up by type, not by a fixed seq: what the server
	// writes between them (e.g. notices) may change.
	seqOf := func(typ string) int64 {
		t.Helper()
		for _, line := range lines[1:] {
			var e struct {
				Seq  int64
				Type string
			}
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatal(err)
			}
			if e.Type == typ {
				return e.Seq
			}
		}
		t.Fatalf("the exported log has no %s entry:\n%s", typ, withIDs)
		return 0
	}
	for _, want := range []string{
		fmt.Sprintf("obligation-2 by inbox about accessed (trigger seq %d)", seqOf("accessed")),
		// bob, the delegate the policy names, was told at storage.
		fmt.Sprintf("sticky:delegate-notice by inbox about stored (trigger seq %d)", seqOf("stored")),
	} {
		if !strings.Contains(string(withIDs), want) {
			t.Errorf("the log has no notification %q naming its trigger:\n%s", want, withIDs)
		}
	}
	for _, line := range lines[1:] {
		if strings.Contains(line, "@example.org") {
			t.Errorf("an entry carries an identity (hashed into the chain, it could never be forgotten): %s", line)
		}
		var e struct{ Principal, Recipient string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{e.Principal, e.Recipient} {
			if p != "" && !audit.IsPseudonym(p) {
				t.Errorf("entry carries %q instead of a pseudonym: %s", p, line)
			}
		}
	}

	t.Run("compliant from the export", func(t *testing.T) {
		code, rep, errs := analyse("--log", logFile, "--policy", policyFile)
		if code != exitCompliant || rep.Verdict != compliance.Compliant {
			t.Fatalf("exit %d, report %+v, stderr %s\nlog:\n%s", code, rep, errs, withIDs)
		}
		if rep.Entries != len(lines)-1 {
			t.Errorf("report checked %d entries, the log has %d", rep.Entries, len(lines)-1)
		}
	})
	t.Run("compliant from the store", func(t *testing.T) {
		code, rep, errs := analyse("--data", l.dir, id)
		if code != exitCompliant || rep.Verdict != compliance.Compliant || len(rep.Notes) != 0 {
			t.Fatalf("exit %d, report %+v, stderr %s", code, rep, errs)
		}
	})
	t.Run("compliant without identities, saying what was not checked", func(t *testing.T) {
		plain := exportLog(id)
		if strings.Contains(string(plain), "@example.org\"") && strings.Contains(string(plain), `"identities"`) {
			t.Fatalf("export without --identities carries identities:\n%s", plain)
		}
		f := filepath.Join(dir, "pseudonyms.jsonl")
		os.WriteFile(f, plain, 0o600)
		code, rep, errs := analyse("--log", f, "--policy", policyFile)
		if code != exitCompliant || len(rep.Notes) == 0 {
			t.Fatalf("exit %d, report %+v, stderr %s", code, rep, errs)
		}
	})
	t.Run("deletion missing on the unattended record", func(t *testing.T) {
		code, rep, errs := analyse("--data", l.dir, forgotten, "--at", at)
		if code != exitCompliant {
			t.Fatalf("before its deadline: exit %d, report %+v, stderr %s", code, rep, errs)
		}
		code, rep, errs = analyse("--data", l.dir, forgotten, "--at", later)
		if code != exitNonCompliant || rep.Verdict != compliance.NonCompliant || len(rep.Violations) != 1 ||
			rep.Violations[0].Rule != compliance.RuleDeletionMissing {
			t.Fatalf("exit %d, report %+v, stderr %s", code, rep, errs)
		}
	})
	t.Run("unknown record", func(t *testing.T) {
		code, _, errs := analyse("--data", l.dir, "no-such-record")
		if code != exitCannotCheck || !strings.Contains(errs, "no record") {
			t.Fatalf("exit %d, stderr %s", code, errs)
		}
		cmd := exec.Command(bin, "log", "export", "--data", l.dir, "no-such-record")
		if err := cmd.Run(); err == nil {
			t.Error("stickyd log export of an unknown record succeeded")
		}
	})
	t.Run("after the data subject is forgotten", func(t *testing.T) {
		code, body := l.do("alice", http.MethodPost, "/v1/subjects/alice@example.org/forget", "", nil)
		l.expect(http.StatusOK, code, body, "alice forgets herself")
		for _, rec := range []string{id, forgotten} {
			code, rep, errs := analyse("--data", l.dir, rec)
			if code != exitCompliant || rep.Verdict != compliance.Compliant {
				t.Fatalf("record %s after forget: exit %d, report %+v, stderr %s", rec, code, rep, errs)
			}
			if strings.Contains(fmt.Sprint(rep), "alice@example.org") {
				t.Errorf("the report after forget names the forgotten subject: %+v", rep)
			}
		}
		after := exportLog("--identities", id)
		if strings.Contains(string(after), `"alice@example.org"`) {
			t.Errorf("the export after forget still maps a pseudonym to the forgotten subject")
		}
		if !strings.HasPrefix(strings.SplitN(string(after), "\n", 2)[1], lines[1]) {
			t.Errorf("the chain changed when the subject was forgotten")
		}
	})
	t.Run("forging any line is tampering", func(t *testing.T) {
		for i := 1; i < len(lines); i++ {
			var m map[string]any
			if err := json.Unmarshal([]byte(lines[i]), &m); err != nil {
				t.Fatal(err)
			}
			m["reason"] = fmt.Sprint(m["reason"], " ")
			b, _ := json.Marshal(m)
			forged := append(append([]string(nil), lines...), "")
			forged[i] = string(b)
			f := filepath.Join(dir, fmt.Sprintf("forged-%d.jsonl", i))
			os.WriteFile(f, []byte(strings.Join(forged, "\n")), 0o600)
			code, rep, errs := analyse("--log", f, "--policy", policyFile)
			if code != exitNonCompliant || rep.Verdict != compliance.TamperedLog || rep.Violations[0].Seq != int64(i) {
				t.Fatalf("line %d forged: exit %d, report %+v, stderr %s", i+1, code, rep, errs)
			}
		}
	})
}
