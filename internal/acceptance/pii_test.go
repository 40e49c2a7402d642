package acceptance

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	purposeService   = "https://w3id.org/dpv#ServiceProvision"
	purposeMarketing = "https://w3id.org/dpv#Marketing"
)

// TestServeAndHealth: the data directory is created with everything in it,
// /healthz answers, and the server stops on SIGTERM.
func TestServeAndHealth(t *testing.T) {
	s := startServer(t)
	r := s.do(http.MethodGet, "/healthz", "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /healthz: %s", r)
	}
	st, err := os.Stat(s.data)
	if err != nil || !st.IsDir() {
		t.Fatalf("--data %s was not created: %v", s.data, err)
	}
	entries, _ := os.ReadDir(s.data)
	if len(entries) == 0 {
		t.Errorf("the data directory is empty: the database and IBE master key belong there")
	}
	s.stop()
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("stickyd serve exit %d after SIGTERM, want 0", code)
	}
}

// TestAuthentication: every /v1 endpoint but the IBE parameters wants a
// bearer token; none or a wrong one is 401 with a JSON error.
func TestAuthentication(t *testing.T) {
	s := startServer(t)
	good := s.principal("subject", "alice@example.org")
	endpoints := []struct{ method, path string }{
		{"POST", "/v1/pii"}, {"GET", "/v1/pii"}, {"GET", "/v1/pii/x"}, {"DELETE", "/v1/pii/x"},
		{"GET", "/v1/pii/x/policy"}, {"PUT", "/v1/pii/x/policy"}, {"POST", "/v1/pii/x/disclosures"},
		{"GET", "/v1/pii/x/events"}, {"GET", "/v1/notifications"}, {"POST", "/v1/decision"},
		{"POST", "/v1/ibe/key"}, {"PUT", "/v1/subjects/me/preferences"}, {"GET", "/v1/subjects/me/preferences"},
		{"GET", "/v1/subjects/alice@example.org/export"}, {"POST", "/v1/subjects/alice@example.org/forget"},
		{"POST", "/v1/pii/x/restore"}, {"GET", "/v1/admin/pseudonyms/x"},
	}
	for _, e := range endpoints {
		t.Run(e.method+" "+e.path, func(t *testing.T) {
			wantError(t, s.do(e.method, e.path, "", nil), http.StatusUnauthorized)
			wantError(t, s.do(e.method, e.path, "not-a-token", nil), http.StatusUnauthorized)
			wantError(t, s.do(e.method, e.path, good+"x", nil), http.StatusUnauthorized)
			wantError(t, s.do(e.method, e.path, "", nil, "Authorization", "Basic "+good), http.StatusUnauthorized)
		})
	}
	t.Run("GET /v1/ibe/params without a token", func(t *testing.T) {
		r := s.do(http.MethodGet, "/v1/ibe/params", "", nil)
		if r.status != http.StatusOK || len(r.body) == 0 {
			t.Fatalf("GET /v1/ibe/params: %s", r)
		}
	})
	t.Run("the good token works", func(t *testing.T) {
		if r := s.do(http.MethodGet, "/v1/pii", good, nil); r.status != http.StatusOK {
			t.Fatalf("GET /v1/pii with a good token: %s", r)
		}
	})
}

