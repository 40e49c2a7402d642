package pdp

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/stickypolicy/sticky/pdp/engine"
	"github.com/stickypolicy/sticky/policies"
	"github.com/stickypolicy/sticky/policies/xacml"
)

// Attribute identifiers of the XACML requests the sticky decision builds.
// The subject, role, resource, action and time attributes are XACML's
// standard ones; the purpose is PPL's.
const (
	// AttrPurpose carries the declared purpose in the action category. It
	// is added twice, as an anyURI and as a string, so a policy may test it
	// with either anyURI-equal or string-equal.
	AttrPurpose = "http://www.primelife.eu/ppl/purpose"
	// AttrSubjectID is the principal (or, for a downstream policy, the
	// recipient).
	AttrSubjectID = xacml.AttrSubjectID
	// AttrRole holds one value per role of the principal.
	AttrRole = xacml.AttrRole
	// AttrResourceID is the record id.
	AttrResourceID = xacml.AttrResourceID
	// AttrActionID is the Action (read, disclose, update, delete).
	AttrActionID = xacml.AttrActionID
)

// ErrNoPolicy is returned by CompileSticky for a nil document or one
// without an XACML part.
var ErrNoPolicy = errors.New("no policy to compile")

// StickyOption configures CompileSticky.
type StickyOption func(*stickyOptions)

type stickyOptions struct {
	tax    *policies.Taxonomy
	engine []engine.Option
}

// WithTaxonomy sets the purpose taxonomy deciding whether a declared
// purpose is covered by an allowed one (default policies.DefaultTaxonomy).
func WithTaxonomy(t *policies.Taxonomy) StickyOption {
	return func(o *stickyOptions) { o.tax = t }
}

// WithEngineOptions passes options to engine.Compile for the XACML part and
// the downstream policy (for example engine.WithResolver).
func WithEngineOptions(opts ...engine.Option) StickyOption {
	return func(o *stickyOptions) { o.engine = append(o.engine, opts...) }
}

// StickyPolicy is a PPL sticky policy compiled once for fast repeated
// decisions. It is immutable and safe for concurrent use.
type StickyPolicy struct {
	doc        *policies.Document
	terms      *policies.DataHandling
	tax        *policies.Taxonomy
	xacml      *engine.Policy
	policyID   string
	purposes   []string
	allowedSet policies.PurposeSet
	allowed    string // purposes for reasons, "none" when empty
	downstream bool
	recipients *engine.Policy // nested downstream policy, nil when none
	retention  []retention
}

// requests holds reusable XACML requests (scratch space for evaluation)
// shared by every StickyPolicy: a server holds one compiled policy per
// record, and a pool per policy would be empty whenever a policy is used
// again after a garbage collection. The pool holds no state between calls.
var requests = sync.Pool{New: func() any { return engine.NewRequest() }}

// retention is one TriggerAtTime of an ActionDeletePersonalData obligation.
type retention struct {
	now   bool
	start time.Time
	delay policies.Duration
}

