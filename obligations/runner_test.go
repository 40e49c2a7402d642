package obligations_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/internal/store"
	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/obligations/internal/smtptest"
	"github.com/stickypolicy/sticky/pep"
	"github.com/stickypolicy/sticky/policies"
)

var (
	t0        = time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)
	purpose   = "https://w3id.org/dpv#ServiceProvision"
	oneMinute = policies.Duration{Clock: time.Minute}
	secret    = []byte("test-webhook-secret")
)

// fakeClock is the injected clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// storeDeleter is what pep does for retention, on the real store: erase the
// row, cancel the record's time-driven jobs, log "deleted".
type storeDeleter struct {
	s     *store.Store
	clock obligations.Clock
}

func (d storeDeleter) DeleteForRetention(ctx context.Context, pii string) error {
	now := d.clock.Now()
	return d.s.WriteTx(ctx, func(tx *store.Tx) error {
		owner := ""
		if r, err := d.s.Record(ctx, pii); err == nil {
			owner = r.Subject
		}
		if err := tx.DeleteRecord(ctx, pii, now); errors.Is(err, pep.ErrNotFound) {
			return obligations.ErrGone
		} else if err != nil {
			return err
		}
		if _, err := tx.CancelTimeDriven(ctx, pii, now); err != nil {
			return err
		}
		_, err := tx.AppendEvent(ctx, pep.EventInput{PII: pii, Subject: owner, Time: now, Type: pep.EventDeleted})
		return err
	})
}

type recordingAnonymiser struct {
	mu  sync.Mutex
	pii []string
}

func (a *recordingAnonymiser) AnonymiseForRetention(_ context.Context, pii string) error {
	a.mu.Lock()
	a.pii = append(a.pii, pii)
	a.mu.Unlock()
	return nil
}

type harness struct {
	t     *testing.T
	ctx   context.Context
	s     *store.Store
	clock settableClock
	r     *obligations.Runner
}

type settableClock interface {
	obligations.Clock
	Set(time.Time)
}

func newHarness(t *testing.T, perf obligations.Performers, opts ...obligations.Option) *harness {
	return newHarnessClock(t, &fakeClock{t: t0}, perf, opts...)
}

func newHarnessClock(t *testing.T, clock settableClock, perf obligations.Performers, opts ...obligations.Option) *harness {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if perf.Deleter == nil {
		perf.Deleter = storeDeleter{s: s, clock: clock}
	}
	if perf.Webhooks == nil {
		perf.Webhooks = obligations.NewWebhookPoster(secret, nil, clock)
	}
	return &harness{t: t, ctx: ctx, s: s, clock: clock, r: obligations.NewRunner(s, perf, clock, opts...)}
}

