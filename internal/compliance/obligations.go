package compliance

import (
	"fmt"
	"strings"
	"time"

	"github.com/stickypolicy/sticky/internal/audit"
	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/policies"
)

// expected is one obligation an entry triggered: the job the obligation
// handler should have performed, and the entry that triggered it.
type expected struct {
	trigger *audit.Entry
	job     obligations.Job
}

// fulfilmentType is the entry type that shows an action was performed.
func fulfilmentType(a policies.ActionKind) string {
	switch a {
	case policies.ActionNotifyDataSubject:
		return audit.TypeNotified
	case policies.ActionDeletePersonalData:
		return audit.TypeDeleted
	case policies.ActionAnonymizePersonalData:
		return audit.TypeAnonymised
	case policies.ActionLog, policies.ActionSecureLog:
		return audit.TypeLogged
	}
	return ""
}

// obligations checks that every obligation an entry triggered under the
// policy in force was performed by its deadline (plus the grace), using the
// same planner as the obligation handler.
func (r *run) obligations() {
	var want []expected
	for i := range r.entries {
		e := &r.entries[i]
		pol := r.policy(e)
		if pol == nil {
			continue
		}
		ev := obligations.Event{
			Type: obligations.EventType(e.Type), PII: e.PII, Owner: r.l.Header.Subject, Principal: e.Principal,
			Purpose: e.Purpose, Recipient: e.Recipient, Time: e.Time, StoredAt: r.storedAt, Seq: e.Seq,
		}
		if e.Type == audit.TypeDisclosed {
			if to, ok := r.identity(e.Recipient); ok {
				ev.Recipient = to
			} else if sentNamesRecipient(pol.Terms()) {
				r.note("obligations on disclosures to a named recipient were not checked: the log carries pseudonyms without identities")
			}
		}
		if e.Type == audit.TypeAccessed && e.Decision != decisionPermit {
			continue
		}
		for _, j := range r.c.planner.Plan(pol.Terms(), ev) {
			switch {
			case j.ObligationID == obligations.DelegateNoticeID:
				continue // Sticky's own notice to delegates, not a policy obligation
			case j.Schedule != nil:
				want = append(want, r.occurrences(e, j)...)
				continue
			case j.Trigger == policies.TriggerAtTime && j.Action == policies.ActionDeletePersonalData:
				continue // the retention rule
			case j.TimeDriven && r.superseded(e, j.Due):
				continue // the policy was replaced or the record deleted before it fell due
			case fulfilmentType(j.Action) == "":
				continue
			}
			want = append(want, expected{trigger: e, job: j})
		}
	}
	// Match in-time fulfilments first, so that a notification sent for a
	// later trigger is not taken for a late one of an earlier trigger.
	late := make([]bool, len(want))
	for i, w := range want {
		late[i] = !r.fulfilled(w, true)
	}
	for i, w := range want {
		if late[i] {
			r.fulfilled(w, false)
		}
	}
}

// maxOccurrences bounds how many occurrences of one periodic obligation
// are checked.
const maxOccurrences = 10_000

// occurrences lists the occurrences of a periodic job planned at e that
// fell due by the check time and were not cancelled by a later policy
// update or deletion.
func (r *run) occurrences(e *audit.Entry, j obligations.Job) []expected {
	var out []expected
	for n := 0; !j.Due.After(r.in.At); n++ {
		if n == maxOccurrences {
			r.note(fmt.Sprintf("only the first %d occurrences of a periodic obligation were checked", maxOccurrences))
			break
		}
		if r.superseded(e, j.Due) {
			break
		}
		if fulfilmentType(j.Action) != "" {
			out = append(out, expected{trigger: e, job: j})
		}
		next, ok := obligations.Next(j)
		if !ok {
			break
		}
		j = next
	}
	return out
}

// sentNamesRecipient reports whether a TriggerPersonalDataSent of terms names
// a recipient.
func sentNamesRecipient(terms *policies.DataHandling) bool {
	if terms == nil {
		return false
	}
	for _, ob := range terms.Obligations {
		for _, tr := range ob.Triggers {
			if tr.Kind == policies.TriggerPersonalDataSent && tr.ID != "" {
				return true
			}
		}
	}
	return false
}

// superseded reports whether a time-driven job planned at e was cancelled
// by a later policy update or deletion before it fell due.
func (r *run) superseded(e *audit.Entry, due time.Time) bool {
	for _, f := range r.entries {
		if f.Seq <= e.Seq {
			continue
		}
		if (f.Type == audit.TypePolicyUpdated || f.Type == audit.TypeDeleted) && f.Time.Before(due) {
			return true
		}
	}
	return false
}

