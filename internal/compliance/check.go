package compliance

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/stickypolicy/sticky/internal/audit"
	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/pdp"
	"github.com/stickypolicy/sticky/policies"
)

// Policy is one sticky policy as the checker needs it. *pdp.StickyPolicy
// is one; ParsePolicy compiles one from XML.
type Policy interface {
	Decide(req pdp.AccessRequest) pdp.Result
	Deadline(storedAt time.Time) (time.Time, bool)
	Terms() *policies.DataHandling
}

// PurposeMatcher says whether an allowed purpose covers a requested one.
// *policies.Taxonomy is one.
type PurposeMatcher interface {
	Covers(allowed, requested string) bool
}

// Input is what Check checks.
type Input struct {
	// Log is the record's log; its chain must have been verified
	// ((*audit.Log).Verify) before Check is called.
	Log *audit.Log
	// Policies are the record's policies by hash (the entries' PolicyHash).
	Policies map[string]Policy
	// Default is used for entries whose PolicyHash is not in Policies (the
	// policy given with --policy). Without it such entries (e.g. under a
	// policy erased when its data subject was forgotten) are checked only
	// by the rules that need no policy, and the report's notes say so.
	Default Policy
	// At is the check time: entries after it are ignored and deadlines
	// after it are not yet due.
	At time.Time
	// Roles gives a principal's roles for the XACML check; nil means every
	// principal other than the data subject is a controller.
	Roles func(identity string) []string
	// Notes are added to the report's notes (what the caller could not or
	// chose not to check).
	Notes []string
}

// Option configures a Checker.
type Option func(*Checker)

// WithPurposes sets the purpose taxonomy (default policies.DefaultTaxonomy()).
func WithPurposes(m PurposeMatcher) Option { return func(c *Checker) { c.purposes = m } }

// WithGrace sets how long after a deadline an action still counts as on
// time (default DefaultGrace): the obligation handler acts on a deadline,
// not before it, so a deletion due at T lands a moment after T.
func WithGrace(d time.Duration) Option { return func(c *Checker) { c.grace = d } }

// DefaultGrace is the default tolerance after a deadline.
const DefaultGrace = 5 * time.Second

// Checker checks logs against policies. It is immutable and safe for
// concurrent use.
type Checker struct {
	purposes PurposeMatcher
	grace    time.Duration
	planner  *obligations.Planner
}

// NewChecker returns a Checker.
func NewChecker(opts ...Option) *Checker {
	c := &Checker{grace: DefaultGrace}
	for _, o := range opts {
		o(c)
	}
	if c.purposes == nil {
		c.purposes = policies.DefaultTaxonomy()
	}
	c.planner = obligations.NewPlanner(c.purposes)
	return c
}

// decisionPermit is the Decision of a permitted entry.
const decisionPermit = "Permit"

// run is the state of one Check.
type run struct {
	c        *Checker
	in       Input
	l        *audit.Log
	entries  []audit.Entry
	storedAt time.Time
	report   Report
	notes    map[string]bool
	// deleted is the deletion entry in effect, nil while the record exists
	// (or after it was restored).
	deleted *audit.Entry
	// disclosedBy maps a recipient's pseudonym to the discloser's.
	disclosedBy map[string]string
	// used marks fulfilment entries already matched to an obligation.
	used map[int64]bool
}

// Check checks in.Log against its policies at in.At and returns the report.
func (c *Checker) Check(in Input) Report {
	r := &run{c: c, in: in, l: in.Log, notes: map[string]bool{}, disclosedBy: map[string]string{}, used: map[int64]bool{}}
	r.report = Report{PII: in.Log.Header.PII, CheckedAt: in.At.UTC(), Violations: []Violation{}}
	for _, n := range in.Notes {
		r.note(n)
	}
	for _, e := range in.Log.Entries {
		if e.Time.After(in.At) {
			r.note("entries after the check time were not checked")
			break
		}
		r.entries = append(r.entries, e)
	}
	r.report.Entries = len(r.entries)
	if len(r.entries) == 0 {
		r.note("the log has no entries up to the check time")
		return r.finish()
	}
	r.storedAt = r.entries[0].Time
	if r.entries[0].Type != audit.TypeStored {
		r.note("the log does not start with a stored entry: its first entry's time is taken as the storage time")
	}
	for i := range r.entries {
		r.entry(&r.entries[i])
	}
	r.retention()
	r.obligations()
	return r.finish()
}

