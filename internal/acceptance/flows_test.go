package acceptance

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestControllerStoresForSubject: a controller names the subject; the
// subject's preferences are matched against its DataHandlingPolicy; a
// mismatch is 409 with the mismatches and nothing is stored.
func TestControllerStoresForSubject(t *testing.T) {
	s := startServer(t)
	alice := s.principal("subject", "alice@example.org")
	bob := s.principal("controller", "bob@example.org")
	dave := s.principal("subject", "dave@example.org")
	good := readTestdata(t, "controller-policy.xml")
	marketing := readTestdata(t, "controller-policy-marketing.xml")
	data := func(b string) part { return part{name: "data", contentType: "text/plain", body: []byte(b)} }
	pol := func(x string) part { return part{name: "policy", contentType: "application/xml", body: []byte(x)} }
	subj := func(n string) part { return part{name: "subject", body: []byte(n)} }
	count := func() int { return len(decodeArray(t, s.do("GET", "/v1/pii", alice, nil))) }

	t.Run("no preferences registered is 409", func(t *testing.T) {
		wantError(t, s.storeRaw(bob, data("x"), pol(good), subj("alice@example.org")), http.StatusConflict)
		if n := count(); n != 0 {
			t.Errorf("alice has %d records after a 409", n)
		}
	})
	if r := s.do("PUT", "/v1/subjects/me/preferences", alice, strings.NewReader(readTestdata(t, "preferences.xml")), "Content-Type", "application/xml"); r.status != http.StatusOK {
		t.Fatalf("PUT preferences: %s", r)
	}
	t.Run("match is 201 for the subject", func(t *testing.T) {
		r := s.storeRaw(bob, data("alice's order"), pol(good), subj("alice@example.org"))
		if r.status != http.StatusCreated {
			t.Fatalf("controller store: %s", r)
		}
		st := decodeStored(t, r)
		if st.Subject != "alice@example.org" || st.DeleteAt == nil {
			t.Errorf("201 %+v, want subject alice@example.org with a deadline", st)
		}
		if r := s.do("GET", "/v1/pii/"+st.ID, bob, nil, "X-Purpose", purposeService); r.status != http.StatusOK || string(r.body) != "alice's order" {
			t.Errorf("bob reads what he stored: %s", r)
		}
		if r := s.do("GET", "/v1/pii/"+st.ID, alice, nil); r.status != http.StatusOK {
			t.Errorf("alice reads her own data stored by bob: %s", r)
		}
	})
	t.Run("mismatch is 409 with mismatches, nothing stored", func(t *testing.T) {
		before := count()
		m := wantError(t, s.storeRaw(bob, data("x"), pol(marketing), subj("alice@example.org")), http.StatusConflict, "mismatches")
		if ms, ok := m["mismatches"].([]any); !ok || len(ms) == 0 {
			t.Errorf("409 mismatches is not a non-empty array: %v", m["mismatches"])
		}
		if n := count(); n != before {
			t.Errorf("%d records after a 409, %d before", n, before)
		}
	})
	t.Run("controller without a subject is refused", func(t *testing.T) {
		r := s.storeRaw(bob, data("x"), pol(good))
		if r.status != http.StatusBadRequest && r.status != http.StatusForbidden {
			t.Errorf("controller storing without subject: %s, want 400 or 403", r)
		}
		wantError(t, r, r.status)
	})
	t.Run("subject naming another subject is refused", func(t *testing.T) {
		r := s.storeRaw(dave, data("x"), pol(readTestdata(t, "subject-policy.xml")), subj("alice@example.org"))
		if r.status != http.StatusBadRequest && r.status != http.StatusForbidden {
			t.Errorf("dave storing for alice: %s, want 400 or 403", r)
		}
		wantError(t, r, r.status)
	})
	t.Run("subject naming itself", func(t *testing.T) {
		st := s.store(alice, []byte("mine"), "text/plain", readTestdata(t, "subject-policy.xml"), subj("alice@example.org"))
		if st.Subject != "alice@example.org" {
			t.Errorf("subject %q", st.Subject)
		}
	})
}

