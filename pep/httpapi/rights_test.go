package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/internal/compliance"
	"github.com/stickypolicy/sticky/internal/store"
	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/pep"
	"github.com/stickypolicy/sticky/pep/httpapi"
	"github.com/stickypolicy/sticky/pep/rules"
	"github.com/stickypolicy/sticky/policies"
)

// The data-subject rights tests run the real server (httptest) over a real
// store on t.TempDir(), with the obligations runner driven by the fake clock.

const zoe = "zoe.forget-me@example.org" // the subject to export and forget: unique in the database

// mailbox is an obligations.Mailer that keeps what it is asked to send.
type mailbox struct {
	mu   sync.Mutex
	sent []obligations.Mail
}

func (m *mailbox) SendMail(ctx context.Context, mail obligations.Mail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, mail)
	return nil
}

type rightsEnv struct {
	*env
	svc    *pep.Service
	runner *obligations.Runner
	mail   *mailbox
	dir    string
}

func newRightsEnv(t *testing.T, opts ...pep.Option) *rightsEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, st: st, clock: &fakeClock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}, tokens: map[string]string{}}
	for _, p := range []pep.Principal{
		{Name: zoe, Role: pep.RoleSubject},
		{Name: "dave@example.org", Role: pep.RoleSubject},
		{Name: "bob@example.org", Role: pep.RoleController},
		{Name: "erin@example.org", Role: pep.RoleController, Email: "erin-mail@example.net"},
		{Name: "root@example.org", Role: pep.RoleAdmin},
	} {
		tok, hash, err := pep.NewToken(strings.NewReader(strings.Repeat(p.Name, 8)))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddPrincipal(ctx, p, hash); err != nil {
			t.Fatal(err)
		}
		e.tokens[strings.TrimSuffix(p.Name, "@example.org")] = tok
	}
	e.tokens["zoe"] = e.tokens[strings.TrimSuffix(zoe, "@example.org")]
	r := &rightsEnv{env: e, mail: &mailbox{}, dir: dir}
	r.svc = pep.New(st, append([]pep.Option{pep.WithClock(e.clock)}, opts...)...)
	r.runner = obligations.NewRunner(st, obligations.Performers{Deleter: r.svc, Anonymiser: r.svc, Mailer: r.mail, Addresses: st}, e.clock)
	e.srv = httptest.NewServer(httpapi.New(r.svc))
	t.Cleanup(e.srv.Close)
	return r
}

// zoePolicy is the downstream policy (bob may use, erin may receive) with
// zoe as the notified subject.
func (r *rightsEnv) zoePolicy() []byte {
	return bytes.ReplaceAll(readTestdata(r.t, "subject-policy-downstream.xml"), []byte("alice@example.org"), []byte(zoe))
}

// store stores data as zoe and returns the id.
func (r *rightsEnv) storeZoe(data, contentType string) string {
	r.t.Helper()
	resp := r.post("zoe", part{name: "data", contentType: contentType, value: []byte(data)}, part{name: "policy", value: r.zoePolicy()})
	wantStatus(r.t, resp, http.StatusCreated)
	var c struct{ ID string }
	resp.json(r.t, &c)
	return c.ID
}

// runDue performs every due obligation of both lanes.
func (r *rightsEnv) runDue() {
	r.t.Helper()
	for _, l := range obligations.AllLanes() {
		if _, err := r.runner.ProcessDue(context.Background(), l); err != nil {
			r.t.Fatal(err)
		}
	}
}

// dbDump is every row of every table, as text.
func (r *rightsEnv) dbDump() string {
	r.t.Helper()
	db := r.st.ReadDB()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		r.t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	var b strings.Builder
	for _, tbl := range tables {
		rows, err := db.Query(`SELECT * FROM "` + tbl + `" ORDER BY 1, 2`)
		if err != nil {
			if rows, err = db.Query(`SELECT * FROM "` + tbl + `"`); err != nil {
				r.t.Fatal(err)
			}
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			rows.Scan(ptrs...)
			b.WriteString(tbl)
			for _, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				b.WriteString("|")
				b.WriteString(strings.ReplaceAll(strings.TrimSpace(strings.Join(strings.Fields(strings.TrimSpace(toString(v))), " ")), "\n", " "))
			}
			b.WriteString("\n")
		}
		rows.Close()
	}
	return b.String()
}

