package acceptance

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSubjectRights: export and forget through the real server and the
// stickyd forget command (issue 7): the export is complete, a dry run
// changes nothing, forget erases the subject from every file of the data
// directory, revokes its tokens, notifies the recipient, and the chains
// still verify.
func TestSubjectRights(t *testing.T) {
	s := startServer(t)
	alice := s.principal("subject", "zoe.forget-me@example.org")
	bob := s.principal("controller", "bob@example.org")
	erin := s.principal("controller", "erin@example.org")
	admin := s.principal("admin", "root@example.org")
	subject := "zoe.forget-me@example.org"
	marker := "FORGET-MARKER-a11ce"
	s.secrets = append(s.secrets, marker)
	downstream := strings.ReplaceAll(readTestdata(t, "subject-policy-downstream.xml"), "alice@example.org", subject)
	plain := strings.ReplaceAll(readTestdata(t, "subject-policy.xml"), "alice@example.org", subject)
	shared := s.store(alice, []byte(marker+"-shared"), "text/plain", downstream)
	private := s.store(alice, []byte(marker+"-private"), "text/plain", plain)
	s.do("GET", "/v1/pii/"+shared.ID, bob, nil, "X-Purpose", purposeService)
	if r := s.postJSON("/v1/pii/"+shared.ID+"/disclosures", bob, map[string]string{"recipient": "erin@example.org", "purpose": purposeService}); r.status != http.StatusCreated {
		t.Fatalf("disclosure: %s", r)
	}
	// Bob's own record, not the subject's, must survive.
	other := s.principal("subject", "yann@example.org")
	kept := s.store(other, []byte("KEPT-MARKER"), "text/plain", readTestdata(t, "subject-policy.xml"))

	t.Run("export", func(t *testing.T) {
		wantError(t, s.do("GET", "/v1/subjects/"+subject+"/export", bob, nil), http.StatusForbidden)
		wantError(t, s.do("GET", "/v1/subjects/nobody@example.org/export", admin, nil), http.StatusNotFound)
		r := s.do("GET", "/v1/subjects/me/export", alice, nil)
		var doc struct {
			Subject string `json:"subject"`
			Records []struct {
				ID            string           `json:"id"`
				Data          string           `json:"data"`
				Policy        string           `json:"policy"`
				AccessHistory []map[string]any `json:"access_history"`
				Recipients    []map[string]any `json:"recipients"`
			} `json:"records"`
		}
		if r.status != http.StatusOK || json.Unmarshal(r.body, &doc) != nil {
			t.Fatalf("export: %s", r)
		}
		if doc.Subject != subject || len(doc.Records) != 2 {
			t.Fatalf("export of %q with %d records, want 2", doc.Subject, len(doc.Records))
		}
		for _, rec := range doc.Records {
			data, _ := base64.StdEncoding.DecodeString(rec.Data)
			if !strings.HasPrefix(string(data), marker) || rec.Policy == "" || len(rec.AccessHistory) == 0 {
				t.Errorf("record %s: data %q, policy %d bytes, %d history entries", rec.ID, data, len(rec.Policy), len(rec.AccessHistory))
			}
			if rec.ID == shared.ID {
				var accessed, toErin bool
				for _, h := range rec.AccessHistory {
					accessed = accessed || (h["type"] == "accessed" && h["principal"] == "bob@example.org" && h["purpose"] == purposeService)
				}
				for _, rc := range rec.Recipients {
					toErin = toErin || rc["recipient"] == "erin@example.org"
				}
				if !accessed || !toErin {
					t.Errorf("shared record: bob's access listed %v, erin as recipient %v", accessed, toErin)
				}
			}
		}
	})

	t.Run("dry run changes nothing", func(t *testing.T) {
		before := s.do("GET", "/v1/pii", alice, nil)
		r := runBin(t, "stickyd", nil, nil, "forget", "--data", s.data, "--dry-run", subject)
		if r.code != 0 || !strings.Contains(r.stdout, shared.ID) {
			t.Fatalf("stickyd forget --dry-run: exit %d: %s%s", r.code, r.stdout, r.stderr)
		}
		hr := s.postJSON("/v1/subjects/me/forget?dry_run=true", alice, `{}`)
		if hr.status != http.StatusOK || !strings.Contains(string(hr.body), `"dry_run":true`) {
			t.Errorf("HTTP dry run: %s", hr)
		}
		after := s.do("GET", "/v1/pii", alice, nil)
		if after.status != http.StatusOK || string(after.body) != string(before.body) {
			t.Errorf("a dry run changed the records:\n%s\n%s", before.body, after.body)
		}
	})

	t.Run("forget", func(t *testing.T) {
		wantError(t, s.postJSON("/v1/subjects/"+subject+"/forget", bob, `{}`), http.StatusForbidden)
		r := s.postJSON("/v1/subjects/me/forget", alice, `{}`)
		if r.status != http.StatusOK {
			t.Fatalf("forget: %s", r)
		}
		wantError(t, s.do("GET", "/v1/pii", alice, nil), http.StatusUnauthorized)
		for _, id := range []string{shared.ID, private.ID} {
			wantError(t, s.do("GET", "/v1/pii/"+id, bob, nil, "X-Purpose", purposeService), http.StatusNotFound)
			wantError(t, s.do("GET", "/v1/pii/"+id, erin, nil, "X-Purpose", purposeService), http.StatusNotFound)
		}
		// The notice goes through the obligations outbox: poll.
		var noticed bool
		for end := time.Now().Add(15 * time.Second); !noticed && time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			for _, n := range decodeArray(t, s.do("GET", "/v1/notifications", erin, nil)) {
				if n["pii"] == shared.ID && strings.Contains(strings.ToLower(str(n["text"])), "eras") {
					noticed = true
				}
			}
		}
		if !noticed {
			t.Errorf("erin, a recipient, got no erasure notice")
		}
		if r := s.do("GET", "/v1/pii/"+kept.ID, other, nil); r.status != http.StatusOK || string(r.body) != "KEPT-MARKER" {
			t.Errorf("another subject's record after forget: %s", r)
		}
		// Twice is safe.
		r2 := s.postJSON("/v1/subjects/"+subject+"/forget", admin, `{}`)
		if r2.status != http.StatusOK || !strings.Contains(string(r2.body), `"already_forgotten":true`) {
			t.Errorf("second forget: %s", r2)
		}
		if r := runBin(t, "stickyd", nil, nil, "forget", "--data", s.data, "nobody@example.org"); r.code != 1 || r.stderr == "" {
			t.Errorf("forget of an unknown subject: exit %d, %q", r.code, r.stderr)
		}
		if r := runBin(t, "stickyd", nil, nil, "forget", "--data", s.data); r.code != 2 {
			t.Errorf("forget without ID: exit %d, want 2", r.code)
		}
	})

	t.Run("nothing of the subject is left on disk", func(t *testing.T) {
		s.stop() // the database and WAL as the server leaves them
		assertNotOnDisk(t, s.data, subject)
		assertNotOnDisk(t, s.data, marker)
	})

	t.Run("the chains still verify", func(t *testing.T) {
		for _, id := range []string{shared.ID, private.ID} {
			r := runBin(t, "loganalyser", nil, nil, "--data", s.data, id)
			if r.code != 0 {
				t.Errorf("loganalyser %s after forget: exit %d\n%s%s", id, r.code, r.stdout, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, subject) {
				t.Errorf("loganalyser prints the forgotten identity")
			}
		}
	})
}

