package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

func TestStoreAndRetrieve(t *testing.T) {
	e := newEnv(t)
	r := e.post("alice",
		part{name: "data", contentType: "text/csv", value: []byte("a,b\n1,2\n")},
		part{name: "policy", value: readTestdata(t, "subject-policy.xml")})
	wantStatus(t, r, http.StatusCreated)
	var c struct {
		ID        string  `json:"id"`
		Subject   string  `json:"subject"`
		DeleteAt  *string `json:"delete_at"`
		Encrypted bool    `json:"encrypted"`
	}
	r.json(t, &c)
	if len(c.ID) < 20 || c.Subject != "alice@example.org" || c.Encrypted {
		t.Errorf("created = %+v", c)
	}
	wantDeadline := e.clock.Now().AddDate(0, 0, 30).UTC().Format(time.RFC3339)
	if c.DeleteAt == nil || *c.DeleteAt != wantDeadline {
		t.Errorf("delete_at = %v, want %s (P30D after storage)", c.DeleteAt, wantDeadline)
	}
	if loc := r.header.Get("Location"); loc != "/v1/pii/"+c.ID {
		t.Errorf("Location = %q", loc)
	}

	t.Run("delegate with X-Purpose", func(t *testing.T) {
		r := e.get(c.ID, "bob", purposeService)
		wantStatus(t, r, http.StatusOK)
		if string(r.body) != "a,b\n1,2\n" || r.header.Get("Content-Type") != "text/csv" {
			t.Errorf("got %q as %q", r.body, r.header.Get("Content-Type"))
		}
	})
	t.Run("delegate with ?purpose=", func(t *testing.T) {
		r := e.do(http.MethodGet, "/v1/pii/"+c.ID+"?purpose="+strings.ReplaceAll(purposeService, "#", "%23"), "bob", nil, nil)
		wantStatus(t, r, http.StatusOK)
	})
	t.Run("owner without purpose", func(t *testing.T) {
		r := e.get(c.ID, "alice", "")
		wantStatus(t, r, http.StatusOK)
		if string(r.body) != "a,b\n1,2\n" {
			t.Errorf("owner got %q", r.body)
		}
	})
	t.Run("events", func(t *testing.T) {
		evs := e.events(c.ID, "alice")
		var types []string
		for _, ev := range evs {
			types = append(types, ev.Type)
		}
		// bob, the delegate the policy names, is told at storage that he
		// was given access, and each use by bob owes alice an inbox
		// notification, each delivered in its event's own transaction
		// ("notified" right after "stored" and after "accessed").
		if strings.Join(types, ",") != "stored,notified,accessed,notified,accessed,notified,subject_access" {
			t.Fatalf("event types = %v", types)
		}
		if evs[1].Recipient != "bob@example.org" || !strings.HasPrefix(evs[1].Reason, "sticky:delegate-notice by inbox about stored") {
			t.Errorf("delegate notice event = %+v", evs[1])
		}
		if evs[2].Principal != "bob@example.org" || evs[2].Purpose != purposeService || evs[2].Decision != "Permit" {
			t.Errorf("access event = %+v", evs[2])
		}
		for i, ev := range evs {
			if ev.Seq != int64(i+1) || ev.Hash == "" || (i > 0 && ev.Prev != evs[i-1].Hash) {
				t.Errorf("event %d breaks the chain: %+v", i, ev)
			}
			if _, err := time.Parse(time.RFC3339, ev.Time); err != nil {
				t.Errorf("event time %q: %v", ev.Time, err)
			}
		}
	})
}

