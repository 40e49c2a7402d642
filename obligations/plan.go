package obligations

import (
	"fmt"
	"strings"
	"time"

	"github.com/stickypolicy/sticky/policies"
)

// PurposeMatcher says whether an allowed purpose covers a requested one
// (equal, or a descendant in the purpose taxonomy). *policies.Taxonomy is one.
type PurposeMatcher interface {
	Covers(allowed, requested string) bool
}

// Planner turns events into jobs under a purpose taxonomy. It is pure: the
// same terms and event always give the same jobs.
type Planner struct {
	purposes PurposeMatcher
}

// NewPlanner returns a Planner that matches the purposes of
// TriggerPersonalDataAccessedForPurpose with m.
func NewPlanner(m PurposeMatcher) *Planner {
	return &Planner{purposes: m}
}

// Plan returns the jobs the event triggers under the record's terms, using
// the default purpose taxonomy. See (*Planner).Plan.
func Plan(terms *policies.DataHandling, ev Event) []Job {
	return NewPlanner(defaultPurposes()).Plan(terms, ev)
}

// Plan returns the jobs the event triggers under the record's terms:
//
//   - stored, policy_updated: TriggerAtTime and the next occurrence of each
//     TriggerPeriodic (time-driven jobs), and an inbox notice to each
//     delegate in ev.Delegates other than the owner (at policy_updated the
//     caller passes only the delegates the new policy adds);
//   - accessed by someone other than the owner: TriggerPersonalDataAccessedForPurpose
//     whose purposes cover ev.Purpose (any purpose when none are listed);
//   - accessed by the owner, or subject_access: TriggerDataSubjectAccess;
//   - disclosed: TriggerPersonalDataSent whose Id is empty or ev.Recipient,
//     and always an inbox notice to the recipient;
//   - deleted: TriggerPersonalDataDeleted (delete and anonymise actions are
//     dropped: nothing is left to act on);
//   - denied: TriggerOnViolation.
//
// A job is due when its trigger fires and must be done by its deadline, due
// + MaxDelay. Delete and anonymise actions of a TriggerAtTime are the
// retention rule: they are due at the deadline (Start + MaxDelay), not at
// Start. An obligation whose several triggers fire for one event yields one
// job. Jobs are returned in policy order.
func (p *Planner) Plan(terms *policies.DataHandling, ev Event) []Job {
	var jobs []Job
	if terms != nil {
		for i, ob := range terms.Obligations {
			obID := ob.ID
			if obID == "" {
				obID = fmt.Sprintf("obligation-%d", i+1)
			}
			jobs = p.planObligation(jobs, obID, ob, ev)
		}
	}
	switch ev.Type {
	case EventStored, EventPolicyUpdated:
		for _, d := range ev.Delegates {
			if d != "" && d != ev.Owner {
				jobs = append(jobs, notice(ev, d, ""))
			}
		}
	case EventDisclosed:
		if ev.Recipient != "" {
			jobs = append(jobs, notice(ev, ev.Recipient, policies.TriggerPersonalDataSent))
		}
	}
	return jobs
}

func (p *Planner) planObligation(jobs []Job, obID string, ob policies.Obligation, ev Event) []Job {
	act := ob.Action
	switch ev.Type {
	case EventStored, EventPolicyUpdated:
		for ti, tr := range ob.Triggers {
			switch tr.Kind {
			case policies.TriggerAtTime:
				if j, ok := planAtTime(obID, ti, tr, act, ev); ok {
					jobs = append(jobs, j)
				}
			case policies.TriggerPeriodic:
				if j, ok := planPeriodic(obID, ti, tr, act, ev); ok {
					jobs = append(jobs, j)
				}
			}
		}
		return jobs
	case EventDeleted:
		if act.Kind == policies.ActionDeletePersonalData || act.Kind == policies.ActionAnonymizePersonalData {
			return jobs
		}
	}
	for ti, tr := range ob.Triggers {
		if p.fires(tr, ev) {
			j := newJob(ev, obID, ti, 0, tr.Kind, act)
			j.Due = ev.Time
			j.Deadline = withDelay(ev.Time, tr.MaxDelay)
			j.URL = tr.URL
			return append(jobs, j)
		}
	}
	return jobs
}

// fires reports whether an event trigger fires for ev.
func (p *Planner) fires(tr policies.Trigger, ev Event) bool {
	ownerUse := ev.Principal != "" && ev.Principal == ev.Owner
	switch tr.Kind {
	case policies.TriggerPersonalDataAccessedForPurpose:
		if ev.Type != EventAccessed || ownerUse {
			return false
		}
		if len(tr.Purposes) == 0 {
			return true
		}
		for _, allowed := range tr.Purposes {
			if p.covers(allowed, ev.Purpose) {
				return true
			}
		}
		return false
	case policies.TriggerDataSubjectAccess:
		return ev.Type == EventSubjectAccess || (ev.Type == EventAccessed && ownerUse)
	case policies.TriggerPersonalDataSent:
		return ev.Type == EventDisclosed && (tr.ID == "" || tr.ID == ev.Recipient)
	case policies.TriggerPersonalDataDeleted:
		return ev.Type == EventDeleted
	case policies.TriggerOnViolation:
		return ev.Type == EventDenied
	}
	return false
}

