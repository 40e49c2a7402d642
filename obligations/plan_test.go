package obligations

import (
	"testing"
	"time"

	"github.com/stickypolicy/sticky/policies"
)

var (
	t0         = time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)
	marketing  = "https://w3id.org/dpv#Marketing"
	directMkt  = "https://w3id.org/dpv#DirectMarketing"
	service    = "https://w3id.org/dpv#ServiceProvision"
	thirtyDays = policies.Duration{Days: 30}
	oneMinute  = policies.Duration{Clock: time.Minute}
)

// treeTaxonomy is a two-level purpose tree for the planner tests.
type treeTaxonomy map[string]string // child -> parent

func (t treeTaxonomy) Covers(allowed, requested string) bool {
	for p := requested; p != ""; p = t[p] {
		if p == allowed {
			return true
		}
	}
	return false
}

var testTaxonomy = treeTaxonomy{directMkt: marketing}

// policyJobs drops the notices Sticky sends recipients on its own.
func policyJobs(jobs []Job) []Job {
	var out []Job
	for _, j := range jobs {
		if j.ObligationID != DelegateNoticeID {
			out = append(out, j)
		}
	}
	return out
}

func terms(obs ...policies.Obligation) *policies.DataHandling {
	return &policies.DataHandling{Obligations: obs}
}

func ob(action policies.Action, triggers ...policies.Trigger) policies.Obligation {
	return policies.Obligation{Triggers: triggers, Action: action}
}

var (
	actDelete    = policies.Action{Kind: policies.ActionDeletePersonalData}
	actAnonymise = policies.Action{Kind: policies.ActionAnonymizePersonalData}
	actInbox     = policies.Action{Kind: policies.ActionNotifyDataSubject, Media: "inbox", Address: "alice@example.org"}
	actEmail     = policies.Action{Kind: policies.ActionNotifyDataSubject, Media: "email", Address: "alice@mail.example.org"}
	actWebhook   = policies.Action{Kind: policies.ActionNotifyDataSubject, Media: "webhook", Address: "https://hooks.example.org/alice"}
	actLog       = policies.Action{Kind: policies.ActionLog}
	actSecureLog = policies.Action{Kind: policies.ActionSecureLog}
	allActions   = map[string]policies.Action{"delete": actDelete, "anonymise": actAnonymise, "inbox": actInbox,
		"email": actEmail, "webhook": actWebhook, "log": actLog, "securelog": actSecureLog}
)

func event(typ EventType, principal, purpose string) Event {
	return Event{Type: typ, PII: "pii-1", Owner: "alice@example.org", Principal: principal, Purpose: purpose,
		Time: t0.Add(time.Hour), StoredAt: t0, Seq: 7}
}

