package obligations_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/internal/store"
	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/obligations/internal/smtptest"
	"github.com/stickypolicy/sticky/pep"
	"github.com/stickypolicy/sticky/policies"
)

// fire writes an event like pep does and enqueues what it triggers.
func (h *harness) fire(terms *policies.DataHandling, ev obligations.Event) {
	h.t.Helper()
	err := h.s.WriteTx(h.ctx, func(tx *store.Tx) error {
		e, err := tx.AppendEvent(h.ctx, pep.EventInput{PII: ev.PII, Subject: ev.Owner, Time: ev.Time, Type: string(ev.Type),
			Principal: ev.Principal, Purpose: ev.Purpose, Recipient: ev.Recipient})
		if err != nil {
			return err
		}
		ev.Seq = e.Seq
		return tx.EnqueueJobs(h.ctx, obligations.NewPlanner(nil).Plan(terms, ev))
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

// TestEveryTriggerWithEveryAction runs each PPL trigger with each action
// through the planner, the real store and the runner on an injected clock,
// and checks the action's effect: the record deleted or anonymised, a
// notification in the inbox, by email (SMTP sink) or by webhook (signed,
// httptest), a "logged" event.
func TestEveryTriggerWithEveryAction(t *testing.T) {
	week := policies.Duration{Days: 7}
	triggers := []struct {
		name    string
		trigger policies.Trigger
		event   func(h *harness, terms *policies.DataHandling) // fires the trigger (after storage)
	}{
		{"at_time", policies.Trigger{Kind: policies.TriggerAtTime, Start: &policies.Start{Now: true}, MaxDelay: &oneMinute}, nil},
		{"periodic", policies.Trigger{Kind: policies.TriggerPeriodic, Start: &policies.Start{Now: true}, Period: &week, MaxDelay: &oneMinute}, nil},
		{"accessed_for_purpose", policies.Trigger{Kind: policies.TriggerPersonalDataAccessedForPurpose, Purposes: []string{purpose}, MaxDelay: &oneMinute},
			func(h *harness, terms *policies.DataHandling) { h.use("r1", terms) }},
		{"sent", policies.Trigger{Kind: policies.TriggerPersonalDataSent, ID: "carol@example.org", MaxDelay: &oneMinute},
			func(h *harness, terms *policies.DataHandling) {
				h.fire(terms, obligations.Event{Type: obligations.EventDisclosed, PII: "r1", Owner: "alice@example.org",
					Principal: "bob@example.org", Purpose: purpose, Recipient: "carol@example.org", Time: h.clock.Now()})
			}},
		{"deleted", policies.Trigger{Kind: policies.TriggerPersonalDataDeleted, MaxDelay: &oneMinute},
			func(h *harness, terms *policies.DataHandling) {
				h.fire(terms, obligations.Event{Type: obligations.EventDeleted, PII: "r1", Owner: "alice@example.org",
					Principal: "alice@example.org", Time: h.clock.Now()})
			}},
		{"subject_access", policies.Trigger{Kind: policies.TriggerDataSubjectAccess, URL: "https://example.org/me"},
			func(h *harness, terms *policies.DataHandling) {
				h.fire(terms, obligations.Event{Type: obligations.EventSubjectAccess, PII: "r1", Owner: "alice@example.org",
					Principal: "alice@example.org", Time: h.clock.Now()})
			}},
		{"on_violation", policies.Trigger{Kind: policies.TriggerOnViolation, MaxDelay: &oneMinute},
			func(h *harness, terms *policies.DataHandling) {
				h.fire(terms, obligations.Event{Type: obligations.EventDenied, PII: "r1", Owner: "alice@example.org",
					Principal: "mallory@example.org", Purpose: purpose, Time: h.clock.Now()})
			}},
	}
	actions := []string{"delete", "anonymise", "inbox", "email", "webhook", "log", "securelog"}
	for _, tr := range triggers {
		for _, act := range actions {
			t.Run(tr.name+"/"+act, func(t *testing.T) {
				sink, err := smtptest.Start()
				if err != nil {
					t.Fatal(err)
				}
				defer sink.Close()
				recv := newReceiver(t)
				anon := &recordingAnonymiser{}
				h := newHarness(t, obligations.Performers{
					Anonymiser: anon,
					Mailer:     obligations.NewSMTPMailer(obligations.SMTPConfig{Host: sink.Host(), Port: sink.Port(), From: "sticky@example.org"}, nil),
				})
				action := map[string]policies.Action{
					"delete":    {Kind: policies.ActionDeletePersonalData},
					"anonymise": {Kind: policies.ActionAnonymizePersonalData},
					"inbox":     {Kind: policies.ActionNotifyDataSubject, Media: "inbox", Address: "alice@example.org"},
					"email":     {Kind: policies.ActionNotifyDataSubject, Media: "email", Address: "alice@mail.example.org"},
					"webhook":   {Kind: policies.ActionNotifyDataSubject, Media: "webhook", Address: recv.URL + "/alice"},
					"log":       {Kind: policies.ActionLog},
					"securelog": {Kind: policies.ActionSecureLog},
				}[act]
				terms := &policies.DataHandling{Obligations: []policies.Obligation{{Triggers: []policies.Trigger{tr.trigger}, Action: action}}}
				h.store("r1", terms)
				h.clock.Set(t0.Add(time.Hour))
				if tr.event != nil {
					tr.event(h, terms)
				}
				h.process(t0.Add(2 * time.Hour))
				gone := tr.name == "deleted" && (act == "delete" || act == "anonymise")
				switch act {
				case "delete":
					if h.exists("r1") == !gone {
						t.Fatalf("record exists: %v", h.exists("r1"))
					}
				case "anonymise":
					if want := map[bool]int{true: 0, false: 1}[gone]; len(anon.pii) != want {
						t.Fatalf("anonymised %v; want %d", anon.pii, want)
					}
				case "inbox":
					inbox, _ := h.s.Notifications(h.ctx, "alice@example.org")
					if len(inbox) != 1 {
						t.Fatalf("inbox %+v; want 1 notification", inbox)
					}
				case "email":
					if msgs := sink.Messages(); len(msgs) != 1 || msgs[0].To[0] != "alice@mail.example.org" {
						t.Fatalf("emails %+v; want 1", msgs)
					}
				case "webhook":
					if keys, _, bad := recv.seen(); len(keys) != 1 || len(bad) != 0 {
						t.Fatalf("webhook deliveries %v (bad %v); want 1", keys, bad)
					}
				case "log", "securelog":
					if got := h.eventTypes("r1"); !strings.Contains(got, "logged") {
						t.Fatalf("events %s; want a logged event", got)
					}
				}
				if act == "inbox" || act == "email" || act == "webhook" {
					if got := h.eventTypes("r1"); !strings.Contains(got, "notified") {
						t.Fatalf("events %s; want a notified event", got)
					}
				}
			})
		}
	}
}