func TestReadDenials(t *testing.T) {
	e := newEnv(t)
	id := e.put("alice", "secret", "subject-policy.xml")
	gone := e.put("alice", "soon gone", "subject-policy.xml")
	wantStatus(t, e.do(http.MethodDelete, "/v1/pii/"+gone, "alice", nil, nil), http.StatusNoContent)

	tests := []struct {
		name    string
		id      string
		who     string
		purpose string
		status  int
		msg     string // fragment of the error (or of the reason for 403)
	}{
		{"wrong purpose", id, "bob", purposeMarketing, 403, "Marketing"},
		{"not a delegate", id, "carol", purposeService, 403, "carol@example.org"},
		{"another subject's data", id, "dave", "", 403, "only its own records"},
		{"another subject's data with purpose", id, "dave", purposeService, 403, "only its own records"},
		{"admin not granted by the policy", id, "root", purposeService, 403, "root@example.org"},
		{"no purpose", id, "bob", "", 400, "purpose"},
		{"no token", id, "", purposeService, 401, "Bearer"},
		{"bad token", id, "sticky_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", purposeService, 401, "token"},
		{"not a token", id, "hunter2", purposeService, 401, "token"},
		{"unknown id", "doesnotexist", "bob", purposeService, 404, "no such record"},
		{"after deletion", gone, "bob", purposeService, 404, "no such record"},
		{"after deletion, owner", gone, "alice", "", 404, "no such record"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get(tc.id, tc.who, tc.purpose)
			if tc.status == 403 {
				wantDenied(t, r, tc.msg)
				if bytes.Contains(r.body, []byte("secret")) {
					t.Error("a denial carries the data")
				}
				return
			}
			wantError(t, r, tc.status, tc.msg)
		})
	}
	t.Run("denials are events", func(t *testing.T) {
		var denied int
		for _, ev := range e.events(id, "alice") {
			if ev.Type == "denied" {
				denied++
				if ev.Decision != "Deny" || ev.Reason == "" || ev.Principal == "" {
					t.Errorf("denied event = %+v", ev)
				}
			}
		}
		if denied != 5 {
			t.Errorf("%d denied events, want 5 (wrong purpose, not a delegate, another subject twice, admin)", denied)
		}
	})
	t.Run("malformed Authorization", func(t *testing.T) {
		r := e.do(http.MethodGet, "/v1/pii/"+id, "", nil, map[string]string{"Authorization": "Basic Ym9iOmJvYg=="})
		wantError(t, r, 401, "Bearer")
		if r.header.Get("WWW-Authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
	})
}