func (p *Planner) covers(allowed, requested string) bool {
	if allowed == requested || allowed == policies.PurposeAny {
		return true
	}
	if p.purposes == nil || requested == "" {
		return false
	}
	return p.purposes.Covers(allowed, requested)
}

func planAtTime(obID string, ti int, tr policies.Trigger, act policies.Action, ev Event) (Job, bool) {
	start := ev.storedAt()
	if tr.Start != nil && !tr.Start.Now {
		start = tr.Start.At
	}
	deadline := withDelay(start, tr.MaxDelay)
	due := start
	retention := act.Kind == policies.ActionDeletePersonalData || act.Kind == policies.ActionAnonymizePersonalData
	if retention {
		due = deadline
	} else if ev.Type == EventPolicyUpdated && start.Before(ev.Time) {
		// A notification or log line whose time had come under the old
		// policy is not sent again because the policy was replaced.
		return Job{}, false
	}
	j := newJob(ev, obID, ti, 0, tr.Kind, act)
	j.Due, j.Deadline, j.TimeDriven = due, deadline, true
	return j, true
}

func planPeriodic(obID string, ti int, tr policies.Trigger, act policies.Action, ev Event) (Job, bool) {
	if tr.Period == nil {
		return Job{}, false
	}
	s := &Schedule{Start: ev.storedAt(), Period: *tr.Period, MaxDelay: tr.MaxDelay, TriggerIndex: ti}
	if tr.Start != nil && !tr.Start.Now {
		s.Start = tr.Start.At
	}
	if tr.End != nil {
		if tr.End.Now {
			s.End = ev.storedAt()
		} else {
			s.End = tr.End.At
		}
	}
	k, at, ok := s.nextOccurrence(ev.Time, 0)
	if !ok {
		return Job{}, false
	}
	s.Occurrence = k
	j := newJob(ev, obID, ti, k, tr.Kind, act)
	j.Due, j.Deadline, j.Schedule, j.TimeDriven = at, withDelay(at, tr.MaxDelay), s, true
	return j, true
}

// Next plans the next occurrence of a TriggerPeriodic job after j; ok is
// false when j is not periodic, its schedule has ended, or j deleted the
// record.
func Next(j Job) (Job, bool) {
	if j.Schedule == nil || j.Action == policies.ActionDeletePersonalData {
		return Job{}, false
	}
	s := *j.Schedule
	k, at, ok := s.nextOccurrence(j.Due.Add(time.Nanosecond), s.Occurrence+1)
	if !ok {
		return Job{}, false
	}
	s.Occurrence = k
	n := newJob(j.Event, j.ObligationID, s.TriggerIndex, k, j.Trigger, policies.Action{Kind: j.Action, Media: j.Media, Address: j.Address})
	n.Due, n.Deadline, n.Schedule, n.TimeDriven = at, withDelay(at, s.MaxDelay), &s, true
	n.Owner = j.Owner
	return n, true
}

func newJob(ev Event, obID string, ti, occurrence int, trig policies.TriggerKind, act policies.Action) Job {
	media, addr := "", ""
	if act.Kind == policies.ActionNotifyDataSubject {
		media = strings.ToLower(strings.TrimSpace(act.Media))
		if media == "" {
			media = MediaInbox
		}
		addr = strings.TrimSpace(act.Address)
		if addr == "" && media != MediaWebhook {
			addr = ev.Owner
		}
	}
	return Job{
		ID:           jobID(ev, obID, ti, occurrence, act.Kind, media, addr),
		PII:          ev.PII,
		Owner:        ev.Owner,
		ObligationID: obID,
		Trigger:      trig,
		Action:       act.Kind,
		Media:        media,
		Address:      addr,
		Event:        ev,
		State:        StatePending,
	}
}

// notice is the inbox notice a delegate or recipient gets.
func notice(ev Event, to string, trig policies.TriggerKind) Job {
	j := newJob(ev, DelegateNoticeID, 0, 0, trig, policies.Action{Kind: policies.ActionNotifyDataSubject, Media: MediaInbox, Address: to})
	j.Due, j.Deadline = ev.Time, ev.Time
	return j
}

// RetentionDeadline returns when the record must be gone under terms: the
// earliest Start + MaxDelay of a TriggerAtTime whose action deletes the data
// (Start is storedAt for StartNow); ok is false when no obligation deletes
// it.
func RetentionDeadline(terms *policies.DataHandling, storedAt time.Time) (deadline time.Time, ok bool) {
	if terms == nil {
		return time.Time{}, false
	}
	for _, ob := range terms.Obligations {
		if ob.Action.Kind != policies.ActionDeletePersonalData {
			continue
		}
		for _, tr := range ob.Triggers {
			if tr.Kind != policies.TriggerAtTime {
				continue
			}
			start := storedAt
			if tr.Start != nil && !tr.Start.Now {
				start = tr.Start.At
			}
			d := withDelay(start, tr.MaxDelay)
			if !ok || d.Before(deadline) {
				deadline, ok = d, true
			}
		}
	}
	return deadline, ok
}