// TestRestoreWindow: with --restore-window (off by default), a deleted
// record is served to no one, can be restored by its owner within the
// window, and restoring a record that is not deleted is 409.
func TestRestoreWindow(t *testing.T) {
	s := startServer(t, "--restore-window", "1h")
	alice := s.principal("subject", "alice@example.org")
	bob := s.principal("controller", "bob@example.org")
	rec := s.store(alice, []byte("restorable"), "text/plain", readTestdata(t, "subject-policy.xml"))
	path := "/v1/pii/" + rec.ID
	wantError(t, s.postJSON(path+"/restore", alice, `{}`), http.StatusConflict)
	if r := s.do("DELETE", path, alice, nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %s", r)
	}
	wantError(t, s.do("GET", path, alice, nil), http.StatusNotFound)
	wantError(t, s.do("GET", path, bob, nil, "X-Purpose", purposeService), http.StatusNotFound)
	wantError(t, s.postJSON(path+"/restore", bob, `{}`), http.StatusForbidden)
	if r := s.postJSON(path+"/restore", alice, `{}`); r.status != http.StatusOK {
		t.Fatalf("restore: %s", r)
	}
	if r := s.do("GET", path, bob, nil, "X-Purpose", purposeService); r.status != http.StatusOK || string(r.body) != "restorable" {
		t.Errorf("after restore: %s", r)
	}
	checkEvents(t, decodeArray(t, s.do("GET", path+"/events", alice, nil)))
}