func toString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// fileBytes reads the database file and its WAL.
func (r *rightsEnv) fileBytes() []byte {
	r.t.Helper()
	var out []byte
	for _, p := range []string{r.st.Path(), r.st.Path() + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			r.t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}

// verifyChain checks a record's log with internal/audit's verifier
// (loganalyser's first step).
func (r *rightsEnv) verifyChain(id string) {
	r.t.Helper()
	l, err := r.st.AuditLog(context.Background(), id)
	if err != nil {
		r.t.Fatalf("log of %s: %v", id, err)
	}
	if err := l.Export(false).Verify(); err != nil {
		r.t.Errorf("the chain of %s does not verify: %v", id, err)
	}
}

// loganalyse checks a record's log as `loganalyser --data DIR ID` does:
// the chain first, then compliance with the record's policies.
func (r *rightsEnv) loganalyse(id string) compliance.Report {
	r.t.Helper()
	ctx := context.Background()
	al, err := r.st.AuditLog(ctx, id)
	if err != nil {
		r.t.Fatalf("log of %s: %v", id, err)
	}
	roles := map[string][]string{}
	for _, ident := range al.Identities {
		if p, err := r.st.Principal(ctx, ident); err == nil {
			roles[ident] = []string{string(p.Role)}
		}
	}
	in := compliance.Input{Log: al.Export(true), Roles: func(identity string) []string { return roles[identity] }, At: r.clock.Now()}
	if err := in.Log.Verify(); err != nil {
		return compliance.Tampered(id, in.At, len(in.Log.Entries), err)
	}
	tax := policies.DefaultTaxonomy()
	pols, err := compliance.LogPolicies(in.Log, tax)
	if err != nil {
		r.t.Fatal(err)
	}
	in.Policies = pols
	return compliance.NewChecker(compliance.WithPurposes(tax)).Check(in)
}

type exportDoc struct {
	Format    string `json:"format"`
	Subject   string `json:"subject"`
	Principal *struct {
		Name, Role string
	} `json:"principal"`
	Preferences *string `json:"preferences"`
	Records     []struct {
		ID              string     `json:"id"`
		ContentType     string     `json:"content_type"`
		Size            int64      `json:"size"`
		Encrypted       bool       `json:"encrypted"`
		Data            string     `json:"data"`
		State           string     `json:"state"`
		StoredBy        string     `json:"stored_by"`
		StoredAt        time.Time  `json:"stored_at"`
		DeleteAt        *time.Time `json:"delete_at"`
		RestorableUntil *time.Time `json:"restorable_until"`
		Policy          string     `json:"policy"`
		PolicyHash      string     `json:"policy_hash"`
		AccessHistory   []eventOut `json:"access_history"`
		Recipients      []struct {
			Recipient, Purpose string
			DisclosedBy        string `json:"disclosed_by"`
		} `json:"recipients"`
	} `json:"records"`
	ErasedRecords []struct {
		ID            string     `json:"id"`
		AccessHistory []eventOut `json:"access_history"`
	} `json:"erased_records"`
	Notifications []struct {
		PII, Event, Text string
	} `json:"notifications"`
}

// sameHistory checks that an export's history is exactly the record's
// events as GET /v1/pii/{id}/events shows them to an admin.
func sameHistory(t *testing.T, got, want []eventOut) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("history has %d events, the log %d: %+v vs %+v", len(got), len(want), got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Seq != w.Seq || g.Type != w.Type || g.Principal != w.Principal || g.Purpose != w.Purpose || g.Recipient != w.Recipient || g.Decision != w.Decision {
			t.Errorf("history entry %d = %+v, log %+v", i, g, w)
		}
		gt, _ := time.Parse(time.RFC3339Nano, g.Time)
		wt, _ := time.Parse(time.RFC3339Nano, w.Time)
		if !gt.Equal(wt) {
			t.Errorf("history entry %d time %s, log %s", i, g.Time, w.Time)
		}
	}
}

func TestExportSubject(t *testing.T) {
	r := newRightsEnv(t)
	text := r.storeZoe("zoe's address: 1 rue de la Paix", "text/plain")
	blob := r.storeZoe("\x00\x01binary", "application/octet-stream")
	gone := r.storeZoe("to be deleted", "text/plain")
	r.clock.Advance(time.Minute)
	wantStatus(t, r.get(text, "bob", purposeService), http.StatusOK)
	wantDenied(t, r.get(text, "bob", purposeMarketing), "")
	wantStatus(t, r.jsonReq(http.MethodPost, "/v1/pii/"+text+"/disclosures", "bob",
		map[string]string{"recipient": "erin@example.org", "purpose": purposeService}), http.StatusCreated)
	wantStatus(t, r.get(text, "erin", purposeService), http.StatusOK)
	wantStatus(t, r.do(http.MethodDelete, "/v1/pii/"+gone, "zoe", nil, nil), http.StatusNoContent)
	r.runDue()

	t.Run("refused to others", func(t *testing.T) {
		for _, who := range []string{"bob", "dave", "erin"} {
			wantDenied(t, r.do(http.MethodGet, "/v1/subjects/"+zoe+"/export", who, nil, nil), "only the data subject")
		}
		wantError(t, r.do(http.MethodGet, "/v1/subjects/"+zoe+"/export", "", nil, nil), http.StatusUnauthorized)
	})
	t.Run("unknown subject", func(t *testing.T) {
		wantError(t, r.do(http.MethodGet, "/v1/subjects/nobody@example.org/export", "root", nil, nil), http.StatusNotFound, "nobody@example.org")
	})

	// The expected histories, read before the export adds its own events.
	logs := map[string][]eventOut{}
	for _, id := range []string{text, blob, gone} {
		logs[id] = r.events(id, "root")
	}
	for _, path := range []string{"/v1/subjects/me/export", "/v1/subjects/" + zoe + "/export"} {
		t.Run(path, func(t *testing.T) {
			resp := r.do(http.MethodGet, path, "zoe", nil, nil)
			wantStatus(t, resp, http.StatusOK)
			var doc exportDoc
			resp.json(t, &doc)
			if doc.Format != pep.ExportFormat || doc.Subject != zoe || doc.Principal == nil || doc.Principal.Name != zoe || doc.Principal.Role != "subject" {
				t.Errorf("header = %+v %+v", doc, doc.Principal)
			}
			if len(doc.Records) != 2 || doc.Records[0].ID != text || doc.Records[1].ID != blob {
				t.Fatalf("records = %+v, want %s and %s", doc.Records, text, blob)
			}
			want := map[string]string{text: "zoe's address: 1 rue de la Paix", blob: "\x00\x01binary"}
			for _, rec := range doc.Records {
				data, err := base64.StdEncoding.DecodeString(rec.Data)
				if err != nil || string(data) != want[rec.ID] || rec.Size != int64(len(want[rec.ID])) {
					t.Errorf("record %s data %q (%v), size %d", rec.ID, data, err, rec.Size)
				}
				if rec.State != "active" || rec.StoredBy != zoe || rec.Encrypted || rec.DeleteAt == nil || rec.Policy != string(r.zoePolicy()) {
					t.Errorf("record %s = %+v", rec.ID, rec)
				}
				pol := r.do(http.MethodGet, "/v1/pii/"+rec.ID+"/policy", "zoe", nil, nil)
				if rec.Policy != string(pol.body) {
					t.Errorf("record %s: exported policy differs from GET /policy", rec.ID)
				}
				if path == "/v1/subjects/me/export" {
					sameHistory(t, rec.AccessHistory, logs[rec.ID])
				}
			}
			if ct := doc.Records[0].ContentType; ct != "text/plain" {
				t.Errorf("content type %q", ct)
			}
			if rs := doc.Records[0].Recipients; len(rs) != 1 || rs[0].Recipient != "erin@example.org" || rs[0].DisclosedBy != "bob@example.org" || rs[0].Purpose != purposeService {
				t.Errorf("recipients = %+v", rs)
			}
			if rs := doc.Records[1].Recipients; rs == nil || len(rs) != 0 {
				t.Errorf("recipients of a record never disclosed = %#v, want []", rs)
			}
			if len(doc.ErasedRecords) != 1 || doc.ErasedRecords[0].ID != gone {
				t.Fatalf("erased records = %+v", doc.ErasedRecords)
			}
			sameHistory(t, doc.ErasedRecords[0].AccessHistory, logs[gone])
		})
	}
	h := r.events(text, "root")
	types := map[string]bool{}
	for _, ev := range h {
		types[ev.Type+"/"+ev.Principal] = true
	}
	for _, want := range []string{"stored/" + zoe, "accessed/bob@example.org", "denied/bob@example.org", "disclosed/bob@example.org", "accessed/erin@example.org", "subject_access/" + zoe} {
		if !types[want] {
			t.Errorf("log of %s has no %s event: %+v", text, want, h)
		}
	}
	t.Run("admin", func(t *testing.T) {
		resp := r.do(http.MethodGet, "/v1/subjects/"+zoe+"/export", "root", nil, nil)
		wantStatus(t, resp, http.StatusOK)
		var doc exportDoc
		resp.json(t, &doc)
		if len(doc.Records) != 2 {
			t.Fatalf("admin export has %d records", len(doc.Records))
		}
		evs := r.events(text, "root")
		if last := evs[len(evs)-1]; last.Type != pep.EventExported || last.Principal != "root@example.org" {
			t.Errorf("admin export logged %+v, want an exported event by root", last)
		}
		r.verifyChain(text)
	})
}