func TestRetentionDeadline(t *testing.T) {
	e := newEnv(t)
	id := e.put("alice", "short-lived", "subject-policy.xml")
	wantStatus(t, e.get(id, "bob", purposeService), http.StatusOK)
	e.clock.Advance(30*24*time.Hour - time.Second)
	wantStatus(t, e.get(id, "bob", purposeService), http.StatusOK)
	e.clock.Advance(time.Second) // exactly the deadline: no longer served, deletion job or not
	wantDenied(t, e.get(id, "bob", purposeService), "retention")
	wantDenied(t, e.get(id, "alice", ""), "retention")
	r := e.do(http.MethodGet, "/v1/pii", "alice", nil, nil)
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(string(r.body), id) {
		t.Error("a record past its deadline is listed")
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t, httpapiMaxBody(64<<10))
	policy := readTestdata(t, "subject-policy.xml")
	data := part{name: "data", value: []byte("x")}
	pol := part{name: "policy", value: policy}

	t.Run("wrong content type", func(t *testing.T) {
		r := e.do(http.MethodPost, "/v1/pii", "alice", strings.NewReader(`{"data":"x"}`), map[string]string{"Content-Type": "application/json"})
		wantError(t, r, 415, "multipart/form-data")
	})
	t.Run("no content type", func(t *testing.T) {
		wantError(t, e.do(http.MethodPost, "/v1/pii", "alice", strings.NewReader("x"), nil), 415, "Content-Type")
	})
	t.Run("malformed multipart", func(t *testing.T) {
		r := e.do(http.MethodPost, "/v1/pii", "alice", strings.NewReader("--XYZ\r\ngarbage without end"),
			map[string]string{"Content-Type": "multipart/form-data; boundary=XYZ"})
		wantError(t, r, 400, "malformed multipart")
	})
	t.Run("no boundary", func(t *testing.T) {
		r := e.do(http.MethodPost, "/v1/pii", "alice", strings.NewReader("x"), map[string]string{"Content-Type": "multipart/form-data"})
		wantError(t, r, 400, "boundary")
	})
	t.Run("missing data", func(t *testing.T) { wantError(t, e.post("alice", pol), 400, "data part is missing") })
	t.Run("missing policy", func(t *testing.T) { wantError(t, e.post("alice", data), 400, "policy part is missing") })
	t.Run("unknown part", func(t *testing.T) {
		wantError(t, e.post("alice", data, pol, part{name: "colour", value: []byte("red")}), 400, `unknown part "colour"`)
	})
	t.Run("duplicate part", func(t *testing.T) { wantError(t, e.post("alice", data, pol, data), 400, `"data" is given twice`) })
	t.Run("policy not XML", func(t *testing.T) {
		m := wantError(t, e.post("alice", data, part{name: "policy", value: []byte("this is not xml")}), 400, "policy")
		_ = m
	})
	t.Run("invalid policy names the problem", func(t *testing.T) {
		bad := bytes.Replace(policy, []byte(`Effect="Permit"`), []byte(`Effect="Perhaps"`), 1)
		m := wantError(t, e.post("alice", data, part{name: "policy", value: bad}), 400, "Perhaps")
		if _, ok := m["problems"]; !ok {
			t.Errorf("no problems listed: %v", m)
		}
	})
	t.Run("empty policy", func(t *testing.T) {
		wantError(t, e.post("alice", data, part{name: "policy", value: []byte("  ")}), 400, "policy is empty")
	})
	t.Run("oversize body", func(t *testing.T) {
		big := part{name: "data", value: bytes.Repeat([]byte("x"), 65<<10)}
		wantError(t, e.post("alice", big, pol), 413, "64 KiB")
	})
	t.Run("oversize chunked body", func(t *testing.T) {
		body, ct := multipartBody(t, part{name: "data", value: bytes.Repeat([]byte("y"), 80<<10)}, pol)
		// io.MultiReader hides the length: the request is sent chunked and the
		// limit is enforced while reading.
		r := e.do(http.MethodPost, "/v1/pii", "alice", io.MultiReader(body), map[string]string{"Content-Type": ct})
		wantError(t, r, 413, "64 KiB")
	})
	t.Run("controller without subject", func(t *testing.T) {
		wantError(t, e.post("bob", data, part{name: "policy", value: readTestdata(t, "controller-policy.xml")}), 400, "must name the data subject")
	})
	t.Run("controller names a non-subject", func(t *testing.T) {
		r := e.post("bob", data, part{name: "policy", value: readTestdata(t, "controller-policy.xml")}, part{name: "subject", value: []byte("carol@example.org")})
		wantError(t, r, 400, "not a registered data subject")
	})
	t.Run("subject stores for another", func(t *testing.T) {
		wantDenied(t, e.post("alice", data, pol, part{name: "subject", value: []byte("dave@example.org")}), "only its own data")
	})
	t.Run("admin stores", func(t *testing.T) { wantDenied(t, e.post("root", data, pol), "may not store") })
	t.Run("encrypt_for without IBE", func(t *testing.T) {
		wantError(t, e.post("alice", data, pol, part{name: "encrypt_for", value: []byte("bob@example.org")}), 503, "not configured")
	})
	t.Run("encrypt_for empty", func(t *testing.T) {
		wantError(t, e.post("alice", data, pol, part{name: "encrypt_for", value: []byte(" , ")}), 400, "encrypt_for")
	})
	t.Run("nothing was stored", func(t *testing.T) {
		r := e.do(http.MethodGet, "/v1/pii", "root", nil, nil)
		wantStatus(t, r, 200)
		if strings.TrimSpace(string(r.body)) != "[]" {
			t.Errorf("records after only failed stores: %s", r.body)
		}
	})
	t.Run("oversize policy update", func(t *testing.T) {
		id := e.put("alice", "x", "subject-policy.xml")
		big := bytes.Repeat([]byte(" "), 70<<10)
		r := e.do(http.MethodPut, "/v1/pii/"+id+"/policy", "alice", io.MultiReader(bytes.NewReader(big)), map[string]string{"Content-Type": "application/xml"})
		wantError(t, r, 413, "too large")
	})
	t.Run("non-JSON body", func(t *testing.T) {
		id := e.put("alice", "x", "subject-policy.xml")
		r := e.do(http.MethodPost, "/v1/pii/"+id+"/disclosures", "bob", strings.NewReader("{not json"), map[string]string{"Content-Type": "application/json"})
		wantError(t, r, 400, "JSON")
		r = e.do(http.MethodPost, "/v1/decision", "bob", strings.NewReader(`{"pii": 42}`), map[string]string{"Content-Type": "application/json"})
		wantError(t, r, 400, "JSON")
		r = e.do(http.MethodPost, "/v1/decision", "bob", strings.NewReader(`{"pii":"x","colour":"red"}`), map[string]string{"Content-Type": "application/json"})
		wantError(t, r, 400, "colour")
		r = e.do(http.MethodPost, "/v1/decision", "bob", strings.NewReader(``), map[string]string{"Content-Type": "application/json"})
		wantError(t, r, 400, "empty")
	})
	t.Run("unknown endpoint", func(t *testing.T) {
		wantError(t, e.do(http.MethodGet, "/v1/nothing", "bob", nil, nil), 404, "no such endpoint")
	})
	t.Run("wrong method", func(t *testing.T) { wantError(t, e.do(http.MethodPatch, "/v1/pii", "bob", nil, nil), 405, "PATCH") })
}