// CompileSticky compiles a policy document for decisions: its XACML part
// (and the nested downstream policy, if any) with package engine, its data
// handling terms (Document.Terms: the sticky policy, else the preferences,
// else the first data handling policy) and its retention deadline rule.
// A document without data handling parts compiles, but allows no purpose:
// only its data subject can read the data.
func CompileSticky(doc *policies.Document, opts ...StickyOption) (*StickyPolicy, error) {
	if doc == nil || doc.XACML == nil {
		return nil, ErrNoPolicy
	}
	var o stickyOptions
	for _, f := range opts {
		f(&o)
	}
	if o.tax == nil {
		o.tax = policies.DefaultTaxonomy()
	}
	x, err := engine.Compile(doc.XACML, o.engine...)
	if err != nil {
		return nil, fmt.Errorf("compiling the XACML policy %q: %w", doc.XACML.ID(), err)
	}
	p := &StickyPolicy{doc: doc, terms: doc.Terms(), tax: o.tax, xacml: x, policyID: doc.XACML.ID()}
	if t := p.terms; t != nil {
		p.purposes = t.Authorizations.Purposes
		if d := t.Authorizations.Downstream; d != nil && d.Allowed {
			p.downstream = true
			if d.Policy != nil && d.Policy.XACML != nil {
				p.recipients, err = engine.Compile(d.Policy.XACML, o.engine...)
				if err != nil {
					return nil, fmt.Errorf("compiling the downstream policy %q: %w", d.Policy.XACML.ID(), err)
				}
			}
		}
		for _, ob := range t.Obligations {
			if ob.Action.Kind != policies.ActionDeletePersonalData {
				continue
			}
			for _, tr := range ob.Triggers {
				if tr.Kind != policies.TriggerAtTime || tr.Start == nil {
					continue
				}
				r := retention{now: tr.Start.Now, start: tr.Start.At}
				if tr.MaxDelay != nil {
					r.delay = *tr.MaxDelay
				}
				p.retention = append(p.retention, r)
			}
		}
	}
	p.allowedSet = p.tax.NewPurposeSet(p.purposes)
	p.allowed = "none"
	if len(p.purposes) > 0 {
		p.allowed = strings.Join(p.purposes, ", ")
	}
	return p, nil
}

// Document returns the document the policy was compiled from.
func (p *StickyPolicy) Document() *policies.Document { return p.doc }

// Terms returns the data handling terms in force (nil when the document
// has none).
func (p *StickyPolicy) Terms() *policies.DataHandling { return p.terms }

// Deadline returns the retention deadline of a record stored at storedAt:
// the earliest Start + MaxDelay of a TriggerAtTime whose action is
// ActionDeletePersonalData (Start is storedAt for StartNow; durations are
// added with policies.Duration.AddTo). ok is false when nothing deletes
// the data.
func (p *StickyPolicy) Deadline(storedAt time.Time) (deadline time.Time, ok bool) {
	for _, r := range p.retention {
		start := r.start
		if r.now {
			start = storedAt
		}
		d := r.delay.AddTo(start)
		if !ok || d.Before(deadline) {
			deadline, ok = d, true
		}
	}
	return deadline, ok
}

// Decide decides one use of a record (PPL.md "The decision"):
//
//  1. from the retention deadline on, nothing is served, to anyone;
//  2. the data subject (req.Owner) may read, update and delete its own
//     data without a purpose;
//  3. anyone else needs a declared purpose, and the XACML part must Permit
//     the request (subject-id = Subject, role = each of Roles, resource-id
//     = Resource, action-id = Action, AttrPurpose = Purpose, current
//     date/time = Time); NotApplicable, Deny and Indeterminate are denials;
//  4. the purpose must be covered by a purpose of AuthzUseForPurpose
//     (through the taxonomy);
//  5. ActionDisclose also needs AuthzDownstreamUsage allowed="true", a
//     Recipient, and, when a nested policy is given, that policy must
//     Permit the recipient (subject-id = Recipient, action-id = disclose,
//     same resource, purpose and time).
//
// Anything else is a Deny whose Reason says which check failed; a request
// without a Time is denied too. On Permit
// the XACML obligations and advice are returned.
func (p *StickyPolicy) Decide(req AccessRequest) Result {
	if req.Time.IsZero() {
		// Without a time neither the retention deadline nor the XACML
		// environment can be decided; refuse rather than guess.
		return deny("the request carries no time, so the retention period cannot be checked")
	}
	if dl, ok := p.Deadline(req.StoredAt); ok && !req.Time.Before(dl) {
		return deny("the retention period of this data ended at %s; data past its retention deadline is never served",
			dl.UTC().Format(time.RFC3339))
	}
	if req.Owner && req.Action != ActionDisclose {
		return Result{Decision: Permit}
	}
	switch req.Action {
	case ActionRead, ActionDisclose, ActionUpdate, ActionDelete:
	default:
		return deny("unknown action %q (use read, disclose, update or delete)", req.Action)
	}
	if req.Purpose == "" {
		return deny("no purpose was declared; using data that is not one's own needs a declared purpose")
	}
	rq := requests.Get().(*engine.Request)
	defer func() {
		rq.Reset()
		requests.Put(rq)
	}()
	fill(rq, req, req.Subject, req.Roles, req.Action)
	resp := p.xacml.Evaluate(rq)
	if resp.Decision != engine.Permit {
		return p.xacmlDenial(resp, req.Subject, req.Action, "")
	}
	if !p.allowedSet.Covers(req.Purpose) {
		if p.terms == nil {
			return deny("purpose %s is not allowed: the policy has no data handling part, so it allows no purpose", req.Purpose)
		}
		return deny("purpose %s is not allowed by the sticky policy (allowed: %s)", req.Purpose, p.allowed)
	}
	res := Result{Decision: Permit, Obligations: convert(resp)}
	if req.Action != ActionDisclose {
		return res
	}
	if !p.downstream {
		return deny("the sticky policy does not allow passing the data on to third parties (AuthzDownstreamUsage is not allowed=\"true\")")
	}
	if req.Recipient == "" {
		return deny("a disclosure needs a recipient")
	}
	if p.recipients != nil {
		rq.Reset()
		fill(rq, req, req.Recipient, nil, ActionDisclose)
		dr := p.recipients.Evaluate(rq)
		if dr.Decision != engine.Permit {
			return p.xacmlDenial(dr, req.Recipient, ActionDisclose, "downstream ")
		}
		res.Obligations = append(res.Obligations, convert(dr)...)
	}
	return res
}