func TestForgetSubject(t *testing.T) {
	r := newRightsEnv(t)
	const marker = "ZOE-UNIQUE-DATA-MARKER-4be1"
	shared := r.storeZoe(marker+" shared", "text/plain")
	private := r.storeZoe(marker+" private", "text/plain")
	davesID := r.put("dave", "dave's data", "subject-policy.xml")
	wantStatus(t, r.do(http.MethodPut, "/v1/subjects/me/preferences", "zoe", bytes.NewReader(readTestdata(t, "preferences.xml")),
		map[string]string{"Content-Type": "application/xml"}), http.StatusOK)
	r.clock.Advance(time.Minute)
	wantStatus(t, r.get(shared, "bob", purposeService), http.StatusOK)
	wantStatus(t, r.jsonReq(http.MethodPost, "/v1/pii/"+shared+"/disclosures", "bob",
		map[string]string{"recipient": "erin@example.org", "purpose": purposeService}), http.StatusCreated)
	wantStatus(t, r.get(shared, "erin", purposeService), http.StatusOK)
	wantDenied(t, r.get(davesID, "zoe", ""), "") // zoe's pseudonym lands in dave's log
	r.runDue()
	wantStatus(t, r.get(private, "zoe", ""), http.StatusOK)

	raw := r.fileBytes()
	if !bytes.Contains(raw, []byte(zoe)) || !bytes.Contains(raw, []byte(marker)) {
		t.Fatal("the identity and the marker are not in the database files before forget: the test could not see anything")
	}

	t.Run("refused to others", func(t *testing.T) {
		for _, who := range []string{"bob", "dave", "erin"} {
			wantDenied(t, r.do(http.MethodPost, "/v1/subjects/"+zoe+"/forget", who, nil, nil), "only the data subject")
		}
		wantError(t, r.do(http.MethodPost, "/v1/subjects/"+zoe+"/forget?dry_run=maybe", "zoe", nil, nil), http.StatusBadRequest, "dry_run")
	})

	var dry pep.ForgetReport
	t.Run("dry run changes nothing", func(t *testing.T) {
		// The store checkpoints the WAL in the background after commits:
		// checkpoint everything now, so that the files' bytes can change
		// only by a write.
		if err := r.st.Scrub(context.Background()); err != nil {
			t.Fatal(err)
		}
		before, beforeBytes := r.dbDump(), r.fileBytes()
		resp := r.do(http.MethodPost, "/v1/subjects/me/forget?dry_run=true", "zoe", nil, nil)
		wantStatus(t, resp, http.StatusOK)
		resp.json(t, &dry)
		if !dry.DryRun || len(dry.Records) != 2 {
			t.Fatalf("dry run report = %+v", dry)
		}
		if after := r.dbDump(); after != before {
			t.Errorf("the dry run changed the database:\n--- before\n%s\n--- after\n%s", before, after)
		}
		if !bytes.Equal(r.fileBytes(), beforeBytes) {
			t.Error("the dry run changed the database files' bytes")
		}
		wantStatus(t, r.get(private, "zoe", ""), http.StatusOK)
	})

	var rep pep.ForgetReport
	t.Run("forget", func(t *testing.T) {
		resp := r.do(http.MethodPost, "/v1/subjects/me/forget", "zoe", nil, nil)
		wantStatus(t, resp, http.StatusOK)
		resp.json(t, &rep)
		if rep.DryRun || rep.AlreadyForgotten || rep.Subject != zoe {
			t.Errorf("report = %+v", rep)
		}
		// The dry run said exactly this.
		d, g := dry, rep
		d.Report, g.Report, d.DryRun, g.DryRun, d.Time, g.Time = "", "", false, false, time.Time{}, time.Time{}
		if toString(d) != toString(g) {
			t.Errorf("dry run reported\n%s\nthe real run\n%s", toString(d), toString(g))
		}
		if strings.Join(rep.Records, ",") != strings.Join([]string{shared, private}, ",") && strings.Join(rep.Records, ",") != strings.Join([]string{private, shared}, ",") {
			t.Errorf("records = %v", rep.Records)
		}
		for tbl, n := range map[string]int{"pii": 2, "disclosures": 1, "preferences": 1, "subject_keys": 1, "principals": 1, "tokens": 1, "tombstones": 2, "events": 2} {
			if rep.Tables[tbl] != n {
				t.Errorf("tables[%s] = %d, want %d", tbl, rep.Tables[tbl], n)
			}
		}
		if rep.TokensRevoked != 1 || strings.Join(rep.Recipients, ",") != "erin@example.org" || rep.Notices != 2 {
			t.Errorf("tokens %d, recipients %v, notices %d", rep.TokensRevoked, rep.Recipients, rep.Notices)
		}
		if len(rep.ReferencesKept) != 0 {
			t.Errorf("references kept: %v", rep.ReferencesKept)
		}
	})

	t.Run("nothing of the subject remains", func(t *testing.T) {
		raw := r.fileBytes()
		if bytes.Contains(raw, []byte(zoe)) {
			t.Error("the identity is still in the database files")
		}
		if bytes.Contains(raw, []byte(marker)) {
			t.Error("the data is still in the database files")
		}
		if strings.Contains(r.dbDump(), zoe) || strings.Contains(r.dbDump(), marker) {
			t.Error("a table still holds the identity or the data")
		}
	})
	t.Run("the token no longer works", func(t *testing.T) {
		wantError(t, r.do(http.MethodGet, "/v1/pii", "zoe", nil, nil), http.StatusUnauthorized)
	})
	t.Run("the records are gone", func(t *testing.T) {
		wantError(t, r.get(shared, "erin", purposeService), http.StatusNotFound)
		wantError(t, r.get(private, "bob", purposeService), http.StatusNotFound)
	})
	t.Run("the chains still verify", func(t *testing.T) {
		for _, id := range []string{shared, private, davesID} {
			r.verifyChain(id)
		}
		evs := r.events(shared, "root")
		last := evs[len(evs)-1]
		if last.Type != pep.EventDeleted || !strings.Contains(last.Reason, "right to erasure") {
			t.Errorf("the log ends with %+v", last)
		}
		for _, ev := range append(evs, r.events(davesID, "root")...) {
			if ev.Principal == zoe || ev.Recipient == zoe {
				t.Errorf("an event still resolves to the forgotten subject: %+v", ev)
			}
		}
		// dave's record is untouched.
		wantStatus(t, r.get(davesID, "dave", ""), http.StatusOK)
	})
	t.Run("the recipient got its notice", func(t *testing.T) {
		r.runDue()
		resp := r.do(http.MethodGet, "/v1/notifications", "erin", nil, nil)
		wantStatus(t, resp, http.StatusOK)
		var ns []struct{ PII, Event, Text string }
		resp.json(t, &ns)
		found := false
		for _, n := range ns {
			if n.PII == shared && strings.Contains(n.Text, "erase") {
				found = true
				if strings.Contains(n.Text, zoe) {
					t.Errorf("the notice names the forgotten subject: %q", n.Text)
				}
			}
		}
		if !found {
			t.Errorf("erin's inbox has no erasure notice for %s: %+v", shared, ns)
		}
		r.mail.mu.Lock()
		defer r.mail.mu.Unlock()
		mailed := false
		for _, m := range r.mail.sent {
			if m.To == "erin-mail@example.net" && strings.Contains(m.Body, shared) {
				mailed = true
			}
		}
		if !mailed {
			t.Errorf("no erasure notice mailed to erin: %+v", r.mail.sent)
		}
		if bytes.Contains(r.fileBytes(), []byte(zoe)) {
			t.Error("delivering the notices wrote the identity again")
		}
		r.verifyChain(shared)
	})
	t.Run("twice", func(t *testing.T) {
		before := r.dbDump()
		resp := r.do(http.MethodPost, "/v1/subjects/"+zoe+"/forget", "root", nil, nil)
		wantStatus(t, resp, http.StatusOK)
		var again pep.ForgetReport
		resp.json(t, &again)
		if !again.AlreadyForgotten || len(again.Records) != 0 || again.Notices != 0 || again.TokensRevoked != 0 {
			t.Errorf("second forget = %+v", again)
		}
		for tbl, n := range again.Tables {
			if n != 0 {
				t.Errorf("second forget touched %s (%d)", tbl, n)
			}
		}
		if r.dbDump() != before {
			t.Error("the second forget changed the database")
		}
	})
	t.Run("unknown subject", func(t *testing.T) {
		wantError(t, r.do(http.MethodPost, "/v1/subjects/nobody@example.org/forget", "root", nil, nil), http.StatusNotFound, "nobody@example.org")
		wantError(t, r.do(http.MethodPost, "/v1/subjects/nobody@example.org/forget?dry_run=true", "root", nil, nil), http.StatusNotFound)
	})
	t.Run("loganalyser", func(t *testing.T) {
		// zoe's records: the chain verifies; their policies named zoe and
		// went with her, so compliance can only be checked against a
		// policy the operator kept (loganalyser --log --policy).
		rep := r.loganalyse(shared)
		if rep.Verdict == compliance.TamperedLog {
			t.Fatalf("the forgotten subject's log reads as tampered: %+v", rep)
		}
		for _, v := range rep.Violations {
			if string(v.Rule) != "unknown-policy" { // entries that could not be checked, nothing else
				t.Errorf("violation %+v", v)
			}
		}
		if rep := r.loganalyse(davesID); rep.Verdict != compliance.Compliant {
			t.Errorf("dave's log: %+v", rep)
		}
	})
	t.Run("an admin forgets someone else", func(t *testing.T) {
		resp := r.do(http.MethodPost, "/v1/subjects/dave@example.org/forget", "root", nil, nil)
		wantStatus(t, resp, http.StatusOK)
		var d pep.ForgetReport
		resp.json(t, &d)
		if len(d.Records) != 1 || d.Records[0] != davesID {
			t.Errorf("report = %+v", d)
		}
		evs := r.events(davesID, "root")
		if last := evs[len(evs)-1]; last.Principal != "root@example.org" || last.Type != pep.EventDeleted {
			t.Errorf("the erasure is logged as %+v", last)
		}
		r.verifyChain(davesID)
		// dave's policy does not name dave: it stays, and the log is still
		// checked in full.
		if rep := r.loganalyse(davesID); rep.Verdict != compliance.Compliant {
			t.Errorf("dave's log after forget: %+v", rep)
		}
	})
}

