package policies

import (
	"fmt"
	"strings"
	"time"
)

// Mismatch is one way a data handling policy is more permissive than the
// preferences it is matched against. Element names the PPL element at
// fault (e.g. "ppl:Purpose", "ob:MaxDelay"), Preference and Policy hold the
// two values compared, Message says it in a sentence.
type Mismatch struct {
	Element    string
	Preference string
	Policy     string
	Message    string
}

func (m Mismatch) String() string { return m.Element + ": " + m.Message }

// MatchResult is the outcome of Match: the agreed terms (Sticky) when the
// policy satisfies the preferences, otherwise the mismatches (and Sticky is
// nil).
type MatchResult struct {
	Sticky     *DataHandling
	Mismatches []Mismatch
}

// OK reports whether the policy matched.
func (r MatchResult) OK() bool { return r.Sticky != nil && len(r.Mismatches) == 0 }

// MatchOption configures Match.
type MatchOption func(*matcher)

// MatchAt sets the reference time for comparing durations and deadlines:
// the time the data is stored (StartNow). With it, durations compare
// exactly at that time (P1M is 28 days from 1 February and 31 from 1
// March). Without it, Match decides as if the data could be stored at any
// time: a duration is "no longer" only if it is so whatever the start
// (Duration.NoLongerThan), and a deadline relative to storage never
// compares with a fixed date.
func MatchAt(storedAt time.Time) MatchOption {
	return func(m *matcher) { m.ref, m.hasRef = storedAt, true }
}

// Match matches a data subject's preferences against a data controller's
// data handling policy (PPL "two-sided data handling"). They match when
// the policy is no more permissive than the preferences:
//
//   - every purpose the policy asks for is covered by a purpose the
//     preferences allow (tax decides coverage; nil means DefaultTaxonomy);
//   - the policy asks for downstream usage only if the preferences allow it;
//   - every obligation of the preferences is met by an obligation of the
//     policy with the same action (for notifications: the same media and
//     address) whose triggers are at least as strict: for each trigger of
//     the preference obligation the policy obligation has a trigger of the
//     same kind that fires at least as often and acts at least as soon (a
//     deletion deadline no later, a notification delay no longer, a period
//     no longer, the same purposes or broader, the same recipient for Sent
//     or any recipient).
//
// The agreed terms are the policy's (purposes, obligations, PolicyId) with
// downstream usage allowed only when both allow it; the downstream policy
// is the preferences' nested policy when they give one, otherwise the
// policy's. Durations are compared as real durations (see MatchAt).
func Match(prefs, policy *DataHandling, tax *Taxonomy, opts ...MatchOption) MatchResult {
	m := &matcher{tax: tax}
	if m.tax == nil {
		m.tax = DefaultTaxonomy()
	}
	for _, o := range opts {
		o(m)
	}
	if prefs == nil {
		prefs = &DataHandling{}
	}
	if policy == nil {
		return MatchResult{Mismatches: []Mismatch{{Element: "ppl:DataHandlingPolicy", Preference: "preferences given", Policy: "none",
			Message: "there is no data handling policy to match the preferences against"}}}
	}
	m.purposes(prefs, policy)
	down := m.downstream(prefs, policy)
	m.obligations(prefs, policy)
	if len(m.out) > 0 {
		return MatchResult{Mismatches: m.out}
	}
	sticky := policy.Clone()
	sticky.Authorizations.Downstream = down
	return MatchResult{Sticky: sticky}
}

type matcher struct {
	tax    *Taxonomy
	ref    time.Time
	hasRef bool
	out    []Mismatch
}

func (m *matcher) add(element, pref, pol, format string, args ...any) {
	m.out = append(m.out, Mismatch{Element: element, Preference: pref, Policy: pol, Message: fmt.Sprintf(format, args...)})
}

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, " ")
}