func TestPolicyEndpoints(t *testing.T) {
	e := newEnv(t)
	id := e.put("alice", "data", "subject-policy.xml")
	policy := readTestdata(t, "subject-policy.xml")

	r := e.do(http.MethodGet, "/v1/pii/"+id+"/policy", "alice", nil, nil)
	wantStatus(t, r, 200)
	if !bytes.Equal(r.body, policy) || r.header.Get("Content-Type") != "application/xml" {
		t.Errorf("owner's policy = %q (%s)", r.body, r.header.Get("Content-Type"))
	}
	wantStatus(t, e.do(http.MethodGet, "/v1/pii/"+id+"/policy", "root", nil, nil), 200)
	wantDenied(t, e.do(http.MethodGet, "/v1/pii/"+id+"/policy", "bob", nil, nil), "data subject or an admin")
	wantDenied(t, e.do(http.MethodGet, "/v1/pii/"+id+"/policy", "dave", nil, nil), "data subject or an admin")
	wantError(t, e.do(http.MethodGet, "/v1/pii/nope/policy", "alice", nil, nil), 404, "no such record")

	xml := map[string]string{"Content-Type": "application/xml"}
	nobody := readTestdata(t, "subject-policy-nobody.xml")
	t.Run("update by others", func(t *testing.T) {
		wantDenied(t, e.do(http.MethodPut, "/v1/pii/"+id+"/policy", "bob", bytes.NewReader(nobody), xml), "data subject")
		wantDenied(t, e.do(http.MethodPut, "/v1/pii/"+id+"/policy", "root", bytes.NewReader(nobody), xml), "data subject")
	})
	t.Run("update bad input", func(t *testing.T) {
		wantError(t, e.do(http.MethodPut, "/v1/pii/"+id+"/policy", "alice", bytes.NewReader(nobody), map[string]string{"Content-Type": "text/plain"}), 415, "application/xml")
		wantError(t, e.do(http.MethodPut, "/v1/pii/"+id+"/policy", "alice", strings.NewReader("<oops"), xml), 400, "policy")
		wantError(t, e.do(http.MethodPut, "/v1/pii/nope/policy", "alice", bytes.NewReader(nobody), xml), 404, "no such record")
	})
	t.Run("update takes effect on the next request", func(t *testing.T) {
		wantStatus(t, e.get(id, "bob", purposeService), 200) // compiled and cached
		r := e.do(http.MethodPut, "/v1/pii/"+id+"/policy", "alice", bytes.NewReader(nobody), xml)
		wantStatus(t, r, 200)
		wantDenied(t, e.get(id, "bob", purposeService), "")
		got := e.do(http.MethodGet, "/v1/pii/"+id+"/policy", "alice", nil, nil)
		if !bytes.Equal(got.body, nobody) || got.header.Get("X-Sticky-Policy-Version") != "2" {
			t.Errorf("policy after update: version %s", got.header.Get("X-Sticky-Policy-Version"))
		}
		// And back.
		wantStatus(t, e.do(http.MethodPut, "/v1/pii/"+id+"/policy", "alice", bytes.NewReader(policy), xml), 200)
		wantStatus(t, e.get(id, "bob", purposeService), 200)
	})
	t.Run("policy_updated events", func(t *testing.T) {
		n := 0
		for _, ev := range e.events(id, "alice") {
			if ev.Type == "policy_updated" {
				n++
			}
		}
		if n != 2 {
			t.Errorf("%d policy_updated events, want 2", n)
		}
	})
}