// TestPIILifecycle walks one record through the contract: store, read by
// purpose (header and query), owner reads, denials, policy get/put taking
// effect at once, list, events, notifications, decision without event,
// delete (bytes gone) and events after deletion.
func TestPIILifecycle(t *testing.T) {
	// At debug level the log must still hold no ids, identities, purposes
	// or data (docs/api.md).
	s := startServer(t, "--log-level", "debug")
	alice := s.principal("subject", "alice@example.org")
	bob := s.principal("controller", "bob@example.org")
	carol := s.principal("controller", "carol@example.org")
	dave := s.principal("subject", "dave@example.org")
	admin := s.principal("admin", "root@example.org")
	marker := "ACCEPTANCE-MARKER-1f3a9c-Alice-lives-at-12-Elm-Street"
	s.secrets = append(s.secrets, marker)
	policy := readTestdata(t, "subject-policy.xml")

	before := time.Now().UTC()
	rec := s.store(alice, []byte(marker), "text/x-address; charset=utf-8", policy)
	if rec.Subject != "alice@example.org" || rec.Encrypted {
		t.Errorf("201 %+v, want subject alice@example.org and encrypted false", rec)
	}
	if rec.DeleteAt == nil {
		t.Fatalf("delete_at is null for a policy that deletes after P30D")
	}
	if d, _ := time.Parse(time.RFC3339, *rec.DeleteAt); d.Before(before.Add(30*24*time.Hour-time.Minute)) || d.After(time.Now().Add(30*24*time.Hour+time.Minute)) {
		t.Errorf("delete_at %s, want about 30 days from now", *rec.DeleteAt)
	}
	id := rec.ID
	path := "/v1/pii/" + id
	s.secrets = append(s.secrets, id, purposeService, purposeMarketing)

	wantData := func(t *testing.T, r resp) {
		t.Helper()
		if r.status != http.StatusOK {
			t.Fatalf("status %s, want 200", r)
		}
		if string(r.body) != marker {
			t.Errorf("body %q, want the stored bytes", r.body)
		}
		if ct := r.header.Get("Content-Type"); ct != "text/x-address; charset=utf-8" {
			t.Errorf("Content-Type %q, want the stored text/x-address; charset=utf-8", ct)
		}
	}

	t.Run("read", func(t *testing.T) {
		t.Run("owner without a purpose", func(t *testing.T) { wantData(t, s.do("GET", path, alice, nil)) })
		t.Run("controller with X-Purpose", func(t *testing.T) {
			wantData(t, s.do("GET", path, bob, nil, "X-Purpose", purposeService))
		})
		t.Run("controller with ?purpose=", func(t *testing.T) {
			wantData(t, s.do("GET", path+"?purpose="+url.QueryEscape(purposeService), bob, nil))
		})
		t.Run("controller without a purpose is 400", func(t *testing.T) {
			wantError(t, s.do("GET", path, bob, nil), http.StatusBadRequest)
		})
		t.Run("purpose not allowed is 403", func(t *testing.T) {
			m := wantError(t, s.do("GET", path, bob, nil, "X-Purpose", purposeMarketing), http.StatusForbidden, "decision", "reason")
			if m != nil && m["decision"] == "Permit" {
				t.Errorf("403 with decision Permit: %v", m)
			}
		})
		t.Run("controller not named is 403", func(t *testing.T) {
			wantError(t, s.do("GET", path, carol, nil, "X-Purpose", purposeService), http.StatusForbidden, "decision", "reason")
		})
		t.Run("another subject is 403", func(t *testing.T) {
			wantError(t, s.do("GET", path, dave, nil, "X-Purpose", purposeService), http.StatusForbidden, "decision", "reason")
			if r := s.do("GET", path, dave, nil); r.status != http.StatusBadRequest && r.status != http.StatusForbidden {
				t.Errorf("another subject without a purpose: %s, want 400 or 403", r)
			} else {
				wantError(t, r, r.status)
			}
		})
		t.Run("admin reads data only through the policy", func(t *testing.T) {
			r := s.do("GET", path, admin, nil, "X-Purpose", purposeService)
			if r.status == http.StatusOK || bytes.Contains(r.body, []byte(marker)) {
				t.Errorf("admin not named by the policy got the data: %s", r)
			}
		})
		t.Run("unknown id is 404", func(t *testing.T) {
			wantError(t, s.do("GET", "/v1/pii/NOSUCHRECORD0000000000000", alice, nil), http.StatusNotFound)
			wantError(t, s.do("GET", "/v1/pii/NOSUCHRECORD0000000000000", bob, nil, "X-Purpose", purposeService), http.StatusNotFound)
		})
	})

	t.Run("list", func(t *testing.T) {
		ids := func(tok string) []string {
			var out []string
			for _, m := range decodeArray(t, s.do("GET", "/v1/pii", tok, nil)) {
				out = append(out, m["id"].(string))
			}
			return out
		}
		if got := ids(alice); len(got) != 1 || got[0] != id {
			t.Errorf("alice lists %v, want [%s]", got, id)
		}
		if got := ids(bob); len(got) != 1 || got[0] != id {
			t.Errorf("bob (named by the policy) lists %v, want [%s]", got, id)
		}
		if got := ids(carol); len(got) != 0 {
			t.Errorf("carol lists %v, want nothing", got)
		}
		if got := ids(dave); len(got) != 0 {
			t.Errorf("dave (another subject) lists %v, want nothing", got)
		}
	})

	t.Run("decision", func(t *testing.T) {
		n := len(decodeArray(t, s.do("GET", path+"/events", alice, nil)))
		r := s.postJSON("/v1/decision", bob, map[string]string{"pii": id, "purpose": purposeService, "action": "read"})
		var d struct {
			Decision    string            `json:"decision"`
			Obligations []json.RawMessage `json:"obligations"`
			Reason      *string           `json:"reason"`
		}
		if r.status != http.StatusOK || json.Unmarshal(r.body, &d) != nil || d.Decision != "Permit" || d.Obligations == nil || d.Reason == nil {
			t.Errorf("POST /v1/decision (permitted): %s, want 200 {decision: Permit, obligations: [...], reason}", r)
		}
		if bytes.Contains(r.body, []byte(marker)) {
			t.Errorf("the decision carries the data: %s", r.body)
		}
		r = s.postJSON("/v1/decision", bob, map[string]string{"pii": id, "purpose": purposeMarketing, "action": "read"})
		d.Reason = nil
		if r.status != http.StatusOK || json.Unmarshal(r.body, &d) != nil || d.Decision != "Deny" || d.Reason == nil || *d.Reason == "" {
			t.Errorf("POST /v1/decision (wrong purpose): %s, want 200 {decision: Deny, reason: ...}", r)
		}
		r = s.postJSON("/v1/decision", carol, map[string]string{"pii": id, "purpose": purposeService, "action": "read"})
		if r.status != http.StatusOK || json.Unmarshal(r.body, &d) != nil || d.Decision == "Permit" {
			t.Errorf("POST /v1/decision (carol): %s, want 200 and not Permit", r)
		}
		wantError(t, s.postJSON("/v1/decision", bob, map[string]string{"pii": "NOSUCHRECORD0000000000000", "purpose": purposeService, "action": "read"}), http.StatusNotFound)
		if m := len(decodeArray(t, s.do("GET", path+"/events", alice, nil))); m != n {
			t.Errorf("POST /v1/decision wrote events: %d before, %d after", n, m)
		}
	})

	t.Run("policy", func(t *testing.T) {
		r := s.do("GET", path+"/policy", alice, nil)
		if r.status != http.StatusOK || !bytes.Contains(r.body, []byte("AuthzUseForPurpose")) {
			t.Fatalf("owner GET policy: %s", r)
		}
		if r := s.do("GET", path+"/policy", admin, nil); r.status != http.StatusOK || !bytes.Contains(r.body, []byte("Policy")) {
			t.Errorf("admin GET policy: %s", r)
		}
		wantError(t, s.do("GET", path+"/policy", bob, nil), http.StatusForbidden)
		wantError(t, s.do("GET", path+"/policy", dave, nil), http.StatusForbidden)
		wantError(t, s.do("GET", "/v1/pii/NOSUCHRECORD0000000000000/policy", alice, nil), http.StatusNotFound)

		// Marketing only: bob's very next ServiceProvision read is denied.
		marketing := strings.ReplaceAll(policy, purposeService, purposeMarketing)
		wantError(t, s.do("PUT", path+"/policy", bob, strings.NewReader(marketing), "Content-Type", "application/xml"), http.StatusForbidden)
		wantError(t, s.do("PUT", path+"/policy", admin, strings.NewReader(marketing), "Content-Type", "application/xml"), http.StatusForbidden)
		wantError(t, s.do("PUT", path+"/policy", alice, strings.NewReader(marketing), "Content-Type", "text/plain"), http.StatusUnsupportedMediaType)
		wantError(t, s.do("PUT", path+"/policy", alice, strings.NewReader("<ppl:Policy"), "Content-Type", "application/xml"), http.StatusBadRequest)
		if r := s.do("PUT", path+"/policy", alice, strings.NewReader(marketing), "Content-Type", "application/xml"); r.status != http.StatusOK && r.status != http.StatusNoContent {
			t.Fatalf("owner PUT policy: %s", r)
		}
		wantError(t, s.do("GET", path, bob, nil, "X-Purpose", purposeService), http.StatusForbidden, "decision", "reason")
		wantData(t, s.do("GET", path, bob, nil, "X-Purpose", purposeMarketing))
		if r := s.do("GET", path+"/policy", alice, nil); !bytes.Contains(r.body, []byte(purposeMarketing)) || bytes.Contains(r.body, []byte(purposeService)) {
			t.Errorf("GET policy after PUT: %s", r)
		}
		// And back.
		if r := s.do("PUT", path+"/policy", alice, strings.NewReader(policy), "Content-Type", "application/xml"); r.status != http.StatusOK && r.status != http.StatusNoContent {
			t.Fatalf("owner PUT policy back: %s", r)
		}
		wantData(t, s.do("GET", path, bob, nil, "X-Purpose", purposeService))
		wantError(t, s.do("GET", path, bob, nil, "X-Purpose", purposeMarketing), http.StatusForbidden, "decision", "reason")
	})

	t.Run("events", func(t *testing.T) {
		wantError(t, s.do("GET", path+"/events", bob, nil), http.StatusForbidden)
		wantError(t, s.do("GET", path+"/events", dave, nil), http.StatusForbidden)
		evs := decodeArray(t, s.do("GET", path+"/events", alice, nil))
		checkEvents(t, evs)
		types := eventTypes(evs)
		for _, want := range []string{"stored", "accessed", "denied", "policy_updated"} {
			if !contains(types, want) {
				t.Errorf("events lack a %q event: %v", want, types)
			}
		}
		if types[0] != "stored" {
			t.Errorf("first event %q, want stored", types[0])
		}
		var sawPurpose bool
		for _, e := range evs {
			if e["type"] == "accessed" && e["principal"] == "bob@example.org" && e["purpose"] == purposeService {
				sawPurpose = true
			}
		}
		if !sawPurpose {
			t.Errorf("no accessed event by bob@example.org with purpose %s: %v", purposeService, evs)
		}
		if admEvs := decodeArray(t, s.do("GET", path+"/events", admin, nil)); len(admEvs) != len(evs) {
			t.Errorf("admin sees %d events, owner %d", len(admEvs), len(evs))
		}
		if r := s.do("GET", path+"/events", alice, nil); bytes.Contains(r.body, []byte(marker)) {
			t.Errorf("the events carry the data")
		}
	})

	t.Run("notifications", func(t *testing.T) {
		// The policy notifies alice's inbox at each use for a purpose
		// (PT1M); the runner delivers it shortly.
		var ns []map[string]any
		deadline := time.Now().Add(15 * time.Second)
		for {
			ns = decodeArray(t, s.do("GET", "/v1/notifications", alice, nil))
			if len(ns) > 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if len(ns) == 0 {
			t.Fatal("alice's inbox is empty after bob's uses, though her policy notifies her at each use")
		}
		checkNotifications(t, ns)
		for i, n := range ns {
			if n["pii"] != id || str(n["text"]) == "" {
				t.Errorf("notification %d: %v", i, n)
			}
		}
		// bob, the delegate the policy names, may get notices too (e.g.
		// that he was given access), with the same fields, never alice's
		// use notices.
		for _, n := range decodeArray(t, s.do("GET", "/v1/notifications", bob, nil)) {
			checkNotifications(t, []map[string]any{n})
			if n["event"] == "accessed" && n["principal"] == "bob@example.org" {
				t.Errorf("bob got the owner's notice of his own use: %v", n)
			}
		}
	})

	t.Run("delete", func(t *testing.T) {
		wantError(t, s.do("DELETE", path, bob, nil), http.StatusForbidden)
		wantError(t, s.do("DELETE", path, dave, nil), http.StatusForbidden)
		wantError(t, s.do("DELETE", "/v1/pii/NOSUCHRECORD0000000000000", alice, nil), http.StatusNotFound)
		if r := s.do("DELETE", path, alice, nil); r.status != http.StatusNoContent {
			t.Fatalf("owner DELETE: %s, want 204", r)
		}
		wantError(t, s.do("GET", path, alice, nil), http.StatusNotFound)
		wantError(t, s.do("GET", path, bob, nil, "X-Purpose", purposeService), http.StatusNotFound)
		wantError(t, s.do("GET", path+"/policy", alice, nil), http.StatusNotFound)
		wantError(t, s.do("DELETE", path, alice, nil), http.StatusNotFound)
		wantError(t, s.postJSON("/v1/decision", bob, map[string]string{"pii": id, "purpose": purposeService, "action": "read"}), http.StatusNotFound)
		if got := decodeArray(t, s.do("GET", "/v1/pii", alice, nil)); len(got) != 0 {
			t.Errorf("alice still lists %v after deleting", got)
		}
		evs := decodeArray(t, s.do("GET", path+"/events", alice, nil))
		checkEvents(t, evs)
		if types := eventTypes(evs); types[len(types)-1] != "deleted" && !contains(types, "deleted") {
			t.Errorf("events after deletion lack deleted: %v", types)
		}
		decodeArray(t, s.do("GET", path+"/events", admin, nil))
		wantError(t, s.do("GET", path+"/events", bob, nil), http.StatusForbidden)
		assertNotOnDisk(t, s.data, marker)
	})

	t.Run("admin deletes", func(t *testing.T) {
		rec := s.store(alice, []byte("second record"), "text/plain", policy)
		if r := s.do("DELETE", "/v1/pii/"+rec.ID, admin, nil); r.status != http.StatusNoContent {
			t.Fatalf("admin DELETE: %s, want 204", r)
		}
		wantError(t, s.do("GET", "/v1/pii/"+rec.ID, alice, nil), http.StatusNotFound)
	})
}

// assertNotOnDisk fails when any file under dir holds marker.
func assertNotOnDisk(t *testing.T, dir, marker string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(marker)) {
			t.Errorf("%s still holds the deleted bytes", p)
		}
		return nil
	})
}