func (m *matcher) purposes(prefs, policy *DataHandling) {
	allowed := prefs.Authorizations.Purposes
	for _, p := range policy.Authorizations.Purposes {
		if !m.tax.CoversAny(allowed, p) {
			m.add("ppl:Purpose", listOrNone(allowed), p,
				"the policy asks to use the data for %s, which the preferences do not allow (allowed: %s)", p, listOrNone(allowed))
		}
	}
}

func (m *matcher) downstream(prefs, policy *DataHandling) *Downstream {
	pd, qd := prefs.Authorizations.Downstream, policy.Authorizations.Downstream
	prefAllowed := pd != nil && pd.Allowed
	polAllowed := qd != nil && qd.Allowed
	if polAllowed && !prefAllowed {
		m.add("ppl:AuthzDownstreamUsage", "allowed=false", "allowed=true",
			"the policy asks to pass the data on to third parties, which the preferences do not allow")
	}
	if qd == nil {
		return nil
	}
	d := &Downstream{Allowed: polAllowed && prefAllowed, Policy: qd.Policy}
	if pd != nil && pd.Policy != nil {
		d.Policy = pd.Policy
	}
	if !d.Allowed {
		d.Policy = nil
	}
	return d
}

func (m *matcher) obligations(prefs, policy *DataHandling) {
	for i := range prefs.Obligations {
		want := &prefs.Obligations[i]
		var candidates []*Obligation
		for j := range policy.Obligations {
			if sameAction(want.Action, policy.Obligations[j].Action) {
				candidates = append(candidates, &policy.Obligations[j])
			}
		}
		if len(candidates) == 0 {
			m.add("ob:"+string(want.Action.Kind), describeObligation(want), "none",
				"the preferences require %s, but the policy has no obligation with this action", describeObligation(want))
			continue
		}
		var firstProblems []Mismatch
		met := false
		for k, c := range candidates {
			probs := m.meets(want, c)
			if len(probs) == 0 {
				met = true
				break
			}
			if k == 0 {
				firstProblems = probs
			}
		}
		if !met {
			m.out = append(m.out, firstProblems...)
		}
	}
}

func sameAction(a, b Action) bool {
	if a.Kind != b.Kind {
		return false
	}
	if a.Kind == ActionNotifyDataSubject {
		return a.Media == b.Media && a.Address == b.Address
	}
	return true
}

// meets returns why policy obligation got does not meet preference
// obligation want (nil when it does).
func (m *matcher) meets(want, got *Obligation) []Mismatch {
	saved := m.out
	m.out = nil
	for i := range want.Triggers {
		wt := &want.Triggers[i]
		var best []Mismatch
		found := false
		for j := range got.Triggers {
			gt := &got.Triggers[j]
			if gt.Kind != wt.Kind {
				continue
			}
			before := len(m.out)
			m.trigger(want, wt, gt)
			if len(m.out) == before {
				found = true
				break
			}
			if best == nil {
				best = append([]Mismatch(nil), m.out[before:]...)
			}
			m.out = m.out[:before]
		}
		if found {
			continue
		}
		if best != nil {
			m.out = append(m.out, best...)
			continue
		}
		m.add("ob:"+string(wt.Kind), describeTrigger(wt), describeTriggers(got.Triggers),
			"the preferences require %s when %s, but the policy's obligation with that action has no %s trigger",
			actionVerb(want.Action), describeTrigger(wt), wt.Kind)
	}
	probs := m.out
	m.out = saved
	return probs
}