func TestRestoreWindow(t *testing.T) {
	r := newRightsEnv(t, pep.WithRestoreWindow(24*time.Hour))
	const marker = "RESTORABLE-MARKER-91d2"
	id := r.storeZoe(marker, "text/plain")
	wantStatus(t, r.jsonReq(http.MethodPost, "/v1/pii/"+id+"/disclosures", "bob",
		map[string]string{"recipient": "erin@example.org", "purpose": purposeService}), http.StatusCreated)
	restore := func(who string) response { return r.do(http.MethodPost, "/v1/pii/"+id+"/restore", who, nil, nil) }

	wantError(t, restore("zoe"), http.StatusConflict, "not deleted")
	wantError(t, r.do(http.MethodPost, "/v1/pii/nope/restore", "zoe", nil, nil), http.StatusNotFound)

	wantStatus(t, r.do(http.MethodDelete, "/v1/pii/"+id, "zoe", nil, nil), http.StatusNoContent)
	t.Run("a deleted record is never served", func(t *testing.T) {
		wantError(t, r.get(id, "zoe", ""), http.StatusNotFound)
		wantError(t, r.get(id, "bob", purposeService), http.StatusNotFound)
		wantError(t, r.get(id, "erin", purposeService), http.StatusNotFound)
		resp := r.do(http.MethodGet, "/v1/pii", "zoe", nil, nil)
		if bytes.Contains(resp.body, []byte(id)) {
			t.Errorf("the list still shows the deleted record: %s", resp.body)
		}
	})
	t.Run("export shows it as deleted", func(t *testing.T) {
		resp := r.do(http.MethodGet, "/v1/subjects/me/export", "zoe", nil, nil)
		var doc exportDoc
		resp.json(t, &doc)
		if len(doc.Records) != 1 || doc.Records[0].State != "deleted" || doc.Records[0].RestorableUntil == nil ||
			!doc.Records[0].RestorableUntil.Equal(r.clock.Now().Add(24*time.Hour)) {
			t.Errorf("export = %+v", doc.Records)
		}
	})
	t.Run("others may not restore", func(t *testing.T) {
		wantDenied(t, restore("dave"), "only the record's data subject")
		wantDenied(t, restore("bob"), "only the record's data subject")
	})
	r.clock.Advance(time.Hour)
	r.runDue() // nothing is due yet
	t.Run("restore within the window", func(t *testing.T) {
		resp := restore("zoe")
		wantStatus(t, resp, http.StatusOK)
		got := r.get(id, "erin", purposeService) // the disclosure came back
		wantStatus(t, got, http.StatusOK)
		if string(got.body) != marker {
			t.Errorf("restored data %q", got.body)
		}
		var types []string
		for _, ev := range r.events(id, "zoe") {
			types = append(types, ev.Type)
		}
		if j := strings.Join(types, ","); !strings.Contains(j, "deleted,") || strings.Index(j, "deleted,") > strings.LastIndex(j, ",restored") {
			t.Errorf("events = %v", types)
		}
		r.verifyChain(id)
	})
	t.Run("the window ends: bytes gone", func(t *testing.T) {
		wantStatus(t, r.do(http.MethodDelete, "/v1/pii/"+id, "root", nil, nil), http.StatusNoContent)
		r.clock.Advance(25 * time.Hour)
		wantError(t, restore("zoe"), http.StatusNotFound, "window")
		r.runDue()
		if bytes.Contains(r.fileBytes(), []byte(marker)) {
			t.Error("the bytes are still in the database files after the window")
		}
		wantError(t, restore("zoe"), http.StatusNotFound, "erased")
		wantError(t, restore("root"), http.StatusNotFound)
		var types []string
		for _, ev := range r.events(id, "zoe") {
			types = append(types, ev.Type)
		}
		j := strings.Join(types, ",")
		if !strings.Contains(j, ",erased") || strings.LastIndex(j, ",erased") < strings.LastIndex(j, ",deleted") {
			t.Errorf("no erased event after the last deletion: %v", types)
		}
		r.verifyChain(id)
	})
	t.Run("admin restores", func(t *testing.T) {
		id2 := r.storeZoe("second", "text/plain")
		wantStatus(t, r.do(http.MethodDelete, "/v1/pii/"+id2, "zoe", nil, nil), http.StatusNoContent)
		wantStatus(t, r.do(http.MethodPost, "/v1/pii/"+id2+"/restore", "root", nil, nil), http.StatusOK)
		wantStatus(t, r.get(id2, "zoe", ""), http.StatusOK)
	})
	t.Run("forget takes binned records too", func(t *testing.T) {
		id3 := r.storeZoe("third "+marker, "text/plain")
		wantStatus(t, r.do(http.MethodDelete, "/v1/pii/"+id3, "zoe", nil, nil), http.StatusNoContent)
		resp := r.do(http.MethodPost, "/v1/subjects/me/forget", "zoe", nil, nil)
		wantStatus(t, resp, http.StatusOK)
		var rep pep.ForgetReport
		resp.json(t, &rep)
		if rep.Tables["deleted_pii"] != 1 {
			t.Errorf("report = %+v", rep)
		}
		if raw := r.fileBytes(); bytes.Contains(raw, []byte(marker)) || bytes.Contains(raw, []byte(zoe)) {
			t.Errorf("forget left binned bytes (%v) or the identity (%v); references %v; tables:\n%s", bytes.Contains(raw, []byte(marker)),
				bytes.Contains(raw, []byte(zoe)), rep.ReferencesKept, grepLines(r.dbDump(), zoe, marker))
		}
		r.verifyChain(id3)
	})
}