// store stores a record like pep does and plans its "stored" jobs in the
// same transaction.
func (h *harness) store(id string, terms *policies.DataHandling) {
	h.t.Helper()
	now := h.clock.Now()
	deleteAt, _ := obligations.RetentionDeadline(terms, now)
	err := h.s.WriteTx(h.ctx, func(tx *store.Tx) error {
		if err := tx.InsertRecord(h.ctx, pep.Record{ID: id, Subject: "alice@example.org", StoredBy: "alice@example.org",
			ContentType: "text/plain", Policy: []byte("<policy/>"), PolicyHash: "h", StoredAt: now, DeleteAt: deleteAt}, []byte("secret bytes")); err != nil {
			return err
		}
		ev, err := tx.AppendEvent(h.ctx, pep.EventInput{PII: id, Subject: "alice@example.org", Time: now, Type: pep.EventStored, Principal: "alice@example.org"})
		if err != nil {
			return err
		}
		return tx.EnqueueJobs(h.ctx, obligations.NewPlanner(nil).Plan(terms, obligations.Event{
			Type: obligations.EventStored, PII: id, Owner: "alice@example.org", Principal: "alice@example.org", Time: now, StoredAt: now, Seq: ev.Seq}))
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

// use records an access by bob like pep does.
func (h *harness) use(id string, terms *policies.DataHandling) {
	h.t.Helper()
	now := h.clock.Now()
	err := h.s.WriteTx(h.ctx, func(tx *store.Tx) error {
		ev, err := tx.AppendEvent(h.ctx, pep.EventInput{PII: id, Subject: "alice@example.org", Time: now, Type: pep.EventAccessed,
			Principal: "bob@example.org", Purpose: purpose, Decision: "Permit"})
		if err != nil {
			return err
		}
		return tx.EnqueueJobs(h.ctx, obligations.NewPlanner(nil).Plan(terms, obligations.Event{
			Type: obligations.EventAccessed, PII: id, Owner: "alice@example.org", Principal: "bob@example.org", Purpose: purpose, Time: now, Seq: ev.Seq}))
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) process(at time.Time) {
	h.t.Helper()
	h.clock.Set(at)
	for _, lane := range obligations.AllLanes() {
		if _, err := h.r.ProcessDue(h.ctx, lane); err != nil {
			h.t.Fatal(err)
		}
	}
}

func (h *harness) exists(id string) bool {
	h.t.Helper()
	_, _, err := h.s.RecordData(h.ctx, id)
	if err != nil && !errors.Is(err, pep.ErrNotFound) {
		h.t.Fatal(err)
	}
	return err == nil
}

func (h *harness) eventTypes(id string) string {
	h.t.Helper()
	evs, err := h.s.Events(h.ctx, id)
	if err != nil {
		h.t.Fatal(err)
	}
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	return strings.Join(types, ",")
}

func (h *harness) jobs(id string) []obligations.Job {
	h.t.Helper()
	jobs, err := h.s.Jobs(h.ctx, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return jobs
}

func retention(d policies.Duration) *policies.DataHandling {
	return &policies.DataHandling{Obligations: []policies.Obligation{{
		Triggers: []policies.Trigger{{Kind: policies.TriggerAtTime, Start: &policies.Start{Now: true}, MaxDelay: &d}},
		Action:   policies.Action{Kind: policies.ActionDeletePersonalData},
	}}}
}

func onUse(act policies.Action) *policies.DataHandling {
	return &policies.DataHandling{Obligations: []policies.Obligation{{
		Triggers: []policies.Trigger{{Kind: policies.TriggerPersonalDataAccessedForPurpose, MaxDelay: &oneMinute}},
		Action:   act,
	}}}
}

func TestRetentionDeletesAtTheDeadline(t *testing.T) {
	h := newHarness(t, obligations.Performers{})
	h.store("r1", retention(policies.Duration{Days: 30}))
	deadline := t0.AddDate(0, 0, 30)
	h.process(deadline.Add(-time.Nanosecond))
	if !h.exists("r1") {
		t.Fatal("the record was deleted before its deadline")
	}
	h.process(deadline)
	if h.exists("r1") {
		t.Fatal("the record still exists at its deadline")
	}
	if got := h.eventTypes("r1"); got != "stored,deleted" {
		t.Fatalf("events = %s; want stored,deleted", got)
	}
	if jobs := h.jobs("r1"); len(jobs) != 1 || jobs[0].State != obligations.StateCancelled && jobs[0].State != obligations.StateDone {
		t.Fatalf("jobs after deletion: %+v", jobs)
	}
}

func TestDeletionOfAGoneRecordIsDone(t *testing.T) {
	h := newHarness(t, obligations.Performers{})
	h.store("r1", retention(policies.Duration{Days: 1}))
	if err := h.s.WriteTx(h.ctx, func(tx *store.Tx) error { return tx.DeleteRecord(h.ctx, "r1", t0) }); err != nil {
		t.Fatal(err)
	}
	h.process(t0.AddDate(0, 0, 1))
	if jobs := h.jobs("r1"); len(jobs) != 1 || jobs[0].State != obligations.StateDone {
		t.Fatalf("retention job of a record deleted by hand: %+v; want done", jobs)
	}
}

func TestInboxNotificationOnUse(t *testing.T) {
	h := newHarness(t, obligations.Performers{})
	terms := onUse(policies.Action{Kind: policies.ActionNotifyDataSubject, Media: "inbox"})
	h.store("r1", terms)
	h.clock.Set(t0.Add(time.Hour))
	h.use("r1", terms)
	h.use("r1", terms) // a second use: a second notification
	// Delivered in the use's own transaction: no job left for the runner.
	if at, ok, _ := h.s.NextDue(h.ctx, obligations.LaneLocal); ok {
		t.Fatalf("an inbox notification due at its use was queued (due %s)", at)
	}
	inbox, err := h.s.Notifications(h.ctx, "alice@example.org")
	if err != nil {
		t.Fatal(err)
	}
	want := "bob@example.org used record r1 for purpose " + purpose + " at 2030-03-01T13:00:00Z."
	if len(inbox) != 2 || inbox[0].Text != want || inbox[0].Principal != "bob@example.org" || inbox[0].Purpose != purpose ||
		inbox[0].Event != obligations.EventAccessed || !inbox[0].Time.Equal(t0.Add(time.Hour)) {
		t.Fatalf("inbox = %+v; want one notification %q", inbox, want)
	}
	if got := h.eventTypes("r1"); got != "stored,accessed,notified,accessed,notified" {
		t.Fatalf("events = %s; want stored,accessed,notified twice", got)
	}
	// The inbox rows and the notified events are their record: no jobs row.
	if jobs := h.jobs("r1"); len(jobs) != 0 {
		t.Fatalf("jobs = %+v; want none for notifications delivered with their event", jobs)
	}
}

// TestQueuedInboxNotification delivers an inbox reminder through the
// runner (a time trigger: not due at its event).
func TestQueuedInboxNotification(t *testing.T) {
	h := newHarness(t, obligations.Performers{})
	at := t0.Add(time.Hour)
	terms := &policies.DataHandling{Obligations: []policies.Obligation{{
		Triggers: []policies.Trigger{{Kind: policies.TriggerAtTime, Start: &policies.Start{At: at}, MaxDelay: &oneMinute}},
		Action:   policies.Action{Kind: policies.ActionNotifyDataSubject, Media: "inbox"},
	}}}
	h.store("r1", terms)
	h.process(at.Add(-time.Second))
	if inbox, _ := h.s.Notifications(h.ctx, "alice@example.org"); len(inbox) != 0 {
		t.Fatal("a reminder was delivered before its time")
	}
	h.process(at)
	h.process(at.Add(time.Hour))
	inbox, _ := h.s.Notifications(h.ctx, "alice@example.org")
	if len(inbox) != 1 || !strings.Contains(inbox[0].Text, "Reminder") || !inbox[0].Delivered.Equal(at) {
		t.Fatalf("inbox = %+v; want the reminder once, delivered at %s", inbox, at)
	}
	if got := h.eventTypes("r1"); got != "stored,notified" {
		t.Fatalf("events = %s; want stored,notified", got)
	}
}

// webhookReceiver is an httptest server that verifies signatures and can be
// told to fail.
type webhookReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int // answered in turn; then 200
	keys     []string
	bodies   []obligations.WebhookPayload
	bad      []error
}

func newReceiver(t *testing.T, statuses ...int) *webhookReceiver {
	w := &webhookReceiver{statuses: statuses}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.mu.Lock()
		defer w.mu.Unlock()
		// The receiver checks against its own clock: the fake clock is set
		// in 2030, so allow any skew here and test the window separately.
		if err := obligations.VerifyWebhook(secret, r.Header.Get(obligations.HeaderTimestamp), r.Header.Get(obligations.HeaderSignature), body,
			time.Unix(atoi(r.Header.Get(obligations.HeaderTimestamp)), 0), time.Minute); err != nil {
			w.bad = append(w.bad, err)
			rw.WriteHeader(http.StatusUnauthorized)
			return
		}
		var p obligations.WebhookPayload
		if err := json.Unmarshal(body, &p); err != nil {
			w.bad = append(w.bad, err)
		}
		w.keys = append(w.keys, r.Header.Get(obligations.HeaderIdempotencyKey))
		w.bodies = append(w.bodies, p)
		status := http.StatusOK
		if len(w.statuses) > 0 {
			status, w.statuses = w.statuses[0], w.statuses[1:]
		}
		rw.WriteHeader(status)
	}))
	t.Cleanup(w.Close)
	return w
}

func atoi(s string) int64 {
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

func (w *webhookReceiver) seen() ([]string, []obligations.WebhookPayload, []error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.keys...), append([]obligations.WebhookPayload(nil), w.bodies...), append([]error(nil), w.bad...)
}

func TestWebhookRetriesWithBackoffAndStableKey(t *testing.T) {
	recv := newReceiver(t, 500, 503)
	h := newHarness(t, obligations.Performers{}, obligations.WithBackoff(time.Second, time.Minute))
	terms := onUse(policies.Action{Kind: policies.ActionNotifyDataSubject, Media: "webhook", Address: recv.URL + "/hook"})
	h.store("r1", terms)
	h.use("r1", terms)

	h.process(t0) // try 1: 500
	j := h.jobs("r1")[0]
	if j.State != obligations.StatePending || j.Attempts != 1 || !j.NextTry.Equal(t0.Add(time.Second)) || !strings.Contains(j.LastError, "500") {
		t.Fatalf("after a 500: %+v; want pending, 1 attempt, retry at t0+1s", j)
	}
	h.process(t0.Add(999 * time.Millisecond)) // not yet
	if keys, _, _ := recv.seen(); len(keys) != 1 {
		t.Fatalf("retried before the backoff: %d deliveries", len(keys))
	}
	h.process(t0.Add(time.Second)) // try 2: 503, next after 2s
	j = h.jobs("r1")[0]
	if j.Attempts != 2 || !j.NextTry.Equal(t0.Add(3*time.Second)) {
		t.Fatalf("after the second failure: %+v; want retry at t0+3s (doubled)", j)
	}
	h.process(t0.Add(3 * time.Second)) // try 3: 200
	j = h.jobs("r1")[0]
	if j.State != obligations.StateDone || j.Attempts != 3 {
		t.Fatalf("after the delivery: %+v; want done in 3 attempts", j)
	}
	keys, bodies, bad := recv.seen()
	if len(bad) != 0 {
		t.Fatalf("bad deliveries: %v", bad)
	}
	if len(keys) != 3 || keys[0] != j.ID || keys[1] != j.ID || keys[2] != j.ID {
		t.Fatalf("idempotency keys %v; want %s three times", keys, j.ID)
	}
	if p := bodies[2]; p.PII != "r1" || p.Event != obligations.EventAccessed || p.Principal != "bob@example.org" || p.Purpose != purpose || p.Text == "" {
		t.Fatalf("payload %+v", p)
	}
	if got := h.eventTypes("r1"); got != "stored,accessed,notified" {
		t.Fatalf("events = %s", got)
	}
}

func TestFinalFailureIsVisible(t *testing.T) {
	recv := newReceiver(t, 500, 500, 500, 500)
	var hooked []string
	h := newHarness(t, obligations.Performers{}, obligations.WithMaxTries(3), obligations.WithBackoff(time.Second, time.Minute),
		obligations.WithOnFailed(func(_ context.Context, j obligations.Job, _ error) { hooked = append(hooked, j.ID) }))
	terms := onUse(policies.Action{Kind: policies.ActionNotifyDataSubject, Media: "webhook", Address: recv.URL})
	h.store("r1", terms)
	h.use("r1", terms)
	for _, d := range []time.Duration{0, time.Second, 3 * time.Second, time.Hour} {
		h.process(t0.Add(d))
	}
	if keys, _, _ := recv.seen(); len(keys) != 3 {
		t.Fatalf("%d tries; want 3 (max tries)", len(keys))
	}
	failed, err := h.s.ListFailed(h.ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 1 || failed[0].State != obligations.StateFailed || failed[0].Attempts != 3 || !strings.Contains(failed[0].LastError, "500") {
		t.Fatalf("failed listing = %+v", failed)
	}
	if len(hooked) != 1 || hooked[0] != failed[0].ID {
		t.Fatalf("OnFailed hook saw %v", hooked)
	}
	evs, _ := h.s.Events(h.ctx, "r1")
	last := evs[len(evs)-1]
	if last.Type != "obligation_failed" || !strings.Contains(last.Reason, "after 3 tries") {
		t.Fatalf("last event %+v; want obligation_failed after 3 tries", last)
	}
}

func TestPermanentFailuresAreNotRetried(t *testing.T) {
	cases := map[string]struct {
		act  func(url string) policies.Action
		code int
	}{
		"webhook_410": {func(u string) policies.Action {
			return policies.Action{Kind: policies.ActionNotifyDataSubject, Media: "webhook", Address: u}
		}, 410},
		"webhook_bad_url": {func(string) policies.Action {
			return policies.Action{Kind: policies.ActionNotifyDataSubject, Media: "webhook", Address: "ftp://x"}
		}, 0},
		"unknown_media": {func(string) policies.Action {
			return policies.Action{Kind: policies.ActionNotifyDataSubject, Media: "pigeon", Address: "x"}
		}, 0},
		"email_not_set_up": {func(string) policies.Action {
			return policies.Action{Kind: policies.ActionNotifyDataSubject, Media: "email", Address: "a@b.c"}
		}, 0},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			recv := newReceiver(t, c.code)
			h := newHarness(t, obligations.Performers{Mailer: obligations.NewSMTPMailer(obligations.SMTPConfig{}, nil)})
			terms := onUse(c.act(recv.URL))
			h.store("r1", terms)
			h.use("r1", terms)
			h.process(t0)
			j := h.jobs("r1")[0]
			if j.State != obligations.StateFailed || j.Attempts != 1 {
				t.Fatalf("job %+v; want failed after one try", j)
			}
		})
	}
}

func TestEmailNotification(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []smtptest.Option
		cfg  func(*smtptest.Server) obligations.SMTPConfig
	}{
		{"plain", nil, func(s *smtptest.Server) obligations.SMTPConfig {
			return obligations.SMTPConfig{Host: s.Host(), Port: s.Port(), From: "Sticky <sticky@example.org>", StartTLS: obligations.StartTLSNever}
		}},
		{"starttls_auth", []smtptest.Option{smtptest.WithSTARTTLS(), smtptest.WithAuth("sticky", "pw")}, func(s *smtptest.Server) obligations.SMTPConfig {
			return obligations.SMTPConfig{Host: s.Host(), Port: s.Port(), From: "sticky@example.org", Username: "sticky", Password: "pw",
				StartTLS: obligations.StartTLSAlways, TLSConfig: s.ClientTLS()}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink, err := smtptest.Start(tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer sink.Close()
			h := newHarness(t, obligations.Performers{Mailer: obligations.NewSMTPMailer(tc.cfg(sink), nil)})
			terms := onUse(policies.Action{Kind: policies.ActionNotifyDataSubject, Media: "email", Address: "alice@mail.example.org"})
			h.store("r1", terms)
			h.use("r1", terms)
			h.process(t0)
			msgs := sink.Messages()
			if len(msgs) != 1 {
				t.Fatalf("%d messages; want 1", len(msgs))
			}
			m := msgs[0]
			j := h.jobs("r1")[0]
			if m.From != "sticky@example.org" || len(m.To) != 1 || m.To[0] != "alice@mail.example.org" {
				t.Fatalf("envelope %s -> %v", m.From, m.To)
			}
			for _, want := range []string{"Subject: Sticky notification about record r1", "Message-ID: <" + j.ID + "@sticky>",
				"bob@example.org used record r1 for purpose " + purpose} {
				if !strings.Contains(m.Data, want) {
					t.Errorf("message lacks %q:\n%s", want, m.Data)
				}
			}
			if tc.name == "starttls_auth" && (!m.TLS || m.AuthUser != "sticky") {
				t.Errorf("message sent without TLS (%v) or auth (%q)", m.TLS, m.AuthUser)
			}
			if j.State != obligations.StateDone {
				t.Fatalf("job %+v; want done", j)
			}
		})
	}
}

func TestEmailRefusals(t *testing.T) {
	for name, c := range map[string]struct {
		code      int
		wantState obligations.JobState
	}{"temporary_450": {450, obligations.StatePending}, "permanent_550": {550, obligations.StateFailed}} {
		t.Run(name, func(t *testing.T) {
			sink, err := smtptest.Start()
			if err != nil {
				t.Fatal(err)
			}
			defer sink.Close()
			sink.RefuseRecipients(c.code)
			h := newHarness(t, obligations.Performers{Mailer: obligations.NewSMTPMailer(obligations.SMTPConfig{Host: sink.Host(), Port: sink.Port(), From: "s@example.org"}, nil)})
			terms := onUse(policies.Action{Kind: policies.ActionNotifyDataSubject, Media: "email", Address: "alice@mail.example.org"})
			h.store("r1", terms)
			h.use("r1", terms)
			h.process(t0)
			if j := h.jobs("r1")[0]; j.State != c.wantState {
				t.Fatalf("after a %d: %+v; want %s", c.code, j, c.wantState)
			}
		})
	}
}

func TestLogAndAnonymise(t *testing.T) {
	anon := &recordingAnonymiser{}
	h := newHarness(t, obligations.Performers{Anonymiser: anon})
	terms := &policies.DataHandling{Obligations: []policies.Obligation{
		{Triggers: []policies.Trigger{{Kind: policies.TriggerPersonalDataAccessedForPurpose}}, Action: policies.Action{Kind: policies.ActionSecureLog}},
		{Triggers: []policies.Trigger{{Kind: policies.TriggerAtTime, Start: &policies.Start{Now: true}, MaxDelay: &oneMinute}}, Action: policies.Action{Kind: policies.ActionAnonymizePersonalData}},
	}}
	h.store("r1", terms)
	h.use("r1", terms)
	h.process(t0)
	if got := h.eventTypes("r1"); got != "stored,accessed,logged" {
		t.Fatalf("events = %s; want stored,accessed,logged", got)
	}
	if len(anon.pii) != 0 {
		t.Fatal("anonymised before the deadline")
	}
	h.process(t0.Add(time.Minute))
	if len(anon.pii) != 1 || anon.pii[0] != "r1" {
		t.Fatalf("anonymised %v; want r1 once", anon.pii)
	}
}

func TestPeriodicReplansAfterEachOccurrence(t *testing.T) {
	h := newHarness(t, obligations.Performers{})
	day := policies.Duration{Days: 1}
	terms := &policies.DataHandling{Obligations: []policies.Obligation{{
		Triggers: []policies.Trigger{{Kind: policies.TriggerPeriodic, Start: &policies.Start{Now: true}, End: &policies.Start{At: t0.AddDate(0, 0, 2)}, Period: &day, MaxDelay: &oneMinute}},
		Action:   policies.Action{Kind: policies.ActionNotifyDataSubject, Media: "inbox"},
	}}}
	h.store("r1", terms)
	for d := range 5 {
		h.process(t0.AddDate(0, 0, d))
	}
	inbox, _ := h.s.Notifications(h.ctx, "alice@example.org")
	if len(inbox) != 3 {
		t.Fatalf("%d reminders; want 3 (day 0, 1, 2; End is day 2)", len(inbox))
	}
	if _, ok, _ := h.s.NextDue(h.ctx, obligations.LaneLocal); ok {
		t.Fatal("a periodic job is still due after End")
	}
}

func TestDeletionCancelsPeriodic(t *testing.T) {
	h := newHarness(t, obligations.Performers{})
	day := policies.Duration{Days: 1}
	terms := retention(policies.Duration{Days: 1})
	terms.Obligations = append(terms.Obligations, policies.Obligation{
		Triggers: []policies.Trigger{{Kind: policies.TriggerPeriodic, Start: &policies.Start{At: t0.Add(time.Hour)}, Period: &day}},
		Action:   policies.Action{Kind: policies.ActionNotifyDataSubject, Media: "inbox"},
	})
	h.store("r1", terms)
	h.process(t0.Add(time.Hour))    // first reminder
	h.process(t0.AddDate(0, 0, 1))  // deletion
	h.process(t0.AddDate(0, 0, 10)) // nothing
	inbox, _ := h.s.Notifications(h.ctx, "alice@example.org")
	if len(inbox) != 1 || h.exists("r1") {
		t.Fatalf("%d reminders, record exists %v; want 1 and deleted", len(inbox), h.exists("r1"))
	}
	for _, l := range obligations.AllLanes() {
		if at, ok, _ := h.s.NextDue(h.ctx, l); ok {
			t.Fatalf("a job of the deleted record is still due at %s", at)
		}
	}
}

// TestEmailToTheOwnersRegisteredAddress sends an email notification without
// an Address to the owner's --email, looked up in the store.
func TestEmailToTheOwnersRegisteredAddress(t *testing.T) {
	sink, err := smtptest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	h := newHarness(t, obligations.Performers{})
	h.r = obligations.NewRunner(h.s, obligations.Performers{
		Deleter:   storeDeleter{s: h.s, clock: h.clock},
		Mailer:    obligations.NewSMTPMailer(obligations.SMTPConfig{Host: sink.Host(), Port: sink.Port(), From: "sticky@example.org"}, nil),
		Addresses: h.s,
	}, h.clock)
	if err := h.s.AddPrincipal(h.ctx, pep.Principal{Name: "alice@example.org", Role: pep.RoleSubject, Email: "alice.private@mail.example.org", Created: t0},
		pep.TokenHash{1}); err != nil {
		t.Fatal(err)
	}
	terms := onUse(policies.Action{Kind: policies.ActionNotifyDataSubject, Media: "email"})
	h.store("r1", terms)
	h.use("r1", terms)
	h.process(t0)
	msgs := sink.Messages()
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "alice.private@mail.example.org" {
		t.Fatalf("messages %+v; want one to alice's registered address", msgs)
	}
}

// TestWebhookDenyPrivate refuses, for good and without sending anything, a
// webhook to a loopback address when --webhook-deny-private is set.
func TestWebhookDenyPrivate(t *testing.T) {
	recv := newReceiver(t)
	cfg := &obligations.Config{WebhookDenyPrivate: true, SMTP: obligations.SMTPConfig{Port: 25, StartTLS: obligations.StartTLSAuto}}
	perf := cfg.Performers(secret, nil)
	h := newHarness(t, perf)
	terms := onUse(policies.Action{Kind: policies.ActionNotifyDataSubject, Media: "webhook", Address: recv.URL})
	h.store("r1", terms)
	h.use("r1", terms)
	h.process(t0)
	j := h.jobs("r1")[0]
	if j.State != obligations.StateFailed || j.Attempts != 1 || !strings.Contains(j.LastError, "not a public IP address") {
		t.Fatalf("job %+v; want failed at once, naming the refused address", j)
	}
	if keys, _, _ := recv.seen(); len(keys) != 0 {
		t.Fatalf("the receiver on 127.0.0.1 got %d deliveries", len(keys))
	}
}