// TestPlanEveryTriggerAndAction plans every trigger with every action from
// the event that fires it and checks the job's timing and target.
func TestPlanEveryTriggerAndAction(t *testing.T) {
	at := t0.Add(48 * time.Hour)
	triggers := []struct {
		name    string
		trigger policies.Trigger
		ev      Event
		due     time.Time // for notify/log; delete/anonymise of TriggerAtTime are due at the deadline
		delay   time.Duration
	}{
		{"at_time_start_now", policies.Trigger{Kind: policies.TriggerAtTime, Start: &policies.Start{Now: true}, MaxDelay: &thirtyDays},
			event(EventStored, "alice@example.org", ""), t0, 30 * 24 * time.Hour},
		{"at_time_date", policies.Trigger{Kind: policies.TriggerAtTime, Start: &policies.Start{At: at}, MaxDelay: &oneMinute},
			event(EventStored, "alice@example.org", ""), at, time.Minute},
		{"periodic", policies.Trigger{Kind: policies.TriggerPeriodic, Start: &policies.Start{Now: true}, Period: &policies.Duration{Days: 7}, MaxDelay: &oneMinute},
			event(EventStored, "alice@example.org", ""), t0.Add(7 * 24 * time.Hour), time.Minute},
		{"accessed_for_purpose", policies.Trigger{Kind: policies.TriggerPersonalDataAccessedForPurpose, Purposes: []string{marketing}, MaxDelay: &oneMinute},
			event(EventAccessed, "bob@example.org", directMkt), t0.Add(time.Hour), time.Minute},
		{"sent", policies.Trigger{Kind: policies.TriggerPersonalDataSent, ID: "carol@example.org", MaxDelay: &oneMinute},
			func() Event {
				e := event(EventDisclosed, "bob@example.org", service)
				e.Recipient = "carol@example.org"
				return e
			}(), t0.Add(time.Hour), time.Minute},
		{"deleted", policies.Trigger{Kind: policies.TriggerPersonalDataDeleted, MaxDelay: &oneMinute},
			event(EventDeleted, "alice@example.org", ""), t0.Add(time.Hour), time.Minute},
		{"subject_access", policies.Trigger{Kind: policies.TriggerDataSubjectAccess, URL: "https://example.org/me"},
			event(EventAccessed, "alice@example.org", ""), t0.Add(time.Hour), 0},
		{"on_violation", policies.Trigger{Kind: policies.TriggerOnViolation, MaxDelay: &oneMinute},
			event(EventDenied, "mallory@example.org", marketing), t0.Add(time.Hour), time.Minute},
	}
	p := NewPlanner(testTaxonomy)
	for _, tr := range triggers {
		for aname, act := range allActions {
			t.Run(tr.name+"/"+aname, func(t *testing.T) {
				ev := tr.ev
				if tr.trigger.Kind == policies.TriggerPeriodic {
					ev.Time = t0.Add(time.Hour) // stored an hour after Start: next occurrence is a week on
				}
				jobs := policyJobs(p.Plan(terms(ob(act, tr.trigger)), ev))
				if tr.trigger.Kind == policies.TriggerPersonalDataDeleted && (act.Kind == policies.ActionDeletePersonalData || act.Kind == policies.ActionAnonymizePersonalData) {
					if len(jobs) != 0 {
						t.Fatalf("deleting or anonymising after deletion planned %d jobs; want none", len(jobs))
					}
					return
				}
				if len(jobs) != 1 {
					t.Fatalf("planned %d jobs; want 1", len(jobs))
				}
				j := jobs[0]
				due, deadline := tr.due, tr.due.Add(tr.delay)
				if tr.trigger.Kind == policies.TriggerAtTime && (act.Kind == policies.ActionDeletePersonalData || act.Kind == policies.ActionAnonymizePersonalData) {
					due = deadline
				}
				if !j.Due.Equal(due) || !j.Deadline.Equal(deadline) {
					t.Errorf("due %s deadline %s; want %s, %s", j.Due, j.Deadline, due, deadline)
				}
				if j.Action != act.Kind || j.Trigger != tr.trigger.Kind || j.PII != "pii-1" || j.Owner != "alice@example.org" {
					t.Errorf("job %+v does not carry the action, trigger and record", j)
				}
				if act.Kind == policies.ActionNotifyDataSubject && (j.Media != act.Media || j.Address != act.Address) {
					t.Errorf("notification goes to %s %s; want %s %s", j.Media, j.Address, act.Media, act.Address)
				}
				wantTimeDriven := tr.trigger.Kind == policies.TriggerAtTime || tr.trigger.Kind == policies.TriggerPeriodic
				if j.TimeDriven != wantTimeDriven {
					t.Errorf("TimeDriven = %v; want %v", j.TimeDriven, wantTimeDriven)
				}
				if j.ID == "" || j.Event.Type != ev.Type || j.Event.Principal != ev.Principal {
					t.Errorf("job lacks its id or its event: %+v", j)
				}
				if again := p.Plan(terms(ob(act, tr.trigger)), ev); again[0].ID != j.ID {
					t.Errorf("planning the same event twice gave ids %s and %s", j.ID, again[0].ID)
				}
			})
		}
	}
}