// fill builds the XACML request for subject doing action.
func fill(rq *engine.Request, req AccessRequest, subject string, roles []string, action Action) {
	rq.Now = req.Time
	rq.Add(engine.CategorySubject, AttrSubjectID, engine.String(subject))
	for _, r := range roles {
		rq.Add(engine.CategorySubject, AttrRole, engine.String(r))
	}
	rq.Add(engine.CategoryResource, AttrResourceID, engine.String(req.Resource))
	rq.Add(engine.CategoryAction, AttrActionID, engine.String(string(action)))
	if req.Purpose != "" {
		rq.Add(engine.CategoryAction, AttrPurpose, engine.AnyURI(req.Purpose))
		rq.Add(engine.CategoryAction, AttrPurpose, engine.String(req.Purpose))
	}
}

func deny(format string, args ...any) Result {
	return Result{Decision: Deny, Reason: fmt.Sprintf(format, args...)}
}

// xacmlDenial explains a non-Permit XACML response.
func (p *StickyPolicy) xacmlDenial(resp engine.Response, subject string, action Action, which string) Result {
	id := p.policyID
	if which != "" && p.recipients != nil {
		id = p.recipients.ID()
	}
	var r Result
	switch {
	case resp.Decision == engine.Deny:
		r = deny("the %sXACML policy %q denies %s the action %s on this data", which, id, subject, action)
	case resp.Decision.IsIndeterminate():
		msg := "evaluation failed"
		if resp.Status != nil && resp.Status.Message != "" {
			msg = resp.Status.Message
		}
		r = deny("the %sXACML policy %q could not be evaluated for %s (%s: %s), which counts as a denial", which, id, subject, resp.Decision, msg)
	default:
		r = deny("no rule of the %sXACML policy %q permits %s the action %s on this data", which, id, subject, action)
	}
	if resp.Decision == engine.Deny {
		r.Obligations = convert(resp)
	}
	return r
}

// convert copies the obligations and advice of a response (whose slices
// belong to the pooled request).
func convert(resp engine.Response) []Obligation {
	n := len(resp.Obligations) + len(resp.Advice)
	if n == 0 {
		return nil
	}
	out := make([]Obligation, 0, n)
	add := func(obs []engine.Obligation, advice bool) {
		for _, o := range obs {
			ob := Obligation{ID: o.ID, Advice: advice}
			for _, a := range o.Attributes {
				ob.Attributes = append(ob.Attributes, AssignedAttribute{ID: a.AttributeID, Category: a.Category,
					DataType: a.Value.Type.URI(), Value: a.Value.String()})
			}
			out = append(out, ob)
		}
	}
	add(resp.Obligations, false)
	add(resp.Advice, true)
	return out
}