func TestDelete(t *testing.T) {
	e := newEnv(t)
	marker := "MARKER-" + strings.Repeat("q7", 20) + time.Now().Format("150405.000000000")
	id := e.put("alice", marker, "subject-policy.xml")
	other := e.put("alice", "other", "subject-policy.xml")

	wantDenied(t, e.do(http.MethodDelete, "/v1/pii/"+id, "bob", nil, nil), "data subject or an admin")
	wantDenied(t, e.do(http.MethodDelete, "/v1/pii/"+id, "dave", nil, nil), "data subject or an admin")
	wantStatus(t, e.get(id, "bob", purposeService), 200)

	if !dbContains(t, e, marker) {
		t.Fatal("the marker is not in the database files: the erasure check below would prove nothing")
	}
	r := e.do(http.MethodDelete, "/v1/pii/"+id, "alice", nil, nil)
	wantStatus(t, r, http.StatusNoContent)
	if len(r.body) != 0 {
		t.Errorf("204 with a body: %q", r.body)
	}
	if dbContains(t, e, marker) {
		t.Error("the deleted bytes are still in the database file or its WAL")
	}
	wantError(t, e.do(http.MethodDelete, "/v1/pii/"+id, "alice", nil, nil), 404, "no such record")
	wantError(t, e.get(id, "alice", ""), 404, "no such record")

	t.Run("admin deletes", func(t *testing.T) {
		wantStatus(t, e.do(http.MethodDelete, "/v1/pii/"+other, "root", nil, nil), http.StatusNoContent)
	})
	t.Run("events outlive the record", func(t *testing.T) {
		evs := e.events(id, "alice")
		last := evs[len(evs)-1]
		if last.Type != "deleted" || last.Principal != "alice@example.org" {
			t.Errorf("last event = %+v", last)
		}
		if len(e.events(id, "root")) != len(evs) {
			t.Error("the admin sees other events")
		}
		wantDenied(t, e.do(http.MethodGet, "/v1/pii/"+id+"/events", "bob", nil, nil), "data subject or an admin")
		wantError(t, e.do(http.MethodGet, "/v1/pii/nope/events", "alice", nil, nil), 404, "no such record")
	})
}