// fulfilled finds the entry that performed w's job. With inTime it looks
// only for an entry by the deadline (plus the grace) or reports nothing
// when the job is not due yet, and returns whether the job is settled;
// without, it takes any later entry and reports a missing or late one.
func (r *run) fulfilled(w expected, inTime bool) bool {
	typ := fulfilmentType(w.job.Action)
	deadline := w.job.Deadline
	due := deadline.Add(r.c.grace)
	if inTime && !r.in.At.After(due) {
		// Not due at the check time: fine whether or not it happened yet,
		// but a matching entry is still claimed.
		r.claim(w, typ, due)
		return true
	}
	var found, failed *audit.Entry
	for i := range r.entries {
		f := &r.entries[i]
		if f.Seq <= w.trigger.Seq || f.Time.Before(w.job.Due.Add(-r.c.grace)) {
			continue
		}
		if inTime && f.Time.After(due) {
			break
		}
		if f.Type == audit.TypeObligationFail && failed == nil && r.names(f, w) {
			failed = f
		}
		if f.Type != typ || r.used[f.Seq] {
			continue
		}
		if typ == audit.TypeDeleted || typ == audit.TypeAnonymised {
			found = f // any deletion (anonymisation) of the record performs it
			break
		}
		if r.names(f, w) {
			found = f
			r.used[f.Seq] = true
			break
		}
	}
	if found != nil && !found.Time.After(due) {
		return true
	}
	if inTime {
		return false
	}
	rule, what := r.ruleFor(w.job, found != nil)
	if found != nil {
		r.violate(rule, found.Seq, "%s (obligation %s, %s, triggered by seq %d) was performed at %s, %s after its deadline %s",
			what, w.job.ObligationID, w.job.Trigger, w.trigger.Seq, stamp(found.Time), found.Time.Sub(deadline).Round(time.Millisecond), stamp(deadline))
		return false
	}
	msg := fmt.Sprintf("%s (obligation %s, %s) triggered by this %s entry was due by %s and was not performed",
		what, w.job.ObligationID, w.job.Trigger, w.trigger.Type, stamp(deadline))
	if failed != nil {
		msg += fmt.Sprintf("; the obligation handler gave up at seq %d: %s", failed.Seq, failed.Reason)
	}
	r.violate(rule, w.trigger.Seq, "%s", msg)
	return false
}

// claim marks the first unused entry that performs w's job by due as used.
func (r *run) claim(w expected, typ string, due time.Time) {
	if typ == audit.TypeDeleted || typ == audit.TypeAnonymised {
		return
	}
	for i := range r.entries {
		f := &r.entries[i]
		if f.Seq <= w.trigger.Seq || f.Time.Before(w.job.Due.Add(-r.c.grace)) || f.Type != typ || r.used[f.Seq] {
			continue
		}
		if f.Time.After(due) {
			return
		}
		if r.names(f, w) {
			r.used[f.Seq] = true
			return
		}
	}
}

// ruleFor names the rule a missing (or late) job breaks.
func (r *run) ruleFor(j obligations.Job, late bool) (Rule, string) {
	what := "the " + strings.TrimPrefix(string(j.Action), "Action")
	if j.Action == policies.ActionNotifyDataSubject {
		what = "the notification"
		if j.Media != "" {
			what += " by " + j.Media
		}
	}
	switch {
	case j.Trigger == policies.TriggerPersonalDataSent:
		return RuleSentObligation, what
	case j.Action == policies.ActionNotifyDataSubject && late:
		return RuleNotificationLate, what
	case j.Action == policies.ActionNotifyDataSubject:
		return RuleNotificationMissing, what
	case late:
		return RuleObligationLate, what
	}
	return RuleObligationMissing, what
}

// names reports whether entry f (written by the obligation handler) is
// about job w: its Reason names the triggering entry (audit.TriggerRef) or,
// failing that, starts with the obligation's id and concerns an entry of the
// trigger's type and purpose.
func (r *run) names(f *audit.Entry, w expected) bool {
	if seq, ok := audit.ParseTriggerRef(f.Reason); ok {
		return seq == w.trigger.Seq && hasObligationID(f.Reason, w.job.ObligationID)
	}
	if !hasObligationID(f.Reason, w.job.ObligationID) {
		return false
	}
	if f.Type == audit.TypeObligationFail {
		return true
	}
	if f.Purpose != w.trigger.Purpose {
		return false
	}
	if i := strings.LastIndex(f.Reason, " about "); i >= 0 {
		return strings.HasPrefix(f.Reason[i+len(" about "):], w.trigger.Type)
	}
	if i := strings.LastIndex(f.Reason, " on "); i >= 0 {
		return strings.HasPrefix(f.Reason[i+len(" on "):], w.trigger.Type)
	}
	return true
}

// hasObligationID reports whether reason begins with the obligation id as
// the obligation handler writes it ("ID by MEDIA about TYPE", "ID: ...",
// "ID (...) failed ..."). An empty reason matches any obligation.
func hasObligationID(reason, id string) bool {
	if reason == "" {
		return true
	}
	rest, ok := strings.CutPrefix(reason, id)
	return ok && (rest == "" || strings.ContainsRune(" :;,(", rune(rest[0])))
}