// trigger compares one preference trigger with a policy trigger of the
// same kind, adding mismatches when the policy's is less strict.
func (m *matcher) trigger(ob *Obligation, want, got *Trigger) {
	verb := actionVerb(ob.Action)
	switch want.Kind {
	case TriggerAtTime:
		m.deadline(verb, want, got)
		return
	case TriggerPeriodic:
		m.startNoLater("ob:Start", verb, want.Start, got.Start)
		m.endNoEarlier(verb, want.End, got.End)
		m.noLonger("ob:Period", verb, want.Period, got.Period, "%s every %s, but the policy only every %s")
	case TriggerPersonalDataAccessedForPurpose:
		switch {
		case len(want.Purposes) == 0 && len(got.Purposes) > 0:
			m.add("ppl:Purpose", "any purpose", strings.Join(got.Purposes, " "),
				"the preferences require to %s on every use, but the policy only on uses for %s", verb, strings.Join(got.Purposes, " "))
		case len(got.Purposes) > 0:
			for _, p := range want.Purposes {
				if !m.tax.CoversAny(got.Purposes, p) {
					m.add("ppl:Purpose", p, strings.Join(got.Purposes, " "),
						"the preferences require to %s on uses for %s, but the policy's trigger does not cover that purpose", verb, p)
				}
			}
		}
	case TriggerPersonalDataSent:
		if got.ID != "" && got.ID != want.ID {
			m.add("ob:Id", orAny(want.ID), got.ID,
				"the preferences require to %s when the data is sent to %s, but the policy only when it is sent to %s", verb, orAny(want.ID), got.ID)
		}
	case TriggerDataSubjectAccess:
		if want.URL != "" && got.URL != want.URL {
			m.add("ob:url", want.URL, orNone(got.URL), "the policy's data subject access trigger has another url")
		}
		return
	}
	m.noLonger("ob:MaxDelay", verb, want.MaxDelay, got.MaxDelay, "%s within %s, but the policy allows %s")
}