// dbContains searches the SQLite file and its WAL for s.
func dbContains(t *testing.T, e *env, s string) bool {
	t.Helper()
	for _, p := range []string{e.st.Path(), e.st.Path() + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

func TestControllerFlow(t *testing.T) {
	e := newEnv(t)
	prefs := readTestdata(t, "preferences.xml")
	xml := map[string]string{"Content-Type": "application/xml"}
	data := part{name: "data", value: []byte("alice's account")}
	alice := part{name: "subject", value: []byte("alice@example.org")}

	t.Run("no preferences registered", func(t *testing.T) {
		r := e.post("bob", data, alice, part{name: "policy", value: readTestdata(t, "controller-policy.xml")})
		m := wantError(t, r, 409, "alice@example.org")
		if ms, _ := m["mismatches"].([]any); len(ms) == 0 {
			t.Errorf("409 without mismatches: %s", r.body)
		}
	})
	t.Run("preferences", func(t *testing.T) {
		wantDenied(t, e.do(http.MethodPut, "/v1/subjects/me/preferences", "bob", bytes.NewReader(prefs), xml), "data subject")
		wantError(t, e.do(http.MethodPut, "/v1/subjects/me/preferences", "alice", bytes.NewReader(prefs), map[string]string{"Content-Type": "application/json"}), 415, "application/xml")
		wantError(t, e.do(http.MethodPut, "/v1/subjects/me/preferences", "alice", strings.NewReader("<nope/>"), xml), 400, "preferences")
		wantError(t, e.do(http.MethodGet, "/v1/subjects/me/preferences", "alice", nil, nil), 404, "no preferences")
		wantStatus(t, e.do(http.MethodPut, "/v1/subjects/me/preferences", "alice", bytes.NewReader(prefs), xml), 200)
		r := e.do(http.MethodGet, "/v1/subjects/me/preferences", "alice", nil, nil)
		wantStatus(t, r, 200)
		if !bytes.Equal(r.body, prefs) {
			t.Errorf("preferences = %s", r.body)
		}
	})
	t.Run("mismatch stores nothing", func(t *testing.T) {
		r := e.post("bob", data, alice, part{name: "policy", value: readTestdata(t, "controller-policy-marketing.xml")})
		m := wantError(t, r, 409, "does not match")
		ms, _ := m["mismatches"].([]any)
		if len(ms) == 0 || !strings.Contains(string(r.body), "Marketing") {
			t.Errorf("mismatches do not name the purpose: %s", r.body)
		}
		lr := e.do(http.MethodGet, "/v1/pii", "alice", nil, nil)
		if strings.TrimSpace(string(lr.body)) != "[]" {
			t.Errorf("alice's records after a mismatch: %s", lr.body)
		}
	})
	t.Run("match stores the agreed sticky policy", func(t *testing.T) {
		r := e.post("bob", data, alice, part{name: "policy", value: readTestdata(t, "controller-policy.xml")})
		wantStatus(t, r, 201)
		var c struct {
			ID       string  `json:"id"`
			Subject  string  `json:"subject"`
			DeleteAt *string `json:"delete_at"`
		}
		r.json(t, &c)
		if c.Subject != "alice@example.org" {
			t.Errorf("subject = %q", c.Subject)
		}
		if want := e.clock.Now().AddDate(0, 0, 7).UTC().Format(time.RFC3339); c.DeleteAt == nil || *c.DeleteAt != want {
			t.Errorf("delete_at = %v, want %s (the controller's stricter P7D)", c.DeleteAt, want)
		}
		pr := e.do(http.MethodGet, "/v1/pii/"+c.ID+"/policy", "alice", nil, nil)
		wantStatus(t, pr, 200)
		if !strings.Contains(string(pr.body), "StickyPolicy") {
			t.Errorf("stored policy has no ppl:StickyPolicy: %s", pr.body)
		}
		wantStatus(t, e.get(c.ID, "alice", ""), 200)
		wantStatus(t, e.get(c.ID, "bob", purposeService), 200)
		wantDenied(t, e.get(c.ID, "bob", purposeMarketing), "")
		wantDenied(t, e.get(c.ID, "carol", purposeService), "")
		// Bob stored it but is not its owner.
		wantDenied(t, e.do(http.MethodDelete, "/v1/pii/"+c.ID, "bob", nil, nil), "data subject or an admin")
		wantDenied(t, e.do(http.MethodGet, "/v1/pii/"+c.ID+"/events", "bob", nil, nil), "data subject or an admin")
	})
}

func TestDisclosure(t *testing.T) {
	e := newEnv(t)
	shared := e.put("alice", "shareable", "subject-policy-downstream.xml")
	private := e.put("alice", "private", "subject-policy.xml")
	path := func(id string) string { return "/v1/pii/" + id + "/disclosures" }

	wantDenied(t, e.get(shared, "erin", purposeService), "") // not yet
	t.Run("forbidden recipient", func(t *testing.T) {
		r := e.jsonReq(http.MethodPost, path(shared), "bob", map[string]string{"recipient": "carol@example.org", "purpose": purposeService})
		wantDenied(t, r, "")
		wantDenied(t, e.get(shared, "carol", purposeService), "")
	})
	t.Run("downstream not allowed", func(t *testing.T) {
		r := e.jsonReq(http.MethodPost, path(private), "bob", map[string]string{"recipient": "erin@example.org", "purpose": purposeService})
		wantDenied(t, r, "downstream")
	})
	t.Run("discloser without access", func(t *testing.T) {
		r := e.jsonReq(http.MethodPost, path(shared), "carol", map[string]string{"recipient": "erin@example.org", "purpose": purposeService})
		wantDenied(t, r, "no access")
	})
	t.Run("discloser with a forbidden purpose", func(t *testing.T) {
		r := e.jsonReq(http.MethodPost, path(shared), "bob", map[string]string{"recipient": "erin@example.org", "purpose": purposeMarketing})
		wantDenied(t, r, "")
	})
	t.Run("subject may not disclose", func(t *testing.T) {
		r := e.jsonReq(http.MethodPost, path(shared), "alice", map[string]string{"recipient": "erin@example.org", "purpose": purposeService})
		wantDenied(t, r, "controller")
	})
	t.Run("bad input", func(t *testing.T) {
		wantError(t, e.jsonReq(http.MethodPost, path(shared), "bob", map[string]string{"purpose": purposeService}), 400, "recipient")
		wantError(t, e.jsonReq(http.MethodPost, path(shared), "bob", map[string]string{"recipient": "erin@example.org"}), 400, "purpose")
		wantError(t, e.do(http.MethodPost, path(shared), "bob", strings.NewReader(`{}`), map[string]string{"Content-Type": "text/plain"}), 415, "application/json")
		wantError(t, e.jsonReq(http.MethodPost, path("nope"), "bob", map[string]string{"recipient": "erin@example.org", "purpose": purposeService}), 404, "no such record")
	})
	t.Run("permitted", func(t *testing.T) {
		r := e.jsonReq(http.MethodPost, path(shared), "bob", map[string]string{"recipient": "erin@example.org", "purpose": purposeService})
		wantStatus(t, r, 201)
		var d map[string]string
		r.json(t, &d)
		if d["recipient"] != "erin@example.org" || d["by"] != "bob@example.org" || d["pii"] != shared || d["purpose"] != purposeService {
			t.Errorf("disclosure = %v", d)
		}
		got := e.get(shared, "erin", purposeService)
		wantStatus(t, got, 200)
		if string(got.body) != "shareable" {
			t.Errorf("recipient got %q", got.body)
		}
		// Same sticky policy: the purpose still binds the recipient.
		wantDenied(t, e.get(shared, "erin", purposeMarketing), "")
		wantError(t, e.get(shared, "erin", ""), 400, "purpose")
		// A disclosure of one record gives nothing on another.
		wantDenied(t, e.get(private, "erin", purposeService), "")
	})
	t.Run("events", func(t *testing.T) {
		var disclosed bool
		for _, ev := range e.events(shared, "alice") {
			if ev.Type == "disclosed" {
				disclosed = ev.Recipient == "erin@example.org" && ev.Principal == "bob@example.org" && ev.Purpose == purposeService
			}
		}
		if !disclosed {
			t.Error("no disclosed event naming bob, erin and the purpose")
		}
	})
	t.Run("the recipient loses access with the discloser", func(t *testing.T) {
		// alice's new policy still allows downstream use but no longer names bob.
		withoutBob := bytes.ReplaceAll(readTestdata(t, "subject-policy-downstream.xml"), []byte("bob@example.org"), []byte("nobody@example.org"))
		r := e.do(http.MethodPut, "/v1/pii/"+shared+"/policy", "alice", bytes.NewReader(withoutBob), map[string]string{"Content-Type": "application/xml"})
		wantStatus(t, r, 200)
		wantDenied(t, e.get(shared, "bob", purposeService), "")
		wantDenied(t, e.get(shared, "erin", purposeService), "")
		// And regains it when the discloser does.
		r = e.do(http.MethodPut, "/v1/pii/"+shared+"/policy", "alice", bytes.NewReader(readTestdata(t, "subject-policy-downstream.xml")), map[string]string{"Content-Type": "application/xml"})
		wantStatus(t, r, 200)
		wantStatus(t, e.get(shared, "erin", purposeService), 200)
	})
	t.Run("retention binds the recipient", func(t *testing.T) {
		e.clock.Advance(31 * 24 * time.Hour)
		wantDenied(t, e.get(shared, "erin", purposeService), "retention")
	})
}

func TestList(t *testing.T) {
	e := newEnv(t)
	a1 := e.put("alice", "1", "subject-policy.xml")
	a2 := e.put("alice", "2", "subject-policy-nobody.xml")
	d1 := e.put("dave", "3", "subject-policy.xml")
	ids := func(who string) string {
		r := e.do(http.MethodGet, "/v1/pii", who, nil, nil)
		wantStatus(t, r, 200)
		var recs []struct {
			ID string `json:"id"`
		}
		r.json(t, &recs)
		var out []string
		for _, rec := range recs {
			out = append(out, rec.ID)
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct{ who, want string }{
		{"alice", a1 + "," + a2},
		{"dave", d1},
		{"bob", a1 + "," + d1},
		{"carol", ""},
		{"root", a1 + "," + a2 + "," + d1},
	} {
		t.Run(tc.who, func(t *testing.T) {
			if got := ids(tc.who); got != tc.want {
				t.Errorf("list = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDecision(t *testing.T) {
	e := newEnv(t)
	id := e.put("alice", "x", "subject-policy-downstream.xml")
	before := len(e.events(id, "alice"))
	for _, tc := range []struct {
		name, who string
		body      map[string]string
		want      string
	}{
		{"permit", "bob", map[string]string{"pii": id, "purpose": purposeService, "action": "read"}, "Permit"},
		{"default action", "bob", map[string]string{"pii": id, "purpose": purposeService}, "Permit"},
		{"wrong purpose", "bob", map[string]string{"pii": id, "purpose": purposeMarketing, "action": "read"}, "Deny"},
		{"not a delegate", "carol", map[string]string{"pii": id, "purpose": purposeService, "action": "read"}, "Deny"},
		{"owner", "alice", map[string]string{"pii": id, "action": "read"}, "Permit"},
		{"disclose permitted", "bob", map[string]string{"pii": id, "purpose": purposeService, "action": "disclose", "recipient": "erin@example.org"}, "Permit"},
		{"disclose forbidden", "bob", map[string]string{"pii": id, "purpose": purposeService, "action": "disclose", "recipient": "carol@example.org"}, "Deny"},
		{"delete by admin", "root", map[string]string{"pii": id, "action": "delete"}, "Permit"},
		{"update by bob", "bob", map[string]string{"pii": id, "action": "update"}, "Deny"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.jsonReq(http.MethodPost, "/v1/decision", tc.who, tc.body)
			wantStatus(t, r, 200)
			var d struct {
				Decision    string `json:"decision"`
				Obligations []any  `json:"obligations"`
				Reason      string `json:"reason"`
			}
			r.json(t, &d)
			if d.Decision != tc.want || d.Obligations == nil {
				t.Errorf("decision = %+v, want %s", d, tc.want)
			}
			if tc.want == "Deny" && d.Reason == "" {
				t.Error("a Deny without a reason")
			}
		})
	}
	wantError(t, e.jsonReq(http.MethodPost, "/v1/decision", "bob", map[string]string{"pii": id, "action": "fly"}), 400, `"fly"`)
	wantError(t, e.jsonReq(http.MethodPost, "/v1/decision", "bob", map[string]string{"pii": "nope", "purpose": purposeService}), 404, "no such record")
	wantError(t, e.jsonReq(http.MethodPost, "/v1/decision", "bob", map[string]string{"purpose": purposeService}), 400, "pii")
	if after := len(e.events(id, "alice")); after != before {
		t.Errorf("decision-only requests wrote %d events", after-before)
	}
}

func TestObligationsInTheSameTransaction(t *testing.T) {
	e := newEnv(t)
	id := e.put("alice", "x", "subject-policy.xml")
	jobs, err := e.st.Jobs(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	// The retention deletion, pending; the notice to bob (the delegate the
	// policy names) is delivered in the same transaction: in his inbox, with
	// no jobs row.
	if len(jobs) != 1 || string(jobs[0].Action) != "ActionDeletePersonalData" || jobs[0].State != "pending" {
		t.Fatalf("jobs after storing = %+v, want the retention deletion only", jobs)
	}
	inboxFor := func(who string) int {
		ns, err := e.st.Notifications(context.Background(), who)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, x := range ns {
			if x.PII == id {
				n++
			}
		}
		return n
	}
	if n := inboxFor("bob@example.org"); n != 1 {
		t.Fatalf("bob has %d notices of the record, want the delegate notice", n)
	}
	wantStatus(t, e.get(id, "bob", purposeService), 200)
	if n := inboxFor("alice@example.org"); n != 1 {
		t.Errorf("alice has %d notices after bob's access, want 1", n)
	}
	wantStatus(t, e.do(http.MethodDelete, "/v1/pii/"+id, "alice", nil, nil), 204)
	jobs, _ = e.st.Jobs(context.Background(), id)
	for _, j := range jobs {
		if string(j.Action) == "ActionDeletePersonalData" && j.State != "cancelled" {
			t.Errorf("retention job still %s after deletion", j.State)
		}
	}
}

func TestMisc(t *testing.T) {
	e := newEnv(t)
	t.Run("healthz", func(t *testing.T) {
		r := e.do(http.MethodGet, "/healthz", "", nil, nil)
		wantStatus(t, r, 200)
	})
	t.Run("notifications", func(t *testing.T) {
		r := e.do(http.MethodGet, "/v1/notifications", "alice", nil, nil)
		wantStatus(t, r, 200)
		if strings.TrimSpace(string(r.body)) != "[]" {
			t.Errorf("inbox = %s", r.body)
		}
		wantError(t, e.do(http.MethodGet, "/v1/notifications", "", nil, nil), 401, "Bearer")
	})
	t.Run("ibe without a PKG", func(t *testing.T) {
		wantError(t, e.do(http.MethodGet, "/v1/ibe/params", "", nil, nil), 503, "not configured")
	})
}

// TestEventReasonsShowIdentities: the chain stores reasons with pseudonyms;
// the events API shows the identities again.
func TestEventReasonsShowIdentities(t *testing.T) {
	e := newEnv(t)
	id := e.put("alice", "x", "subject-policy.xml")
	wantDenied(t, e.get(id, "carol", purposeService), "carol@example.org")
	evs := e.events(id, "alice")
	last := evs[len(evs)-1]
	if last.Type != "denied" || last.Principal != "carol@example.org" {
		t.Fatalf("last event = %+v", last)
	}
	if strings.Contains(last.Reason, "ps:") {
		t.Errorf("reason shows a pseudonym: %q", last.Reason)
	}
}