func (r *run) finish() Report {
	sort.SliceStable(r.report.Violations, func(i, j int) bool {
		return r.report.Violations[i].Seq < r.report.Violations[j].Seq
	})
	for n := range r.notes {
		r.report.Notes = append(r.report.Notes, n)
	}
	sort.Strings(r.report.Notes)
	r.report.Verdict = Compliant
	if len(r.report.Violations) > 0 {
		r.report.Verdict = NonCompliant
	}
	return r.report
}

func (r *run) violate(rule Rule, seq int64, format string, args ...any) {
	r.report.Violations = append(r.report.Violations, Violation{Rule: rule, Seq: seq, Message: fmt.Sprintf(format, args...)})
}

func (r *run) note(s string) { r.notes[s] = true }

// policy returns the policy in force for e.
func (r *run) policy(e *audit.Entry) Policy {
	if p, ok := r.in.Policies[e.PolicyHash]; ok {
		return p
	}
	return r.in.Default
}

// identity returns the identity behind a pseudonym, if the log carries it.
func (r *run) identity(pseudonym string) (string, bool) {
	id, ok := r.l.Header.Identities[pseudonym]
	return id, ok && id != ""
}

// owner reports whether pseudonym is the data subject's.
func (r *run) owner(pseudonym string) bool {
	return pseudonym != "" && pseudonym == r.l.Header.Subject
}

func (r *run) roles(identity string) []string {
	if r.in.Roles != nil {
		if rs := r.in.Roles(identity); len(rs) > 0 {
			return rs
		}
	}
	return []string{"controller"}
}

// isUse reports whether e records a use of the data: a permitted read (by
// anyone, the owner included) or a disclosure.
func isUse(e *audit.Entry) bool {
	switch e.Type {
	case audit.TypeAccessed, audit.TypeSubjectAccess, audit.TypeDisclosed:
		return e.Decision == decisionPermit || e.Decision == ""
	}
	return false
}

// entry applies the per-entry rules.
func (r *run) entry(e *audit.Entry) {
	pol := r.policy(e)
	if pol == nil {
		r.note(fmt.Sprintf("%s is not available (erased, or not in the export): entries written under it were checked only for use after deletion and double deletion", shortHash(e.PolicyHash)))
	}
	if isUse(e) {
		if r.deleted != nil {
			r.violate(RuleUseAfterDeletion, e.Seq, "%s at %s after the record was deleted at %s (seq %d)",
				r.describe(e), stamp(e.Time), stamp(r.deleted.Time), r.deleted.Seq)
		} else if pol != nil {
			if dl, ok := pol.Deadline(r.storedAt); ok && !e.Time.Before(dl) {
				r.violate(RuleUseAfterDeadline, e.Seq, "%s at %s, at or after the retention deadline %s",
					r.describe(e), stamp(e.Time), stamp(dl))
			}
		}
	}
	switch e.Type {
	case audit.TypeAccessed:
		if isUse(e) && pol != nil && !r.owner(e.Principal) {
			r.access(e, pol)
		}
	case audit.TypeDisclosed:
		if isUse(e) && pol != nil {
			r.disclosure(e, pol)
		}
		if e.Recipient != "" {
			r.disclosedBy[e.Recipient] = e.Principal
		}
	case audit.TypeDeleted:
		if r.deleted != nil {
			r.violate(RuleDoubleDelete, e.Seq, "the record was deleted again at %s, after its deletion at %s (seq %d)",
				stamp(e.Time), stamp(r.deleted.Time), r.deleted.Seq)
		} else {
			r.deleted = e
		}
	case audit.TypeErased:
		if r.deleted == nil {
			r.deleted = e // erased without a deletion first: the erasure deletes
		}
	case audit.TypeRestored:
		r.deleted = nil // back within its restore window
	}
}

