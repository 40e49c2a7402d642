package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/internal/audit"
	"github.com/stickypolicy/sticky/internal/store"
	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/pep"
	"github.com/stickypolicy/sticky/policies"
)

// rightsWorld is a store holding two subjects' records, a controller, a
// recipient of a disclosure, events, preferences, jobs and notifications.
type rightsWorld struct {
	s      *store.Store
	now    time.Time
	alice  string
	marker []byte // in alice's record's bytes only
	ids    []string
}

func newRightsWorld(t *testing.T) *rightsWorld {
	t.Helper()
	ctx := context.Background()
	w := &rightsWorld{s: open(t, t.TempDir()), now: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC),
		alice: "alice.forget.me@example.org", marker: []byte("ALICE-MARKER-a81c0f")}
	s := w.s
	for i, p := range []pep.Principal{
		{Name: w.alice, Role: pep.RoleSubject},
		{Name: "carol@example.org", Role: pep.RoleSubject},
		{Name: "app@example.org", Role: pep.RoleController, Email: "ops@app.example.net"},
		{Name: "bob@example.org", Role: pep.RoleController},
	} {
		var h pep.TokenHash
		h[0] = byte(i + 1)
		if err := s.AddPrincipal(ctx, p, h); err != nil {
			t.Fatal(err)
		}
	}
	policy := []byte(`<ppl:Policy notify="` + w.alice + `"/>`)
	recs := []pep.Record{
		{ID: "ra1", Subject: w.alice, StoredBy: w.alice, ContentType: "text/plain", Policy: policy, PolicyHash: "h1", StoredAt: w.now},
		{ID: "ra2", Subject: w.alice, StoredBy: "app@example.org", ContentType: "application/json", Policy: policy, PolicyHash: "h2", StoredAt: w.now},
		{ID: "rc1", Subject: "carol@example.org", StoredBy: "carol@example.org", ContentType: "text/plain", Policy: []byte("<p/>"), PolicyHash: "h3", StoredAt: w.now},
	}
	err := s.WriteTx(ctx, func(tx *store.Tx) error {
		for _, r := range recs {
			data := append(bytes.Repeat([]byte("x"), 100), w.marker...)
			if r.Subject != w.alice {
				data = []byte("carol's data")
			}
			if err := tx.InsertRecord(ctx, r, data); err != nil {
				return err
			}
			if _, err := tx.AppendEvent(ctx, pep.EventInput{PII: r.ID, Subject: r.Subject, Time: w.now, Type: pep.EventStored, Principal: r.StoredBy, Decision: "Permit", PolicyHash: r.PolicyHash}); err != nil {
				return err
			}
		}
		if err := tx.InsertDisclosure(ctx, pep.Disclosure{PII: "ra2", Recipient: "bob@example.org", Purpose: "https://w3id.org/dpv#Marketing", By: "app@example.org", Time: w.now}); err != nil {
			return err
		}
		for _, ev := range []pep.EventInput{
			{PII: "ra2", Subject: w.alice, Time: w.now.Add(time.Second), Type: pep.EventDisclosed, Principal: "app@example.org", Recipient: "bob@example.org", Purpose: "https://w3id.org/dpv#Marketing", Decision: "Permit"},
			{PII: "ra2", Subject: w.alice, Time: w.now.Add(2 * time.Second), Type: pep.EventAccessed, Principal: "bob@example.org", Purpose: "https://w3id.org/dpv#Marketing", Decision: "Permit"},
			{PII: "ra1", Subject: w.alice, Time: w.now.Add(2 * time.Second), Type: pep.EventSubjectAccess, Principal: w.alice, Decision: "Permit"},
			// alice is refused carol's record: her pseudonym lands in carol's chain.
			{PII: "rc1", Subject: "carol@example.org", Time: w.now.Add(3 * time.Second), Type: pep.EventDenied, Principal: w.alice, Decision: "Deny", Reason: "a data subject may read only its own records"},
		} {
			if _, err := tx.AppendEvent(ctx, ev); err != nil {
				return err
			}
		}
		if err := tx.SetPreferences(ctx, w.alice, []byte("<prefs of alice/>"), w.now); err != nil {
			return err
		}
		job := obligations.Job{ID: "job-retention-ra1", PII: "ra1", Owner: w.alice, ObligationID: "o1", Action: policies.ActionDeletePersonalData,
			Due: w.now.Add(time.Hour), TimeDriven: true, Event: obligations.Event{Type: obligations.EventStored, PII: "ra1", Owner: w.alice, Time: w.now}}
		return tx.EnqueueJobs(ctx, []obligations.Job{job})
	})
	if err != nil {
		t.Fatal(err)
	}
	// An inbox notification for alice and one for carol that names alice.
	for _, n := range []obligations.Notification{
		{ID: "n1", Recipient: w.alice, PII: "ra2", Event: obligations.EventAccessed, Principal: "bob@example.org", Text: "bob used record ra2"},
		{ID: "n2", Recipient: "carol@example.org", PII: "rc1", Event: obligations.EventDenied, Principal: w.alice, Text: w.alice + " was refused access"},
	} {
		if _, err := s.DB().ExecContext(ctx, `INSERT INTO notifications (id, recipient, time, delivered, pii, event, principal, purpose, text)
			VALUES (?, ?, ?, ?, ?, ?, ?, '', ?)`, n.ID, n.Recipient, w.now.UnixNano(), w.now.UnixNano(), n.PII, string(n.Event), n.Principal, n.Text); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// dump returns every row of every table as text, for before/after
// comparisons.
func dump(t *testing.T, db *sql.DB) string {
	t.Helper()
	ctx := context.Background()
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
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
		rows, err := db.QueryContext(ctx, `SELECT * FROM "`+tbl+`" ORDER BY 1, 2`)
		if err != nil {
			rows, err = db.QueryContext(ctx, `SELECT * FROM "`+tbl+`" ORDER BY 1`)
		}
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s: %q\n", tbl, vals)
		}
		rows.Close()
	}
	return b.String()
}