// TestPlanDoesNotFire lists events that must not trigger the obligation.
func TestPlanDoesNotFire(t *testing.T) {
	p := NewPlanner(testTaxonomy)
	accessedFor := func(purposes ...string) policies.Trigger {
		return policies.Trigger{Kind: policies.TriggerPersonalDataAccessedForPurpose, Purposes: purposes, MaxDelay: &oneMinute}
	}
	disclosed := event(EventDisclosed, "bob@example.org", service)
	disclosed.Recipient = "dave@example.org"
	cases := []struct {
		name    string
		trigger policies.Trigger
		ev      Event
	}{
		{"purpose_not_covered", accessedFor(marketing), event(EventAccessed, "bob@example.org", service)},
		{"parent_purpose_not_covered_by_child", accessedFor(directMkt), event(EventAccessed, "bob@example.org", marketing)},
		{"owner_reading_own_data", accessedFor(), event(EventAccessed, "alice@example.org", "")},
		{"denied_is_not_a_use", accessedFor(), event(EventDenied, "bob@example.org", service)},
		{"sent_to_someone_else", policies.Trigger{Kind: policies.TriggerPersonalDataSent, ID: "carol@example.org"}, disclosed},
		{"subject_access_by_other", policies.Trigger{Kind: policies.TriggerDataSubjectAccess}, event(EventAccessed, "bob@example.org", service)},
		{"violation_on_permit", policies.Trigger{Kind: policies.TriggerOnViolation}, event(EventAccessed, "bob@example.org", service)},
		{"deleted_on_access", policies.Trigger{Kind: policies.TriggerPersonalDataDeleted}, event(EventAccessed, "bob@example.org", service)},
		{"time_trigger_on_access", policies.Trigger{Kind: policies.TriggerAtTime, Start: &policies.Start{Now: true}}, event(EventAccessed, "bob@example.org", service)},
		{"periodic_ended", policies.Trigger{Kind: policies.TriggerPeriodic, Start: &policies.Start{Now: true}, End: &policies.Start{At: t0.Add(time.Minute)},
			Period: &policies.Duration{Days: 1}}, func() Event { e := event(EventStored, "alice@example.org", ""); e.Time = t0.Add(time.Hour); return e }()},
		{"periodic_zero_period", policies.Trigger{Kind: policies.TriggerPeriodic, Start: &policies.Start{Now: true}, Period: &policies.Duration{}},
			event(EventStored, "alice@example.org", "")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if jobs := policyJobs(p.Plan(terms(ob(actInbox, c.trigger)), c.ev)); len(jobs) != 0 {
				t.Fatalf("planned %d jobs; want none: %+v", len(jobs), jobs)
			}
		})
	}
}

func TestPlanAnyPurposeAndEmptyList(t *testing.T) {
	p := NewPlanner(nil)
	for name, purposes := range map[string][]string{"empty_list": nil, "any": {policies.PurposeAny}} {
		t.Run(name, func(t *testing.T) {
			tr := policies.Trigger{Kind: policies.TriggerPersonalDataAccessedForPurpose, Purposes: purposes}
			if jobs := p.Plan(terms(ob(actInbox, tr)), event(EventAccessed, "bob@example.org", service)); len(jobs) != 1 {
				t.Fatalf("planned %d jobs; want 1", len(jobs))
			}
		})
	}
}

func TestPlanOneJobPerObligation(t *testing.T) {
	p := NewPlanner(testTaxonomy)
	tr1 := policies.Trigger{Kind: policies.TriggerPersonalDataAccessedForPurpose, Purposes: []string{marketing}}
	tr2 := policies.Trigger{Kind: policies.TriggerPersonalDataAccessedForPurpose}
	jobs := p.Plan(terms(ob(actInbox, tr1, tr2), ob(actWebhook, tr2)), event(EventAccessed, "bob@example.org", directMkt))
	if len(jobs) != 2 || jobs[0].Media != MediaInbox || jobs[1].Media != MediaWebhook {
		t.Fatalf("planned %+v; want one inbox and one webhook job", jobs)
	}
	if jobs[0].ObligationID != "obligation-1" || jobs[1].ObligationID != "obligation-2" || jobs[0].ID == jobs[1].ID {
		t.Fatalf("obligation ids %s %s, job ids %s %s", jobs[0].ObligationID, jobs[1].ObligationID, jobs[0].ID, jobs[1].ID)
	}
}