func orAny(s string) string {
	if s == "" {
		return "any recipient"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// noLonger adds a mismatch when got is longer than want (nil is zero).
func (m *matcher) noLonger(element, verb string, want, got *Duration, format string) {
	var w, g Duration
	if want != nil {
		w = *want
	}
	if got != nil {
		g = *got
	}
	ok := g.NoLongerThan(w)
	if m.hasRef {
		ok = g.Compare(w, m.ref) <= 0
	}
	if !ok {
		m.add(element, w.String(), g.String(), "the preferences require to "+format, verb, w, g)
	}
}

// deadline compares TriggerAtTime deadlines (Start + MaxDelay).
func (m *matcher) deadline(verb string, want, got *Trigger) {
	wd, gd := zeroIfNil(want.MaxDelay), zeroIfNil(got.MaxDelay)
	ws, gs := want.Start, got.Start
	if ws == nil || gs == nil {
		return // parse guarantees Start; nothing to compare otherwise
	}
	describe := func(s *Start, d Duration) string {
		if s.Now {
			return "storage + " + d.String()
		}
		return d.AddTo(s.At).UTC().Format(time.RFC3339)
	}
	var ok bool
	switch {
	case ws.Now && gs.Now:
		if m.hasRef {
			ok = gd.Compare(wd, m.ref) <= 0
		} else {
			ok = gd.NoLongerThan(wd)
		}
	case !ws.Now && !gs.Now:
		ok = !gd.AddTo(gs.At).After(wd.AddTo(ws.At))
	case m.hasRef:
		wAt, gAt := m.ref, m.ref
		if !ws.Now {
			wAt = ws.At
		}
		if !gs.Now {
			gAt = gs.At
		}
		ok = !gd.AddTo(gAt).After(wd.AddTo(wAt))
	default:
		m.add("ob:Start", describe(ws, wd), describe(gs, gd),
			"a deadline relative to the storage time cannot be compared with a fixed date without knowing the storage time")
		return
	}
	if !ok {
		m.add("ob:MaxDelay", describe(ws, wd), describe(gs, gd),
			"the preferences require to %s by %s, but the policy only by %s", verb, describe(ws, wd), describe(gs, gd))
	}
}

func zeroIfNil(d *Duration) Duration {
	if d == nil {
		return Duration{}
	}
	return *d
}

// startNoLater checks that a periodic trigger starts no later.
func (m *matcher) startNoLater(element, verb string, want, got *Start) {
	if want == nil || got == nil {
		return
	}
	wt, gt, ok := m.times(want, got)
	if !ok {
		if want.Now != got.Now {
			m.add(element, startText(want), startText(got), "a start relative to the storage time cannot be compared with a fixed date without knowing the storage time")
		}
		return
	}
	if gt.After(wt) {
		m.add(element, startText(want), startText(got), "the preferences require to %s from %s, but the policy only from %s", verb, startText(want), startText(got))
	}
}

// endNoEarlier checks that a periodic trigger ends no earlier (no end is
// the latest).
func (m *matcher) endNoEarlier(verb string, want, got *Start) {
	if got == nil {
		return
	}
	if want == nil {
		m.add("ob:End", "none", startText(got), "the preferences require to %s without end, but the policy stops at %s", verb, startText(got))
		return
	}
	if got.At.Before(want.At) {
		m.add("ob:End", startText(want), startText(got), "the preferences require to %s until %s, but the policy stops at %s", verb, startText(want), startText(got))
	}
}

// times resolves two starts to instants; ok is false when one is StartNow
// and no reference time is known (two StartNow compare equal).
func (m *matcher) times(a, b *Start) (ta, tb time.Time, ok bool) {
	res := func(s *Start) (time.Time, bool) {
		if !s.Now {
			return s.At, true
		}
		return m.ref, m.hasRef
	}
	if a.Now && b.Now {
		return m.ref, m.ref, true
	}
	ta, oka := res(a)
	tb, okb := res(b)
	return ta, tb, oka && okb
}

func startText(s *Start) string {
	if s == nil {
		return "none"
	}
	if s.Now {
		return "storage time"
	}
	return s.At.Format(time.RFC3339)
}

func actionVerb(a Action) string {
	switch a.Kind {
	case ActionDeletePersonalData:
		return "delete the data"
	case ActionAnonymizePersonalData:
		return "anonymise the data"
	case ActionNotifyDataSubject:
		return "notify " + a.Address + " by " + a.Media
	case ActionLog:
		return "log the event"
	case ActionSecureLog:
		return "log the event securely"
	}
	return string(a.Kind)
}

func describeObligation(ob *Obligation) string {
	return actionVerb(ob.Action) + " on " + describeTriggers(ob.Triggers)
}

func describeTriggers(ts []Trigger) string {
	parts := make([]string, len(ts))
	for i := range ts {
		parts[i] = describeTrigger(&ts[i])
	}
	if len(parts) == 0 {
		return "no trigger"
	}
	return strings.Join(parts, " or ")
}

// describeTrigger names a trigger and its parameters, for mismatches.
func describeTrigger(t *Trigger) string {
	var b strings.Builder
	b.WriteString(string(t.Kind))
	var args []string
	if t.Start != nil {
		args = append(args, "start "+startText(t.Start))
	}
	if t.End != nil {
		args = append(args, "end "+startText(t.End))
	}
	if t.Period != nil {
		args = append(args, "every "+t.Period.String())
	}
	if len(t.Purposes) > 0 {
		args = append(args, "purposes "+strings.Join(t.Purposes, " "))
	}
	if t.ID != "" {
		args = append(args, "to "+t.ID)
	}
	if t.URL != "" {
		args = append(args, "url "+t.URL)
	}
	if t.MaxDelay != nil {
		args = append(args, "within "+t.MaxDelay.String())
	}
	if len(args) > 0 {
		b.WriteString("(" + strings.Join(args, ", ") + ")")
	}
	return b.String()
}

// String describes the trigger and its parameters in words, e.g.
// "TriggerAtTime(start storage time, within P30D)".
func (t Trigger) String() string { return describeTrigger(&t) }

// String describes what the action does, e.g. "notify alice by inbox".
func (a Action) String() string { return actionVerb(a) }

// String describes the obligation, e.g. "delete the data on
// TriggerAtTime(start storage time, within P30D)".
func (ob Obligation) String() string { return describeObligation(&ob) }