func TestDeleteWithoutWindowIsFinal(t *testing.T) {
	r := newRightsEnv(t)
	id := r.storeZoe("final", "text/plain")
	wantStatus(t, r.do(http.MethodDelete, "/v1/pii/"+id, "zoe", nil, nil), http.StatusNoContent)
	wantError(t, r.do(http.MethodPost, "/v1/pii/"+id+"/restore", "zoe", nil, nil), http.StatusNotFound, "erased")
	if r.svc.RestoreWindow() != 0 {
		t.Errorf("default restore window = %s", r.svc.RestoreWindow())
	}
}

func TestOperatorRules(t *testing.T) {
	r := newRightsEnv(t)
	ctx := context.Background()
	text := r.storeZoe("TEXT-MARKER-zz1 Zoe Forget, 1 rue X", "text/plain")
	js := r.storeZoe(`{"name":"JSON-MARKER-zz2","age":42}`, "application/json")
	img := r.storeZoe("IMG-MARKER-zz3", "image/png")
	dave := r.put("dave", "dave keeps this", "subject-policy.xml")
	set, err := rules.Parse([]byte(`{"rules":[
		{"name":"anon-text","source":"GDPR Art. 5(1)(c)","type":"anonymise","categories":["text/*"],"filters":{"subject":"` + zoe + `"}},
		{"name":"pseud-json","source":"GDPR Art. 89(1)","type":"pseudonymise","categories":["application/json"]},
		{"name":"delete-images","source":"RS-12","type":"delete","categories":["image/*"],"filters":{"older_than":"P1D","purpose":"` + purposeService + `"}}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(48 * time.Hour)
	before := r.dbDump()
	plan, err := r.svc.RunRules(ctx, set, true)
	if err != nil {
		t.Fatal(err)
	}
	if r.dbDump() != before {
		t.Fatal("the dry run changed the database")
	}
	got := map[string]string{}
	for _, c := range plan.Changes {
		got[c.Record] = c.Rule
	}
	want := map[string]string{text: "anon-text", js: "pseud-json", img: "delete-images"}
	if toString(got) != toString(want) {
		t.Fatalf("plan = %v, want %v", got, want)
	}
	if _, ok := got[dave]; ok {
		t.Error("the plan touches dave's record")
	}

	rep, err := r.svc.RunRules(ctx, set, false)
	if err != nil || rep.Applied != 3 || len(rep.Skipped) != 0 {
		t.Fatalf("execute = %+v, %v", rep, err)
	}
	t.Run("anonymised", func(t *testing.T) {
		resp := r.get(text, "zoe", "")
		wantStatus(t, resp, http.StatusOK)
		if len(resp.body) != 0 {
			t.Errorf("anonymised text = %q, want empty", resp.body)
		}
		evs := r.events(text, "zoe")
		if last := evs[len(evs)-2]; last.Type != pep.EventAnonymised || !strings.Contains(last.Reason, "anon-text") || !strings.Contains(last.Reason, "GDPR Art. 5(1)(c)") {
			t.Errorf("event = %+v", last)
		}
	})
	t.Run("pseudonymised", func(t *testing.T) {
		resp := r.get(js, "zoe", "")
		wantStatus(t, resp, http.StatusOK)
		var ref struct{ Pseudonym string }
		if err := json.Unmarshal(resp.body, &ref); err != nil || !strings.HasPrefix(ref.Pseudonym, "psd_") || bytes.Contains(resp.body, []byte("JSON-MARKER")) {
			t.Fatalf("pseudonymised data = %s", resp.body)
		}
		if ct := resp.header.Get("Content-Type"); ct != pep.PseudonymContentType {
			t.Errorf("content type %q", ct)
		}
		for _, who := range []string{"zoe", "bob"} {
			wantDenied(t, r.do(http.MethodGet, "/v1/admin/pseudonyms/"+ref.Pseudonym, who, nil, nil), "admin")
		}
		orig := r.do(http.MethodGet, "/v1/admin/pseudonyms/"+ref.Pseudonym, "root", nil, nil)
		wantStatus(t, orig, http.StatusOK)
		if string(orig.body) != `{"name":"JSON-MARKER-zz2","age":42}` || orig.header.Get("Content-Type") != "application/json" {
			t.Errorf("original = %q (%s)", orig.body, orig.header.Get("Content-Type"))
		}
		wantError(t, r.do(http.MethodGet, "/v1/admin/pseudonyms/psd_nope", "root", nil, nil), http.StatusNotFound)
		evs := r.events(js, "root")
		if last := evs[len(evs)-1]; last.Type != pep.EventReidentified || last.Principal != "root@example.org" {
			t.Errorf("reidentification logged as %+v", last)
		}
	})
	t.Run("deleted", func(t *testing.T) {
		wantError(t, r.get(img, "zoe", ""), http.StatusNotFound)
	})
	t.Run("bytes gone", func(t *testing.T) {
		raw := r.fileBytes()
		for _, m := range []string{"TEXT-MARKER-zz1", "IMG-MARKER-zz3"} {
			if bytes.Contains(raw, []byte(m)) {
				t.Errorf("%s is still in the database files", m)
			}
		}
	})
	t.Run("anonymise the pseudonymised", func(t *testing.T) {
		set2, err := rules.Parse([]byte(`[{"name":"anon-json","source":"RS-13","type":"anonymise","categories":["*"],"filters":{"subject":"` + zoe + `"}}]`))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := r.svc.RunRules(ctx, set2, false)
		if err != nil || rep.Applied != 1 || rep.Changes[0].Record != js {
			t.Fatalf("execute = %+v, %v", rep, err)
		}
		resp := r.get(js, "zoe", "")
		if string(resp.body) != `{"age":null,"name":null}` || resp.header.Get("Content-Type") != "application/json" {
			t.Errorf("anonymised JSON = %s (%s)", resp.body, resp.header.Get("Content-Type"))
		}
		if bytes.Contains(r.fileBytes(), []byte("JSON-MARKER-zz2")) {
			t.Error("the pseudonymised original survived anonymisation")
		}
	})
	t.Run("again: nothing to do", func(t *testing.T) {
		rep, err := r.svc.RunRules(ctx, set, false)
		if err != nil || len(rep.Changes) != 0 {
			t.Errorf("second run = %+v, %v", rep, err)
		}
	})
	wantStatus(t, r.get(dave, "dave", ""), http.StatusOK)
	for _, id := range []string{text, js, img, dave} {
		r.verifyChain(id)
	}
}

func TestAuditRetention(t *testing.T) {
	r := newRightsEnv(t)
	ctx := context.Background()
	gone := r.storeZoe("short-lived", "text/plain")
	kept := r.storeZoe("long-lived", "text/plain")
	wantStatus(t, r.do(http.MethodDelete, "/v1/pii/"+gone, "zoe", nil, nil), http.StatusNoContent)
	r.runDue()
	p, err := r.svc.EnforceAuditRetention(ctx, 90*24*time.Hour)
	if err != nil || p.Chains != 0 {
		t.Fatalf("early retention = %+v, %v", p, err)
	}
	wantStatus(t, r.do(http.MethodGet, "/v1/pii/"+gone+"/events", "zoe", nil, nil), http.StatusOK)
	r.clock.Advance(91 * 24 * time.Hour)
	p, err = r.svc.EnforceAuditRetention(ctx, 90*24*time.Hour)
	if err != nil || p.Chains != 1 || p.Events < 2 {
		t.Fatalf("retention = %+v, %v", p, err)
	}
	wantError(t, r.do(http.MethodGet, "/v1/pii/"+gone+"/events", "root", nil, nil), http.StatusNotFound)
	if _, _, n, ok, err := r.st.AuditCheckpoint(ctx, gone); err != nil || !ok || n != p.Events {
		t.Errorf("checkpoint: %d entries, %v, %v", n, ok, err)
	}
	// The live record's log is whole and verifies from genesis, however old.
	r.verifyChain(kept)
	if _, err := r.svc.EnforceAuditRetention(ctx, 0); err == nil {
		t.Error("a zero window was accepted")
	}
}

// grepLines returns the lines of s that contain one of the words.
func grepLines(s string, words ...string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		for _, w := range words {
			if strings.Contains(l, w) {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

func TestAnonymiseObligation(t *testing.T) {
	r := newRightsEnv(t)
	policy := bytes.Replace(r.zoePolicy(), []byte("<ob:ActionDeletePersonalData/>"), []byte("<ob:ActionAnonymizePersonalData/>"), 1)
	resp := r.post("zoe", part{name: "data", contentType: "application/json", value: []byte(`{"city":"ANON-MARKER-77"}`)}, part{name: "policy", value: policy})
	wantStatus(t, resp, http.StatusCreated)
	var c struct{ ID string }
	resp.json(t, &c)
	r.clock.Advance(29 * 24 * time.Hour)
	r.runDue()
	if got := r.get(c.ID, "zoe", ""); string(got.body) != `{"city":"ANON-MARKER-77"}` {
		t.Fatalf("before the deadline: %d %s", got.status, got.body)
	}
	r.clock.Advance(2 * 24 * time.Hour)
	r.runDue()
	got := r.get(c.ID, "zoe", "")
	wantStatus(t, got, http.StatusOK)
	if string(got.body) != `{"city":null}` {
		t.Errorf("after the deadline: %s", got.body)
	}
	if bytes.Contains(r.fileBytes(), []byte("ANON-MARKER-77")) {
		t.Error("the original is still in the database files")
	}
	evs := r.events(c.ID, "zoe")
	found := false
	for _, ev := range evs {
		found = found || ev.Type == pep.EventAnonymised
	}
	if !found {
		t.Errorf("no anonymised event: %+v", evs)
	}
	// Idempotent: a second run of the obligation changes nothing.
	if err := r.svc.AnonymiseForRetention(context.Background(), c.ID); err != nil {
		t.Fatal(err)
	}
	if n := len(r.events(c.ID, "zoe")); n != len(evs) {
		t.Errorf("events %d -> %d", len(evs), n)
	}
	if err := r.svc.AnonymiseForRetention(context.Background(), "nope"); err != nil {
		t.Errorf("unknown record: %v", err)
	}
	r.verifyChain(c.ID)
}

func TestCategoryPart(t *testing.T) {
	r := newRightsEnv(t)
	resp := r.post("zoe", part{name: "data", contentType: "text/plain", value: []byte("blood pressure 120/80")},
		part{name: "policy", value: r.zoePolicy()}, part{name: "category", value: []byte("health")})
	wantStatus(t, resp, http.StatusCreated)
	var c struct{ ID string }
	resp.json(t, &c)
	plain := r.storeZoe("no category", "text/plain")
	before := r.dbDump()
	bad := r.post("zoe", part{name: "data", value: []byte("x")}, part{name: "policy", value: r.zoePolicy()}, part{name: "category", value: []byte("Health Data")})
	wantError(t, bad, http.StatusBadRequest, "category")
	if r.dbDump() != before {
		t.Error("a refused store changed the database")
	}
	set, err := rules.Parse([]byte(`[{"name":"health","source":"GDPR Art. 9","type":"delete","categories":["health"]}]`))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := r.svc.RunRules(context.Background(), set, true)
	if err != nil || len(rep.Changes) != 1 || rep.Changes[0].Record != c.ID || rep.Changes[0].Category != "health" {
		t.Fatalf("plan = %+v, %v", rep, err)
	}
	_ = plain
	resp = r.do(http.MethodGet, "/v1/subjects/me/export", "zoe", nil, nil)
	var doc struct {
		Records []struct{ ID, Category string }
	}
	resp.json(t, &doc)
	if len(doc.Records) != 2 || doc.Records[0].Category != "health" || doc.Records[1].Category != "" {
		t.Errorf("export categories = %+v", doc.Records)
	}
}

func TestRestoreWindowEndsAtTheRetentionDeadline(t *testing.T) {
	r := newRightsEnv(t, pep.WithRestoreWindow(60*24*time.Hour))
	id := r.storeZoe("kept at most 30 days", "text/plain") // the policy deletes after P30D
	deadline := r.clock.Now().AddDate(0, 0, 30)
	r.clock.Advance(24 * time.Hour)
	wantStatus(t, r.do(http.MethodDelete, "/v1/pii/"+id, "zoe", nil, nil), http.StatusNoContent)
	var doc exportDoc
	r.do(http.MethodGet, "/v1/subjects/me/export", "zoe", nil, nil).json(t, &doc)
	if len(doc.Records) != 1 || doc.Records[0].RestorableUntil == nil || !doc.Records[0].RestorableUntil.Equal(deadline) {
		t.Fatalf("restorable until %v, want the retention deadline %s", doc.Records, deadline)
	}
	r.clock.Advance(29*24*time.Hour + time.Second)
	r.runDue()
	if bytes.Contains(r.fileBytes(), []byte("kept at most 30 days")) {
		t.Error("the bin kept the data past its retention deadline")
	}
	wantError(t, r.do(http.MethodPost, "/v1/pii/"+id+"/restore", "zoe", nil, nil), http.StatusNotFound)
}

func TestRightsBadInput(t *testing.T) {
	r := newRightsEnv(t)
	wantError(t, r.do(http.MethodPost, "/v1/subjects/has%20space/forget", "root", nil, nil), http.StatusBadRequest, "principal name")
	wantError(t, r.do(http.MethodGet, "/v1/subjects/"+zoe+"/forget", "root", nil, nil), http.StatusMethodNotAllowed)
	wantError(t, r.do(http.MethodPost, "/v1/subjects/"+zoe+"/export", "root", nil, nil), http.StatusMethodNotAllowed)
	wantError(t, r.do(http.MethodGet, "/v1/pii/x/restore", "root", nil, nil), http.StatusMethodNotAllowed)
	wantError(t, r.do(http.MethodPost, "/v1/subjects/"+zoe+"/forget?dry_run=2", "root", nil, nil), http.StatusBadRequest, "dry_run")
	wantError(t, r.do(http.MethodGet, "/v1/admin/pseudonyms/x", "", nil, nil), http.StatusUnauthorized)
	wantError(t, r.do(http.MethodPost, "/v1/pii/x/restore", "sticky_bogus", nil, nil), http.StatusUnauthorized)
	// Nothing was forgotten on the way.
	wantStatus(t, r.do(http.MethodGet, "/v1/pii", "zoe", nil, nil), http.StatusOK)
}