// TestDisclosures: downstream sharing decided by AuthzDownstreamUsage and
// its nested policy; the recipient then reads under the same sticky policy.
func TestDisclosures(t *testing.T) {
	s := startServer(t, "--log-level", "debug")
	alice := s.principal("subject", "alice@example.org")
	bob := s.principal("controller", "bob@example.org")
	carol := s.principal("controller", "carol@example.org")
	erin := s.principal("controller", "erin@example.org")
	marker := "DISCLOSED-MARKER-77aa"
	s.secrets = append(s.secrets, marker)
	rec := s.store(alice, []byte(marker), "text/plain", readTestdata(t, "subject-policy-downstream.xml"))
	path := "/v1/pii/" + rec.ID
	s.secrets = append(s.secrets, rec.ID, "erin@example.org")
	disclose := func(tok, to, purpose string) resp {
		return s.postJSON(path+"/disclosures", tok, map[string]string{"recipient": to, "purpose": purpose})
	}

	t.Run("before disclosure erin has no access", func(t *testing.T) {
		wantError(t, s.do("GET", path, erin, nil, "X-Purpose", purposeService), http.StatusForbidden, "decision", "reason")
	})
	t.Run("to a permitted recipient is 201", func(t *testing.T) {
		if r := disclose(bob, "erin@example.org", purposeService); r.status != http.StatusCreated {
			t.Fatalf("disclose to erin: %s, want 201", r)
		}
		if r := s.do("GET", path, erin, nil, "X-Purpose", purposeService); r.status != http.StatusOK || string(r.body) != marker {
			t.Errorf("erin reads after the disclosure: %s", r)
		}
		wantError(t, s.do("GET", path, erin, nil, "X-Purpose", purposeMarketing), http.StatusForbidden, "decision", "reason")
		wantError(t, s.do("GET", path, erin, nil), http.StatusBadRequest)
	})
	t.Run("to a recipient the nested policy does not permit is 403", func(t *testing.T) {
		wantError(t, disclose(bob, "carol@example.org", purposeService), http.StatusForbidden, "decision", "reason")
		wantError(t, s.do("GET", path, carol, nil, "X-Purpose", purposeService), http.StatusForbidden, "decision", "reason")
	})
	t.Run("for a purpose not allowed is 403", func(t *testing.T) {
		wantError(t, disclose(bob, "erin@example.org", purposeMarketing), http.StatusForbidden, "decision", "reason")
	})
	t.Run("by a controller without access is 403", func(t *testing.T) {
		wantError(t, disclose(carol, "erin@example.org", purposeService), http.StatusForbidden, "decision", "reason")
	})
	t.Run("downstream usage not allowed is 403", func(t *testing.T) {
		other := s.store(alice, []byte("no sharing"), "text/plain", readTestdata(t, "subject-policy.xml"))
		wantError(t, s.postJSON("/v1/pii/"+other.ID+"/disclosures", bob, map[string]string{"recipient": "erin@example.org", "purpose": purposeService}), http.StatusForbidden, "decision", "reason")
		wantError(t, s.do("GET", "/v1/pii/"+other.ID, erin, nil, "X-Purpose", purposeService), http.StatusForbidden)
	})
	t.Run("bad input", func(t *testing.T) {
		wantError(t, s.postJSON(path+"/disclosures", bob, `{"recipient": ["erin@example.org"], "purpose": 7}`), http.StatusBadRequest)
		wantError(t, s.postJSON(path+"/disclosures", bob, `{"purpose": "`+purposeService+`"}`), http.StatusBadRequest)
		wantError(t, s.postJSON(path+"/disclosures", bob, `not json`), http.StatusBadRequest)
		wantError(t, s.postJSON("/v1/pii/NOSUCHRECORD0000000000000/disclosures", bob, map[string]string{"recipient": "erin@example.org", "purpose": purposeService}), http.StatusNotFound)
	})
	t.Run("events and the recipient's inbox", func(t *testing.T) {
		evs := decodeArray(t, s.do("GET", path+"/events", alice, nil))
		checkEvents(t, evs)
		var disclosed bool
		for _, e := range evs {
			if e["type"] == "disclosed" && e["principal"] == "bob@example.org" && e["purpose"] == purposeService {
				disclosed = true
			}
		}
		if !disclosed {
			t.Errorf("no disclosed event by bob for %s: %v", purposeService, eventTypes(evs))
		}
		// Notices may go through the obligations outbox: poll.
		var got bool
		for end := time.Now().Add(15 * time.Second); !got && time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			ns := decodeArray(t, s.do("GET", "/v1/notifications", erin, nil))
			checkNotifications(t, ns)
			for _, n := range ns {
				got = got || n["pii"] == rec.ID
			}
		}
		if !got {
			t.Errorf("erin's inbox has no notice of the disclosure")
		}
		for _, tok := range []string{erin, bob} {
			for _, m := range decodeArray(t, s.do("GET", "/v1/pii", tok, nil)) {
				if m["id"] == rec.ID {
					goto listed
				}
			}
			t.Errorf("a controller with access does not list %s", rec.ID)
		listed:
		}
	})
	t.Run("the log is compliant", func(t *testing.T) {
		r := runBin(t, "loganalyser", nil, nil, "--json", "--data", s.data, rec.ID)
		if r.code != 0 {
			t.Errorf("loganalyser: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
			t.Errorf("loganalyser --json printed no JSON object: %v: %s", err, r.stdout)
		}
	})
}