func TestPlanDefaultsToOwnerInbox(t *testing.T) {
	tr := policies.Trigger{Kind: policies.TriggerPersonalDataAccessedForPurpose}
	jobs := NewPlanner(nil).Plan(terms(ob(policies.Action{Kind: policies.ActionNotifyDataSubject}, tr)), event(EventAccessed, "bob@example.org", service))
	if len(jobs) != 1 || jobs[0].Media != MediaInbox || jobs[0].Address != "alice@example.org" {
		t.Fatalf("planned %+v; want the owner's inbox", jobs)
	}
}

func TestPlanDelegatesAndRecipients(t *testing.T) {
	p := NewPlanner(nil)
	stored := event(EventStored, "alice@example.org", "")
	stored.Delegates = []string{"bob@example.org", "alice@example.org", "", "carol@example.org"}
	jobs := p.Plan(nil, stored)
	if len(jobs) != 2 || jobs[0].Address != "bob@example.org" || jobs[1].Address != "carol@example.org" {
		t.Fatalf("stored with delegates planned %+v; want notices to bob and carol", jobs)
	}
	for _, j := range jobs {
		if j.Media != MediaInbox || j.ObligationID != DelegateNoticeID || j.TimeDriven {
			t.Errorf("delegate notice %+v", j)
		}
	}
	updated := event(EventPolicyUpdated, "alice@example.org", "")
	updated.Delegates = []string{"erin@example.org"} // the caller passes only the newly named
	jobs = p.Plan(nil, updated)
	if len(jobs) != 1 || jobs[0].Address != "erin@example.org" || jobs[0].ObligationID != DelegateNoticeID || jobs[0].Event.Type != EventPolicyUpdated {
		t.Fatalf("policy_updated with a new delegate planned %+v; want a notice to erin", jobs)
	}
	accessed := event(EventAccessed, "bob@example.org", service)
	accessed.Delegates = []string{"erin@example.org"}
	if jobs = p.Plan(nil, accessed); len(jobs) != 0 {
		t.Fatalf("an access planned delegate notices: %+v", jobs)
	}
	disclosed := event(EventDisclosed, "bob@example.org", service)
	disclosed.Recipient = "dave@example.org"
	jobs = p.Plan(nil, disclosed)
	if len(jobs) != 1 || jobs[0].Address != "dave@example.org" || jobs[0].Trigger != policies.TriggerPersonalDataSent {
		t.Fatalf("disclosure planned %+v; want a notice to dave", jobs)
	}
	if got := Text(jobs[0]); got != "bob@example.org shared record pii-1 of alice@example.org with you for purpose "+service+" at 2030-03-01T13:00:00Z." {
		t.Fatalf("recipient notice text = %q", got)
	}
}

func TestPlanPolicyUpdated(t *testing.T) {
	p := NewPlanner(nil)
	ev := event(EventPolicyUpdated, "alice@example.org", "")
	ev.Time = t0.Add(40 * 24 * time.Hour) // after the 30-day deadline
	retention := policies.Trigger{Kind: policies.TriggerAtTime, Start: &policies.Start{Now: true}, MaxDelay: &thirtyDays}
	jobs := p.Plan(terms(ob(actDelete, retention), ob(actInbox, retention)), ev)
	if len(jobs) != 1 || jobs[0].Action != policies.ActionDeletePersonalData || !jobs[0].Due.Equal(t0.Add(30*24*time.Hour)) {
		t.Fatalf("policy update after the deadline planned %+v; want only the overdue deletion", jobs)
	}
}

func TestPeriodicNext(t *testing.T) {
	tr := policies.Trigger{Kind: policies.TriggerPeriodic, Start: &policies.Start{At: t0}, End: &policies.Start{At: t0.Add(3 * time.Hour)},
		Period: &policies.Duration{Clock: time.Hour}, MaxDelay: &oneMinute}
	ev := event(EventStored, "alice@example.org", "")
	ev.Time = t0.Add(90 * time.Minute)
	jobs := NewPlanner(nil).Plan(terms(ob(actWebhook, tr)), ev)
	if len(jobs) != 1 || !jobs[0].Due.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("first occurrence %+v; want t0+2h", jobs)
	}
	n, ok := Next(jobs[0])
	if !ok || !n.Due.Equal(t0.Add(3*time.Hour)) || !n.Deadline.Equal(t0.Add(3*time.Hour+time.Minute)) || n.ID == jobs[0].ID {
		t.Fatalf("next occurrence %+v, %v; want t0+3h with a new id", n, ok)
	}
	if _, ok := Next(n); ok {
		t.Fatal("an occurrence after End was planned")
	}
}