// purposeAllowed reports whether the terms allow purpose.
func (r *run) purposeAllowed(terms *policies.DataHandling, purpose string) bool {
	if terms == nil || purpose == "" {
		return false
	}
	for _, allowed := range terms.Authorizations.Purposes {
		if allowed == purpose || allowed == policies.PurposeAny || r.c.purposes.Covers(allowed, purpose) {
			return true
		}
	}
	return false
}

func (r *run) pastDeadline(e *audit.Entry, pol Policy) bool {
	dl, ok := pol.Deadline(r.storedAt)
	return ok && !e.Time.Before(dl)
}

// access checks a permitted read by someone other than the data subject.
func (r *run) access(e *audit.Entry, pol Policy) {
	if e.Purpose == "" {
		r.violate(RulePurpose, e.Seq, "%s without a declared purpose", r.describe(e))
	} else if !r.purposeAllowed(pol.Terms(), e.Purpose) {
		r.violate(RulePurpose, e.Seq, "%s for %s, which the policy in force (%s) does not allow", r.describe(e), e.Purpose, shortHash(e.PolicyHash))
	}
	if r.pastDeadline(e, pol) {
		return
	}
	who, ok := r.identity(e.Principal)
	if !ok {
		r.note("principals were not checked against the XACML rules: the log carries pseudonyms without identities (export with --identities, or use --data)")
		return
	}
	req := pdp.AccessRequest{Subject: who, Roles: r.roles(who), Resource: r.l.Header.PII, Action: pdp.ActionRead,
		Purpose: e.Purpose, Time: e.Time, StoredAt: r.storedAt}
	res, ok := r.permitted(e.Principal, req, pol)
	if ok {
		return
	}
	if !r.purposeAllowed(pol.Terms(), e.Purpose) {
		// Already a purpose violation; is the principal permitted at all,
		// for a purpose the policy allows?
		terms := pol.Terms()
		if terms == nil || len(terms.Authorizations.Purposes) == 0 {
			return
		}
		req.Purpose = terms.Authorizations.Purposes[0]
		if res, ok = r.permitted(e.Principal, req, pol); ok {
			return
		}
	}
	r.violate(RulePrincipal, e.Seq, "%s: the policy in force does not permit %s (%s: %s)", r.describe(e), who, res.Decision, res.Reason)
}

// permitted decides req for the principal with pseudonym p and, when that
// is not a Permit and p received the record in a disclosure, for whoever
// disclosed it to p (a recipient reads under the discloser's rights, as the
// server decides). It returns the principal's own result.
func (r *run) permitted(p string, req pdp.AccessRequest, pol Policy) (pdp.Result, bool) {
	res := pol.Decide(req)
	if res.Decision == pdp.Permit {
		return res, true
	}
	if by, ok := r.identity(r.disclosedBy[p]); ok {
		req.Subject, req.Roles = by, r.roles(by)
		if pol.Decide(req).Decision == pdp.Permit {
			return res, true
		}
	}
	return res, false
}