// TestRetention: delete_at is RFC 3339 (or null without a deadline), and
// data past its deadline is never served, even before the deletion job.
func TestRetention(t *testing.T) {
	s := startServer(t)
	alice := s.principal("subject", "alice@example.org")
	bob := s.principal("controller", "bob@example.org")
	base := readTestdata(t, "subject-policy.xml")

	t.Run("no deadline is null", func(t *testing.T) {
		noDelete := base[:strings.Index(base, "<ob:Obligation>")] + base[strings.Index(base, "</ob:Obligation>")+len("</ob:Obligation>"):]
		r := s.storeRaw(alice, part{name: "data", contentType: "text/plain", body: []byte("kept")}, part{name: "policy", body: []byte(noDelete)})
		if r.status != http.StatusCreated {
			t.Fatalf("store: %s", r)
		}
		var raw map[string]json.RawMessage
		json.Unmarshal(r.body, &raw)
		if string(raw["delete_at"]) != "null" {
			t.Errorf("delete_at %s for a policy without a deadline, want null", raw["delete_at"])
		}
	})

	t.Run("past the deadline is never served", func(t *testing.T) {
		short := strings.Replace(base, "<ob:Duration>P30D</ob:Duration>", "<ob:Duration>PT2S</ob:Duration>", 1)
		marker := "RETENTION-MARKER-5b5b"
		s.secrets = append(s.secrets, marker)
		rec := s.store(alice, []byte(marker), "text/plain", short)
		if rec.DeleteAt == nil {
			t.Fatal("delete_at is null for a PT2S deadline")
		}
		deadline, _ := time.Parse(time.RFC3339, *rec.DeleteAt)
		if d := time.Until(deadline); d > 3*time.Second || d < -time.Second {
			t.Fatalf("delete_at %s is not about 2 s from now", *rec.DeleteAt)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		served := map[string]int{}
		var firstGone time.Time
		for _, c := range []struct{ name, tok, purpose string }{{"owner", alice, ""}, {"controller", bob, purposeService}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(deadline.Add(2 * time.Second)) {
					start := time.Now()
					var r resp
					if c.purpose != "" {
						r = s.do("GET", "/v1/pii/"+rec.ID, c.tok, nil, "X-Purpose", c.purpose)
					} else {
						r = s.do("GET", "/v1/pii/"+rec.ID, c.tok, nil)
					}
					mu.Lock()
					if r.status == http.StatusOK {
						served[c.name]++
					}
					if r.status == http.StatusNotFound && firstGone.IsZero() {
						firstGone = start
					}
					mu.Unlock()
					if !start.Before(deadline) && (r.status == http.StatusOK || strings.Contains(string(r.body), marker)) {
						t.Errorf("%s read at %s, after the deadline %s: %s", c.name, start.Format(time.RFC3339Nano), *rec.DeleteAt, r)
						return
					}
					if r.status >= 500 {
						t.Errorf("%s: %s", c.name, r)
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
			}()
		}
		wg.Wait()
		if served["owner"] == 0 || served["controller"] == 0 {
			t.Errorf("the data was never served before its deadline: %v", served)
		}
		// The deletion job runs shortly after the deadline (within a
		// second on a quiet machine; the crash test measures it): poll.
		var r resp
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			if r = s.do("GET", "/v1/pii/"+rec.ID, alice, nil); r.status == http.StatusNotFound {
				break
			}
		}
		if !firstGone.IsZero() {
			t.Logf("deleted (404) %v after the deadline", firstGone.Sub(deadline))
		}
		wantError(t, r, http.StatusNotFound)
		evs := decodeArray(t, s.do("GET", "/v1/pii/"+rec.ID+"/events", alice, nil))
		if !contains(eventTypes(evs), "deleted") {
			t.Errorf("no deleted event after the deadline: %v", eventTypes(evs))
		}
		assertNotOnDisk(t, s.data, marker)
		if r := runBin(t, "loganalyser", nil, nil, "--data", s.data, rec.ID); r.code != 0 {
			t.Errorf("loganalyser after the retention deletion: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
}