var eventTypeList = []string{"stored", "accessed", "denied", "disclosed", "policy_updated", "deleted", "notified",
	// Extensions documented in docs/api.md and docs/data-subject-rights.md.
	"subject_access", "logged", "anonymised", "obligation_failed",
	"pseudonymised", "restored", "erased", "reidentified", "exported"}

// checkEvents checks the contract's fields of an event array.
func checkEvents(t *testing.T, evs []map[string]any) {
	t.Helper()
	if len(evs) == 0 {
		t.Fatal("no events")
	}
	var prevSeq float64
	var prevTime time.Time
	for i, e := range evs {
		seq, ok := e["seq"].(float64)
		if !ok || seq <= prevSeq {
			t.Errorf("event %d: seq %v not increasing (previous %v)", i, e["seq"], prevSeq)
		}
		prevSeq = seq
		ts, err := time.Parse(time.RFC3339, str(e["time"]))
		if err != nil {
			t.Errorf("event %d: time %v: %v", i, e["time"], err)
		}
		if ts.Before(prevTime) {
			t.Errorf("event %d: not oldest first (%v before %v)", i, ts, prevTime)
		}
		prevTime = ts
		if !contains(eventTypeList, str(e["type"])) {
			t.Errorf("event %d: type %v not in the contract's list", i, e["type"])
		}
		if p, ok := e["principal"].(string); !ok || (p == "" && !contains([]string{"notified", "logged", "anonymised", "obligation_failed"}, str(e["type"]))) {
			t.Errorf("event %d: no principal: %v", i, e)
		}
		if t0 := str(e["type"]); (t0 == "accessed" || t0 == "disclosed") && str(e["purpose"]) == "" {
			t.Errorf("event %d: %s without its purpose: %v", i, t0, e)
		}
	}
}

func eventTypes(evs []map[string]any) []string {
	var out []string
	for _, e := range evs {
		out = append(out, str(e["type"]))
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// checkNotifications checks the contract's fields of an inbox, newest last.
func checkNotifications(t *testing.T, ns []map[string]any) {
	t.Helper()
	var prev time.Time
	for i, n := range ns {
		for _, k := range []string{"time", "pii", "event", "principal", "purpose", "text"} {
			if _, ok := n[k]; !ok {
				t.Errorf("notification %d lacks %q: %v", i, k, n)
			}
		}
		ts, err := time.Parse(time.RFC3339, str(n["time"]))
		if err != nil {
			t.Errorf("notification %d time %v: %v", i, n["time"], err)
		}
		if ts.Before(prev) {
			t.Errorf("notifications not newest last: %v before %v", ts, prev)
		}
		prev = ts
	}
}