// disclosure checks a downstream disclosure.
func (r *run) disclosure(e *audit.Entry, pol Policy) {
	terms := pol.Terms()
	var down *policies.Downstream
	if terms != nil {
		down = terms.Authorizations.Downstream
	}
	if down == nil || !down.Allowed {
		r.violate(RuleDisclosureForbidden, e.Seq, "%s although the policy in force (%s) does not allow downstream usage", r.describe(e), shortHash(e.PolicyHash))
		return
	}
	if e.Purpose == "" {
		r.violate(RulePurpose, e.Seq, "%s without a declared purpose", r.describe(e))
		return
	}
	if !r.purposeAllowed(terms, e.Purpose) {
		r.violate(RulePurpose, e.Seq, "%s for %s, which the policy in force (%s) does not allow", r.describe(e), e.Purpose, shortHash(e.PolicyHash))
		return
	}
	if r.pastDeadline(e, pol) {
		return
	}
	by, okBy := r.identity(e.Principal)
	to, okTo := r.identity(e.Recipient)
	if !okBy || !okTo {
		r.note("disclosure recipients were not checked against the downstream policy: the log carries pseudonyms without identities (export with --identities, or use --data)")
		return
	}
	base := pdp.AccessRequest{Subject: by, Roles: r.roles(by), Resource: r.l.Header.PII, Purpose: e.Purpose, Time: e.Time, StoredAt: r.storedAt}
	if r.owner(e.Principal) {
		base.Owner = true
	}
	read := base
	read.Action = pdp.ActionRead
	if !base.Owner {
		if res := pol.Decide(read); res.Decision != pdp.Permit {
			// A recipient of a disclosure passes the data on under the
			// rights of whoever disclosed it to it.
			if _, ok := r.permitted(e.Principal, read, pol); !ok {
				r.violate(RulePrincipal, e.Seq, "%s: the policy in force does not permit %s to use the record (%s: %s)", r.describe(e), by, res.Decision, res.Reason)
				return
			}
			if via, ok := r.identity(r.disclosedBy[e.Principal]); ok {
				base.Subject, base.Roles = via, r.roles(via)
			}
		}
	}
	disc := base
	disc.Action, disc.Recipient = pdp.ActionDisclose, to
	if res := pol.Decide(disc); res.Decision != pdp.Permit {
		r.violate(RuleRecipientNotPermitted, e.Seq, "%s to %s, whom the downstream policy does not permit (%s: %s)", r.describe(e), to, res.Decision, res.Reason)
	}
}

// retention checks the deletion deadline of the policy last in force.
func (r *run) retention() {
	last := &r.entries[len(r.entries)-1]
	if r.deleted != nil {
		last = r.deleted
	}
	pol := r.policy(last)
	if pol == nil {
		return
	}
	dl, ok := pol.Deadline(r.storedAt)
	if !ok {
		return
	}
	due := dl.Add(r.c.grace)
	if r.deleted != nil {
		if r.deleted.Time.After(due) {
			r.violate(RuleDeletionLate, r.deleted.Seq, "the record was deleted at %s, %s after its retention deadline %s",
				stamp(r.deleted.Time), r.deleted.Time.Sub(dl).Round(time.Millisecond), stamp(dl))
		}
		return
	}
	if r.in.At.After(due) {
		// The entry that set the deadline: the last stored or policy_updated.
		var seq int64
		for _, e := range r.entries {
			if e.Type == audit.TypeStored || e.Type == audit.TypePolicyUpdated {
				seq = e.Seq
			}
		}
		if seq == 0 {
			seq = r.entries[0].Seq
		}
		r.violate(RuleDeletionMissing, seq, "the retention deadline %s has passed (checked at %s) and the record was not deleted",
			stamp(dl), stamp(r.in.At))
	}
}

// shortHash abbreviates a policy hash for messages.
func shortHash(h string) string {
	if h == "" {
		return "no policy"
	}
	if len(h) > 12 {
		return "policy " + h[:12]
	}
	return "policy " + h
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// who names a principal for messages: its identity when the log carries
// it, else its pseudonym abbreviated.
func (r *run) who(pseudonym string) string {
	if id, ok := r.identity(pseudonym); ok {
		return id
	}
	if len(pseudonym) > 15 {
		return pseudonym[:15] + "…"
	}
	return pseudonym
}

// describe says what an entry records, for messages.
func (r *run) describe(e *audit.Entry) string {
	var b strings.Builder
	switch e.Type {
	case audit.TypeAccessed:
		b.WriteString("read")
	case audit.TypeSubjectAccess:
		b.WriteString("read by the data subject")
	case audit.TypeDisclosed:
		b.WriteString("disclosure")
	default:
		b.WriteString(e.Type)
	}
	if e.Principal != "" && e.Type != audit.TypeSubjectAccess {
		b.WriteString(" by ")
		b.WriteString(r.who(e.Principal))
	}
	return b.String()
}