func forgetReq(w *rightsWorld, subject string, dry bool) pep.ForgetRequest {
	return pep.ForgetRequest{Subject: subject, By: "sticky", ReportID: "fgt_test1", Placeholder: "forgotten:fgt_test1", Now: w.now.Add(time.Minute), DryRun: dry,
		Notices: func(erased []pep.ErasedRecord) []obligations.Job {
			var jobs []obligations.Job
			for _, e := range erased {
				for _, r := range e.Recipients {
					jobs = append(jobs, obligations.Job{ID: "notice-" + e.ID + "-" + r.Identity, PII: e.ID, Owner: "forgotten:fgt_test1",
						ObligationID: pep.ErasureNoticeID, Action: policies.ActionNotifyDataSubject, Media: obligations.MediaInbox, Address: r.Identity,
						Due: w.now.Add(time.Minute), Event: obligations.Event{Type: obligations.EventDeleted, PII: e.ID, Time: w.now.Add(time.Minute)}})
				}
			}
			return jobs
		}}
}

func TestForget(t *testing.T) {
	w := newRightsWorld(t)
	s, ctx := w.s, context.Background()
	if !fileContains(t, s.Path(), []byte(w.alice)) || !fileContains(t, s.Path(), w.marker) {
		t.Fatal("the identity and the marker are not in the database files before forget: the test cannot see anything")
	}

	before := dump(t, s.ReadDB())
	dry, err := s.Forget(ctx, forgetReq(w, w.alice, true))
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if after := dump(t, s.ReadDB()); after != before {
		t.Fatalf("the dry run changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	rep, err := s.Forget(ctx, forgetReq(w, w.alice, false))
	if err != nil {
		t.Fatalf("forget: %v", err)
	}
	dry.DryRun = false
	if fmt.Sprint(dry) != fmt.Sprint(rep) {
		t.Errorf("the dry run reported\n%+v\nthe real run\n%+v", dry, rep)
	}
	if got := strings.Join(rep.Records, ","); got != "ra1,ra2" {
		t.Errorf("records = %s, want ra1,ra2", got)
	}
	wantTables := map[string]int{"pii": 2, "disclosures": 1, "policy_history": 2, "preferences": 1, "subject_keys": 1,
		"principals": 1, "tokens": 1, "jobs": 1, "notifications": 2, "tombstones": 2, "events": 2, "deleted_pii": 0, "pseudonymised": 0}
	for tbl, n := range wantTables {
		if rep.Tables[tbl] != n {
			t.Errorf("tables[%s] = %d, want %d (report %+v)", tbl, rep.Tables[tbl], n, rep.Tables)
		}
	}
	if rep.Tables["identities"] < 3 {
		t.Errorf("identities removed = %d, want at least 3 (alice under her key and carol's, app and bob under alice's)", rep.Tables["identities"])
	}
	if rep.TokensRevoked != 1 || rep.RecipientsCount != 2 || strings.Join(rep.Recipients, ",") != "app@example.org,bob@example.org" || rep.Notices != 2 {
		t.Errorf("tokens %d, recipients %v (%d), notices %d", rep.TokensRevoked, rep.Recipients, rep.RecipientsCount, rep.Notices)
	}
	if len(rep.ReferencesKept) != 0 {
		t.Errorf("references kept: %v", rep.ReferencesKept)
	}
	if fileContains(t, s.Path(), []byte(w.alice)) {
		t.Error("the identity is still in the database files")
	}
	if fileContains(t, s.Path(), w.marker) {
		t.Error("the data is still in the database files")
	}
	// carol's data is untouched.
	if _, data, err := s.RecordData(ctx, "rc1"); err != nil || string(data) != "carol's data" {
		t.Errorf("carol's record: %q, %v", data, err)
	}
	// The chains still verify, end with the erasure and resolve no pseudonym to alice.
	for _, id := range []string{"ra1", "ra2", "rc1"} {
		evs, err := s.Events(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Principal == w.alice {
				t.Errorf("record %s event %d still resolves to alice", id, e.Seq)
			}
		}
		if err := verifyLinks(rawEntries(t, s, id)); err != nil {
			t.Errorf("record %s: %v", id, err)
		}
		if id != "rc1" && evs[len(evs)-1].Type != pep.EventDeleted {
			t.Errorf("record %s: last event %+v, want deleted", id, evs[len(evs)-1])
		}
	}
	owner, deleted, err := s.Owner(ctx, "ra1")
	if err != nil || !deleted || owner != "forgotten:fgt_test1" {
		t.Errorf("Owner(ra1) = %q, %v, %v", owner, deleted, err)
	}
	if _, err := s.PrincipalByToken(ctx, pep.TokenHash{1}); !errors.Is(err, pep.ErrNotFound) {
		t.Errorf("alice's token still works: %v", err)
	}
	// The notices are queued for the recipients.
	jobs, err := s.Jobs(ctx, "ra2")
	if err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for _, j := range jobs {
		addrs = append(addrs, j.Address)
	}
	if strings.Join(addrs, ",") != "app@example.org,bob@example.org" && strings.Join(addrs, ",") != "bob@example.org,app@example.org" {
		t.Errorf("jobs of ra2 go to %v", addrs)
	}
	reports, err := s.Reports(ctx, "forget")
	if err != nil || len(reports) != 1 || bytes.Contains(reports[0], []byte("alice")) || bytes.Contains(reports[0], []byte("bob")) {
		t.Errorf("kept reports = %s, %v", reports, err)
	}

	// A write that raced with forget (it read the record before the
	// erasure) logs under the placeholder, never as alice again.
	err = s.WriteTx(ctx, func(tx *store.Tx) error {
		_, err := tx.AppendEvent(ctx, pep.EventInput{PII: "ra1", Subject: w.alice, Time: w.now.Add(time.Hour), Type: pep.EventDenied,
			Principal: w.alice, Decision: "Deny", PolicyHash: "h1"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if fileContains(t, s.Path(), []byte(w.alice)) {
		t.Error("a late event brought the identity back")
	}
	if err := verifyLinks(rawEntries(t, s, "ra1")); err != nil {
		t.Error(err)
	}

	// Twice: nothing new.
	before = dump(t, s.ReadDB())
	again, err := s.Forget(ctx, forgetReq(w, w.alice, false))
	if err != nil {
		t.Fatalf("second forget: %v", err)
	}
	if !again.AlreadyForgotten || len(again.Records) != 0 || again.TokensRevoked != 0 || again.Notices != 0 {
		t.Errorf("second forget = %+v", again)
	}
	for tbl, n := range again.Tables {
		if n != 0 {
			t.Errorf("second forget touched %s: %d", tbl, n)
		}
	}
	if after := dump(t, s.ReadDB()); after != before {
		t.Error("the second forget changed the database")
	}

	// Unknown.
	if _, err := s.Forget(ctx, forgetReq(w, "nobody@example.org", false)); !errors.Is(err, pep.ErrNotFound) {
		t.Errorf("unknown subject: %v, want ErrNotFound", err)
	}
	if _, err := s.Forget(ctx, forgetReq(w, "nobody@example.org", true)); !errors.Is(err, pep.ErrNotFound) {
		t.Errorf("unknown subject, dry run: %v, want ErrNotFound", err)
	}
}

// rawEntries reads a record's chain as stored (pseudonyms unresolved).
func rawEntries(t *testing.T, s *store.Store, pii string) []audit.Entry {
	t.Helper()
	rows, err := s.ReadDB().Query(`SELECT seq, time, type, principal, purpose, recipient, decision, reason, policy_hash, prev, hash
		FROM events WHERE pii = ? ORDER BY seq`, pii)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []audit.Entry
	for rows.Next() {
		e := audit.Entry{PII: pii}
		var tm int64
		if err := rows.Scan(&e.Seq, &tm, &e.Type, &e.Principal, &e.Purpose, &e.Recipient, &e.Decision, &e.Reason, &e.PolicyHash, &e.Prev, &e.Hash); err != nil {
			t.Fatal(err)
		}
		e.Time = time.Unix(0, tm).UTC()
		out = append(out, e)
	}
	if len(out) == 0 {
		t.Fatalf("record %s has no events", pii)
	}
	return out
}

// verifyLinks checks a chain with internal/audit when the store seals with
// it, and its links and numbering in any case.
func verifyLinks(entries []audit.Entry) error {
	for i, e := range entries {
		if e.Seq != int64(i+1) {
			return fmt.Errorf("entry %d has seq %d", i, e.Seq)
		}
		if i > 0 && e.Prev != entries[i-1].Hash {
			return fmt.Errorf("entry %d does not link to entry %d", i, i-1)
		}
	}
	if len(entries) > 0 && entries[0].Prev == audit.Genesis(entries[0].PII) {
		return audit.Verify(entries)
	}
	return nil
}

func TestBinRestoreAndPurge(t *testing.T) {
	w := newRightsWorld(t)
	s, ctx := w.s, context.Background()
	deletedAt := w.now.Add(time.Hour)
	err := s.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.BinRecord(ctx, "ra2", deletedAt, deletedAt.Add(24*time.Hour)); err != nil {
			return err
		}
		return tx.DeleteRecord(ctx, "ra2", deletedAt)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Record(ctx, "ra2"); !errors.Is(err, pep.ErrNotFound) {
		t.Fatalf("a binned record is still served: %v", err)
	}
	b, err := s.Binned(ctx, "ra2")
	if err != nil || !b.Deleted || !b.EraseAt.Equal(deletedAt.Add(24*time.Hour)) || len(b.Disclosures) != 1 || b.Disclosures[0].Recipient != "bob@example.org" {
		t.Fatalf("Binned = %+v, %v", b, err)
	}
	held, err := s.HeldRecords(ctx, w.alice)
	if err != nil || len(held) != 2 || held[1].ID != "ra2" || !held[1].Deleted || !bytes.Contains(held[1].Data, w.marker) {
		t.Fatalf("HeldRecords = %+v, %v", held, err)
	}
	var restored pep.Record
	err = s.WriteTx(ctx, func(tx *store.Tx) error {
		var err error
		restored, err = tx.RestoreRecord(ctx, "ra2")
		return err
	})
	if err != nil || restored.ID != "ra2" || restored.Subject != w.alice {
		t.Fatalf("RestoreRecord = %+v, %v", restored, err)
	}
	if _, data, err := s.RecordData(ctx, "ra2"); err != nil || !bytes.Contains(data, w.marker) {
		t.Fatalf("restored record: %v", err)
	}
	if d, ok, err := s.Disclosed(ctx, "ra2", "bob@example.org"); err != nil || !ok || d.By != "app@example.org" {
		t.Fatalf("the disclosure did not come back: %+v %v %v", d, ok, err)
	}
	if _, deleted, err := s.Owner(ctx, "ra2"); err != nil || deleted {
		t.Fatalf("the tombstone stayed: deleted=%v %v", deleted, err)
	}
	if _, err := s.Binned(ctx, "ra2"); !errors.Is(err, pep.ErrNotFound) {
		t.Fatalf("still in the bin: %v", err)
	}
	// Bin it again and let the window end: the bytes go.
	err = s.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.BinRecord(ctx, "ra2", deletedAt, deletedAt.Add(time.Hour)); err != nil {
			return err
		}
		return tx.DeleteRecord(ctx, "ra2", deletedAt)
	})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	err = s.WriteTx(ctx, func(tx *store.Tx) error {
		var err error
		_, found, err = tx.PurgeBinned(ctx, "ra2")
		return err
	})
	if err != nil || !found {
		t.Fatalf("PurgeBinned = %v, %v", found, err)
	}
	// Only ra1 still holds the marker; erase it too and look at the file.
	if err := s.Write(ctx, func(tx pep.Tx) error { return tx.DeleteRecord(ctx, "ra1", deletedAt) }); err != nil {
		t.Fatal(err)
	}
	if fileContains(t, s.Path(), w.marker) {
		t.Error("the bytes of a purged record are still in the database files")
	}
	err = s.WriteTx(ctx, func(tx *store.Tx) error {
		_, found, err = tx.PurgeBinned(ctx, "ra2")
		return err
	})
	if err != nil || found {
		t.Errorf("second PurgeBinned = %v, %v", found, err)
	}
}

func TestReplaceDataAndPseudonymised(t *testing.T) {
	w := newRightsWorld(t)
	s, ctx := w.s, context.Background()
	err := s.WriteTx(ctx, func(tx *store.Tx) error {
		_, data, err := s.RecordData(ctx, "ra1")
		if err != nil {
			return err
		}
		if err := tx.KeepPseudonymised(ctx, pep.PseudonymisedOriginal{ID: "psd_1", PII: "ra1", Subject: w.alice, Rule: "r", ContentType: "text/plain", Data: data, Created: w.now}); err != nil {
			return err
		}
		return tx.ReplaceData(ctx, "ra1", []byte(`{"pseudonym":"psd_1"}`), "application/json", pep.StatePseudonymised)
	})
	if err != nil {
		t.Fatal(err)
	}
	o, err := s.Pseudonymised(ctx, "psd_1")
	if err != nil || !bytes.Contains(o.Data, w.marker) || o.PII != "ra1" {
		t.Fatalf("Pseudonymised = %+v, %v", o, err)
	}
	recs, err := s.RuleRecords(ctx)
	if err != nil || len(recs) != 3 || recs[0].State != pep.StatePseudonymised || recs[0].ContentType != "application/json" {
		t.Fatalf("RuleRecords = %+v, %v", recs, err)
	}
	err = s.WriteTx(ctx, func(tx *store.Tx) error {
		if n, err := tx.DropPseudonymised(ctx, "ra1"); err != nil || n != 1 {
			return fmt.Errorf("DropPseudonymised = %d, %v", n, err)
		}
		if err := tx.ReplaceData(ctx, "ra1", []byte{}, "text/plain", pep.StateAnonymised); err != nil {
			return err
		}
		return tx.ReplaceData(ctx, "ra2", []byte{}, "application/json", pep.StateAnonymised)
	})
	if err != nil {
		t.Fatal(err)
	}
	if fileContains(t, s.Path(), w.marker) {
		t.Error("anonymised bytes are still in the database files")
	}
	if err := s.WriteTx(ctx, func(tx *store.Tx) error { return tx.ReplaceData(ctx, "nope", nil, "", "") }); !errors.Is(err, pep.ErrNotFound) {
		t.Errorf("ReplaceData(unknown) = %v", err)
	}
}

func TestPurgeAuditLog(t *testing.T) {
	w := newRightsWorld(t)
	s, ctx := w.s, context.Background()
	if err := s.Write(ctx, func(tx pep.Tx) error { return tx.DeleteRecord(ctx, "ra1", w.now) }); err != nil {
		t.Fatal(err)
	}
	evs, _ := s.Events(ctx, "ra1")
	last := evs[len(evs)-1]
	// Not yet older than the window: nothing goes.
	p, err := s.PurgeAuditLog(ctx, w.now, w.now.Add(time.Hour))
	if err != nil || p.Chains != 0 || p.Events != 0 {
		t.Fatalf("early purge = %+v, %v", p, err)
	}
	p, err = s.PurgeAuditLog(ctx, w.now.Add(time.Hour), w.now.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if p.Chains != 1 || p.Events != len(evs) {
		t.Fatalf("purge = %+v, want 1 chain of %d events", p, len(evs))
	}
	if got, _ := s.Events(ctx, "ra1"); len(got) != 0 {
		t.Errorf("events left: %d", len(got))
	}
	seq, hash, n, ok, err := s.AuditCheckpoint(ctx, "ra1")
	if err != nil || !ok || seq != last.Seq || hash != last.Hash || n != len(evs) {
		t.Errorf("checkpoint = %d %q %d %v %v, want %d %q %d", seq, hash, n, ok, err, last.Seq, last.Hash, len(evs))
	}
	if _, _, err := s.Owner(ctx, "ra1"); !errors.Is(err, pep.ErrNotFound) {
		t.Errorf("the tombstone stayed: %v", err)
	}
	// Live records keep their chains whatever their age.
	for _, id := range []string{"ra2", "rc1"} {
		got, _ := s.Events(ctx, id)
		if len(got) == 0 {
			t.Errorf("record %s lost its events", id)
		}
	}
	p, err = s.PurgeAuditLog(ctx, w.now.Add(time.Hour), w.now.Add(3*time.Hour))
	if err != nil || p.Chains != 0 {
		t.Errorf("second purge = %+v, %v", p, err)
	}
}