func TestPeriodicCalendar(t *testing.T) {
	start := time.Date(2030, 1, 31, 0, 0, 0, 0, time.UTC)
	s := &Schedule{Start: start, Period: policies.Duration{Months: 1}}
	for _, c := range []struct {
		after time.Time
		want  time.Time
	}{
		{start, start},
		{start.Add(time.Second), time.Date(2030, 2, 28, 0, 0, 0, 0, time.UTC)}, // pinned to the month's end
		{time.Date(2030, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2030, 3, 31, 0, 0, 0, 0, time.UTC)},
		{time.Date(2035, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2035, 6, 30, 0, 0, 0, 0, time.UTC)},
	} {
		_, at, ok := s.nextOccurrence(c.after, 0)
		if !ok || !at.Equal(c.want) {
			t.Errorf("next occurrence after %s = %s; want %s", c.after, at, c.want)
		}
	}
}

func TestRetentionDeadline(t *testing.T) {
	at := t0.Add(10 * 24 * time.Hour)
	cases := []struct {
		name  string
		terms *policies.DataHandling
		want  time.Time
		ok    bool
	}{
		{"none", terms(ob(actInbox, policies.Trigger{Kind: policies.TriggerAtTime, Start: &policies.Start{Now: true}, MaxDelay: &oneMinute})), time.Time{}, false},
		{"start_now", terms(ob(actDelete, policies.Trigger{Kind: policies.TriggerAtTime, Start: &policies.Start{Now: true}, MaxDelay: &thirtyDays})), t0.Add(30 * 24 * time.Hour), true},
		{"earliest", terms(
			ob(actDelete, policies.Trigger{Kind: policies.TriggerAtTime, Start: &policies.Start{Now: true}, MaxDelay: &thirtyDays}),
			ob(actDelete, policies.Trigger{Kind: policies.TriggerAtTime, Start: &policies.Start{At: at}, MaxDelay: &oneMinute})), at.Add(time.Minute), true},
		{"nil", nil, time.Time{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := RetentionDeadline(c.terms, t0)
			if ok != c.ok || !got.Equal(c.want) {
				t.Fatalf("RetentionDeadline = %s, %v; want %s, %v", got, ok, c.want, c.ok)
			}
		})
	}
}

func TestTextNamesWhoWhenWhy(t *testing.T) {
	tr := policies.Trigger{Kind: policies.TriggerPersonalDataAccessedForPurpose}
	j := NewPlanner(nil).Plan(terms(ob(actInbox, tr)), event(EventAccessed, "bob@example.org", marketing))[0]
	want := "bob@example.org used record pii-1 for purpose " + marketing + " at 2030-03-01T13:00:00Z."
	if got := Text(j); got != want {
		t.Fatalf("Text = %q; want %q", got, want)
	}
}

func TestPlanUsesTheDefaultTaxonomy(t *testing.T) {
	tr := policies.Trigger{Kind: policies.TriggerPersonalDataAccessedForPurpose, Purposes: []string{marketing}}
	if jobs := Plan(terms(ob(actInbox, tr)), event(EventAccessed, "bob@example.org", directMkt)); len(jobs) != 1 {
		t.Fatalf("a use for dpv:DirectMarketing did not fire a trigger for dpv:Marketing: %d jobs", len(jobs))
	}
	if jobs := Plan(terms(ob(actInbox, tr)), event(EventAccessed, "bob@example.org", service)); len(jobs) != 0 {
		t.Fatalf("a use for dpv:ServiceProvision fired a trigger for dpv:Marketing")
	}
}
