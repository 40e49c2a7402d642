package engine

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stickypolicy/sticky/policies/xacml"
	"github.com/stickypolicy/sticky/policies/xmlsafe"
)

// Policy is a compiled XACML Policy or PolicySet, ready to evaluate
// requests. It is immutable and safe for concurrent use (each goroutine
// uses its own Request).
type Policy struct {
	root    node
	id      string
	version string
	keys    []attrKey
	slots   map[attrKey]int32
	clock   func() time.Time
	source  *xacml.Root
}

type attrKey struct{ cat, id string }

// Resolver finds the policy a PolicyIdReference or PolicySetIdReference
// names. It returns an error (wrapping ErrUnresolved when nothing matches)
// if it cannot.
type Resolver func(ref *xacml.Reference) (*xacml.Root, error)

// ErrUnresolved is wrapped when a policy reference cannot be resolved.
var ErrUnresolved = errors.New("unresolved policy reference")

// Option configures Compile.
type Option func(*options)

type options struct {
	provider AttributeProvider
	resolver Resolver
	clock    func() time.Time
	noFold   bool // tests: keep constant expressions as closures
	noIndex  bool // tests: no rule index
}

// WithResolver resolves PolicyIdReference and PolicySetIdReference at
// compile time; without it a reference is an error.
func WithResolver(r Resolver) Option { return func(o *options) { o.resolver = r } }

// AttributeProvider supplies attributes a request lacks (the context
// handler's external attribute sources): it is asked when a designator
// finds no value of its attribute in the request. It may read the request
// (Request.Values) and returns the values found, or an error, which makes
// the designator Indeterminate (processing-error).
type AttributeProvider interface {
	Attribute(req *Request, category, attributeID string, dataType DataType, issuer string) ([]Value, error)
}

// AttributeProviderFunc adapts a function to AttributeProvider.
type AttributeProviderFunc func(req *Request, category, attributeID string, dataType DataType, issuer string) ([]Value, error)

// Attribute calls f.
func (f AttributeProviderFunc) Attribute(req *Request, category, attributeID string, dataType DataType, issuer string) ([]Value, error) {
	return f(req, category, attributeID, dataType, issuer)
}

// WithAttributeProvider consults p for attributes missing from requests.
func WithAttributeProvider(p AttributeProvider) Option { return func(o *options) { o.provider = p } }

// WithClock sets the clock used for the environment's current-time,
// current-date and current-dateTime when a request does not carry them
// and Request.Now is zero. The default is time.Now.
func WithClock(now func() time.Time) Option { return func(o *options) { o.clock = now } }

// ID returns the PolicyId or PolicySetId of the compiled root.
func (p *Policy) ID() string { return p.id }

// Version returns the Version of the compiled root.
func (p *Policy) Version() string { return p.version }

// Source returns the model the policy was compiled from.
func (p *Policy) Source() *xacml.Root { return p.source }

type compiler struct {
	opts  options
	probs []xmlsafe.Problem
	slots map[attrKey]int32
	keys  []attrKey
	refs  map[refKey]*cPolicy
	stack []refKey
}

type refKey struct {
	kind    xacml.RefKind
	id, ver string
}

func (cp *compiler) slot(cat, id string) int32 {
	k := attrKey{internName(cat), internName(id)}
	if s, ok := cp.slots[k]; ok {
		return s
	}
	s := int32(len(cp.keys))
	cp.slots[k] = s
	cp.keys = append(cp.keys, k)
	return s
}

// pplPurpose is the PPL purpose attribute the sticky decision sends.
const pplPurpose = "http://www.primelife.eu/ppl/purpose"

// internName returns the package constant equal to s, if any, so that
// request builders using the same constants compare by pointer.
func internName(s string) string {
	switch s {
	case xacml.CategoryAccessSubject:
		return xacml.CategoryAccessSubject
	case xacml.CategoryResource:
		return xacml.CategoryResource
	case xacml.CategoryAction:
		return xacml.CategoryAction
	case xacml.CategoryEnvironment:
		return xacml.CategoryEnvironment
	case xacml.AttrSubjectID:
		return xacml.AttrSubjectID
	case xacml.AttrRole:
		return xacml.AttrRole
	case xacml.AttrResourceID:
		return xacml.AttrResourceID
	case xacml.AttrActionID:
		return xacml.AttrActionID
	case xacml.AttrCurrentDateTime:
		return xacml.AttrCurrentDateTime
	case xacml.AttrCurrentDate:
		return xacml.AttrCurrentDate
	case xacml.AttrCurrentTime:
		return xacml.AttrCurrentTime
	case pplPurpose:
		return pplPurpose
	}
	return s
}

// Compile turns a parsed policy into its evaluation form: typed constants,
// closures, interned attribute slots and precompiled regular expressions.
// Static errors (type mismatches, unsupported features, constant
// expressions that fail, unresolved or circular references) are reported
// as one *xmlsafe.ValidationError.
func Compile(root *xacml.Root, opts ...Option) (*Policy, error) {
	if root == nil || (root.Policy == nil && root.PolicySet == nil) {
		return nil, &xmlsafe.ValidationError{Problems: []xmlsafe.Problem{{Message: "no policy to compile"}}}
	}
	cp := &compiler{slots: map[attrKey]int32{}, refs: map[refKey]*cPolicy{}}
	for _, o := range opts {
		o(&cp.opts)
	}
	var n *cPolicy
	if root.Policy != nil {
		cp.stack = append(cp.stack, refKey{xacml.PolicyRef, root.Policy.ID, root.Policy.Version})
		n = cp.policy(root.Policy)
	} else {
		cp.stack = append(cp.stack, refKey{xacml.PolicySetRef, root.PolicySet.ID, root.PolicySet.Version})
		n = cp.policySet(root.PolicySet)
	}
	if len(cp.probs) > 0 {
		return nil, &xmlsafe.ValidationError{Problems: cp.probs}
	}
	p := &Policy{root: n, id: root.ID(), version: root.Version(), keys: cp.keys, clock: cp.opts.clock, source: root}
	if len(cp.keys) > 8 {
		p.slots = cp.slots
	}
	return p, nil
}

// Evaluate decides a request. It never fails: problems become an
// Indeterminate decision with a status. The returned slices stay valid
// until req is evaluated again or reset.
func (p *Policy) Evaluate(req *Request) Response {
	c := &req.c
	p.prepare(c, req)
	d, st := p.root.eval(c)
	resp := Response{Decision: d}
	switch {
	case d.IsIndeterminate():
		if st == nil {
			st = processingError("indeterminate")
		}
		resp.Status = st
	case d == Permit || d == Deny:
		if len(c.obs) > 0 {
			resp.Obligations = c.obs
		}
		if len(c.adv) > 0 {
			resp.Advice = c.adv
		}
	}
	for i := range req.attrs {
		if a := &req.attrs[i]; a.include {
			resp.Attributes = append(resp.Attributes, Attribute{Category: a.cat, AttributeID: a.id, Issuer: a.issuer, Value: a.v})
		}
	}
	if req.ReturnPolicyIDList && len(c.pids) > 0 {
		resp.PolicyIDs = c.pids
	}
	return resp
}

func (p *Policy) slotOf(cat, id string) int32 {
	if p.slots != nil {
		if s, ok := p.slots[attrKey{cat, id}]; ok {
			return s
		}
		return -1
	}
	for i := range p.keys {
		if k := &p.keys[i]; k.id == id && k.cat == cat {
			return int32(i)
		}
	}
	return -1
}

// grow returns s resized to n elements, reusing its storage; the
// contents are unspecified unless zero is set.
func grow[T any](s []T, n int, zero bool) []T {
	if cap(s) < n {
		return make([]T, n, n+n/2)
	}
	s = s[:n]
	if zero {
		clear(s)
	}
	return s
}

// prepare indexes the request's attributes by the policy's slots.
func (p *Policy) prepare(c *evalCtx, req *Request) {
	c.req = req
	c.steps = 0
	c.nowSet = false
	c.clock = p.clock
	c.obs = c.obs[:0]
	c.adv = c.adv[:0]
	c.pids = c.pids[:0]
	n := len(p.keys)
	c.start = grow(c.start, n+2, true)
	c.slotOf = grow(c.slotOf, len(req.attrs), false)
	total := 0
	for i := range req.attrs {
		a := &req.attrs[i]
		s := p.slotOf(a.cat, a.id)
		c.slotOf[i] = s
		if s >= 0 {
			c.start[s+2]++
			total++
		}
	}
	// start[s+1] accumulates the first index of slot s while filling.
	for i := 2; i < len(c.start); i++ {
		c.start[i] += c.start[i-1]
	}
	c.pool = grow(c.pool, total, false)
	c.issuers = grow(c.issuers, total, false)
	for i := range req.attrs {
		s := c.slotOf[i]
		if s < 0 {
			continue
		}
		at := c.start[s+1]
		c.pool[at] = req.attrs[i].v
		c.issuers[at] = req.attrs[i].issuer
		c.start[s+1]++
	}
}

// Compiled nodes.

type node interface {
	eval(c *evalCtx) (Decision, *Status)
}

type matchResult uint8

const (
	noMatch matchResult = iota
	match
	matchIndeterminate
)

type cTarget struct {
	anyOf []cAnyOf
}

type cAnyOf struct{ allOf []cAllOf }

type cAllOf struct{ matches []cMatch }

// cMatch is a compiled Match. When direct, the attribute is looked up by
// slot without a closure (bag is then only called for an empty bag, when
// the designator has a default or MustBePresent); when eqS, the test is a
// plain string comparison with lit.
type cMatch struct {
	direct bool
	eqS    bool
	slot   int32
	dt     DataType
	issuer string
	bag    bagFn
	test   func(c *evalCtx, v Value) (bool, *Status)
	lit    string // the literal of an equality test (eqS)
}

func (t *cTarget) eval(c *evalCtx) (matchResult, *Status) {
	if t == nil {
		return match, nil
	}
	var firstErr *Status
	res := match
	for i := range t.anyOf {
		// AnyOf: a disjunction of AllOf.
		anyRes := noMatch
		var anyErr *Status
	allOf:
		for j := range t.anyOf[i].allOf {
			// AllOf: a conjunction of Match.
			all := &t.anyOf[i].allOf[j]
			allRes := match
			var allErr *Status
			for k := range all.matches {
				r, st := all.matches[k].eval(c)
				if r == noMatch {
					continue allOf
				}
				if r == matchIndeterminate {
					allRes = matchIndeterminate
					if allErr == nil {
						allErr = st
					}
				}
			}
			if allRes == match {
				anyRes = match
				break
			}
			anyRes = matchIndeterminate
			if anyErr == nil {
				anyErr = allErr
			}
		}
		switch anyRes {
		case noMatch:
			return noMatch, nil
		case matchIndeterminate:
			res = matchIndeterminate
			if firstErr == nil {
				firstErr = anyErr
			}
		}
	}
	return res, firstErr
}

func (m *cMatch) eval(c *evalCtx) (matchResult, *Status) {
	var vs []Value
	if m.direct {
		vs = c.lookup(m.slot, m.dt, m.issuer)
		if len(vs) == 0 {
			if m.bag != nil { // a defaulted or required attribute
				var st *Status
				if vs, st = m.bag(c); st != nil {
					return matchIndeterminate, st
				}
			}
		}
	} else {
		var st *Status
		if vs, st = m.bag(c); st != nil {
			return matchIndeterminate, st
		}
	}
	if m.eqS {
		for i := range vs {
			if vs[i].S == m.lit {
				return match, nil
			}
		}
		return noMatch, nil
	}
	var firstErr *Status
	for i := range vs {
		ok, st := m.test(c, vs[i])
		if st != nil {
			if firstErr == nil {
				firstErr = st
			}
			continue
		}
		if ok {
			return match, nil
		}
	}
	if firstErr != nil {
		return matchIndeterminate, firstErr
	}
	return noMatch, nil
}

func (cp *compiler) target(t *xacml.Target) *cTarget {
	if t == nil || len(t.AnyOf) == 0 {
		return nil
	}
	ct := &cTarget{}
	for _, any := range t.AnyOf {
		ca := cAnyOf{}
		for _, all := range any.AllOf {
			cl := cAllOf{}
			for i := range all.Matches {
				if m := cp.match(&all.Matches[i]); m != nil {
					cl.matches = append(cl.matches, *m)
				}
			}
			ca.allOf = append(ca.allOf, cl)
		}
		ct.anyOf = append(ct.anyOf, ca)
	}
	return ct
}

func (cp *compiler) match(m *xacml.Match) *cMatch {
	f := lookupFunc(m.MatchID)
	if f == nil {
		cp.errorf("Match", m.Line, "MatchId", m.MatchID, "unknown or unsupported function")
		return nil
	}
	val := cp.compileExpr(m.Value, nil)
	var bag *expr
	if m.Designator != nil {
		bag = cp.compileExpr(m.Designator, nil)
	} else if m.Selector != nil {
		bag = cp.compileExpr(m.Selector, nil)
	}
	if val == nil || bag == nil {
		return nil
	}
	// The match function is applied to the literal and each bag element:
	// compile it once with an argument that reads the current element.
	elem := &expr{t: typ{dt: bag.t.dt}, one: func(c *evalCtx) (Value, *Status) { return c.cur, nil }}
	x, err := f.compile([]*expr{val, elem})
	if err == nil && (x.t.bag || x.t.dt != tBool || x.fn != nil) {
		err = fmt.Errorf("a match function must return a boolean")
	}
	if err != nil {
		cp.errorf("Match", m.Line, "MatchId", m.MatchID, "%v", err)
		return nil
	}
	v, _ := val.one(foldCtx())
	cm := &cMatch{bag: bag.many}
	if d := m.Designator; d != nil {
		cm.direct = true
		cm.slot = cp.slot(d.Category, d.AttributeID)
		cm.dt = bag.t.dt
		cm.issuer = d.Issuer
		if !d.MustBePresent && cp.opts.provider == nil && bag.t.dt != tDateTime && bag.t.dt != tDate && bag.t.dt != tTime {
			cm.bag = nil // an empty bag is just empty
		}
	}
	short, _, _ := xacml.CanonicalFunction(m.MatchID)
	if (short == "string-equal" && v.Type == tString) || (short == "anyURI-equal" && v.Type == tURI) {
		cm.eqS = true
		cm.lit = v.S
	}
	if !cm.eqS { // an equality test needs no closure (keeps compiled policies small)
		one := x.one
		cm.test = func(c *evalCtx, e Value) (bool, *Status) {
			c.cur = e
			r, st := one(c)
			if st != nil {
				return false, st
			}
			return r.I != 0, nil
		}
	}
	return cm
}

// Obligations and advice.

type cAssign struct {
	id, cat, issuer string
	e               *expr
}

type cOb struct {
	id      string
	effect  Decision
	static  *Obligation // all assignments constant
	assigns []cAssign
}

func (cp *compiler) obligations(obs []*xacml.ObligationExpression, adv []*xacml.AdviceExpression, sc *scope) (o, a []cOb) {
	for _, x := range obs {
		o = append(o, cp.ob(x.ID, x.FulfillOn, x.Assignments, sc))
	}
	for _, x := range adv {
		a = append(a, cp.ob(x.ID, x.AppliesTo, x.Assignments, sc))
	}
	return o, a
}

func effectDecision(e xacml.Effect) Decision {
	if e == xacml.Permit {
		return Permit
	}
	return Deny
}

func (cp *compiler) ob(id string, eff xacml.Effect, as []*xacml.AttributeAssignmentExpression, sc *scope) cOb {
	o := cOb{id: id, effect: effectDecision(eff)}
	konst := true
	for _, a := range as {
		x := cp.compileExpr(a.Expr, sc)
		if x == nil {
			continue
		}
		cp.checkConstant(x, "AttributeAssignmentExpression", a.Line)
		if x.fn != nil {
			cp.errorf("AttributeAssignmentExpression", a.Line, "AttributeId", a.AttributeID, "an assignment cannot be a function")
			continue
		}
		o.assigns = append(o.assigns, cAssign{id: a.AttributeID, cat: a.Category, issuer: a.Issuer, e: x})
		konst = konst && x.konst
	}
	if konst {
		ob := &Obligation{ID: id}
		if st := appendAssignments(foldCtx(), ob, o.assigns); st == nil {
			o.static = ob
		}
	}
	return o
}

func appendAssignments(c *evalCtx, ob *Obligation, as []cAssign) *Status {
	for _, a := range as {
		if a.e.t.bag {
			vs, st := a.e.many(c)
			if st != nil {
				return st
			}
			for _, v := range vs {
				ob.Attributes = append(ob.Attributes, Assignment{AttributeID: a.id, Category: a.cat, Issuer: a.issuer, Value: v})
			}
			continue
		}
		v, st := a.e.one(c)
		if st != nil {
			return st
		}
		ob.Attributes = append(ob.Attributes, Assignment{AttributeID: a.id, Category: a.cat, Issuer: a.issuer, Value: v})
	}
	return nil
}

// addObligations appends the obligations and advice for decision d.
func (c *evalCtx) addObligations(d Decision, obs, adv []cOb) *Status {
	for i := range obs {
		if st := c.addOb(&c.obs, d, &obs[i]); st != nil {
			return st
		}
	}
	for i := range adv {
		if st := c.addOb(&c.adv, d, &adv[i]); st != nil {
			return st
		}
	}
	return nil
}

func (c *evalCtx) addOb(list *[]Obligation, d Decision, o *cOb) *Status {
	if o.effect != d {
		return nil
	}
	if o.static != nil {
		*list = append(*list, *o.static)
		return nil
	}
	ob := Obligation{ID: o.id}
	if st := appendAssignments(c, &ob, o.assigns); st != nil {
		return st
	}
	*list = append(*list, ob)
	return nil
}

type mark struct{ obs, adv, pids int }

func (c *evalCtx) mark() mark { return mark{len(c.obs), len(c.adv), len(c.pids)} }

// truncate drops obligations and advice added since m.
func (c *evalCtx) truncate(m mark) {
	clear(c.obs[m.obs:])
	clear(c.adv[m.adv:])
	c.obs = c.obs[:m.obs]
	c.adv = c.adv[:m.adv]
}

// keepFrom drops what was added between m and from, keeping what was
// added after from.
func (c *evalCtx) keepFrom(m, from mark) {
	c.obs = append(c.obs[:m.obs], c.obs[from.obs:]...)
	c.adv = append(c.adv[:m.adv], c.adv[from.adv:]...)
}

// Rules.

type cRule struct {
	id     string
	effect Decision
	target *cTarget
	cond   oneFn
	obs    []cOb
	adv    []cOb
}

func (r *cRule) eval(c *evalCtx) (Decision, *Status) {
	ind := IndeterminateD
	if r.effect == Permit {
		ind = IndeterminateP
	}
	if r.target != nil {
		switch m, st := r.target.eval(c); m {
		case noMatch:
			return NotApplicable, nil
		case matchIndeterminate:
			return ind, st
		}
	}
	if r.cond != nil {
		v, st := r.cond(c)
		if st != nil {
			return ind, st
		}
		if v.I == 0 {
			return NotApplicable, nil
		}
	}
	if len(r.obs) > 0 || len(r.adv) > 0 {
		m := c.mark()
		if st := c.addObligations(r.effect, r.obs, r.adv); st != nil {
			c.truncate(m)
			return ind, st
		}
	}
	return r.effect, nil
}

func (cp *compiler) rule(r *xacml.Rule, sc *scope) *cRule {
	cr := &cRule{id: r.ID, effect: effectDecision(r.Effect), target: cp.target(r.Target)}
	if r.Condition != nil {
		x := cp.compileExpr(r.Condition, sc)
		cp.checkConstant(x, "Condition", r.Line)
		if x != nil {
			if x.fn != nil || x.t.bag || x.t.dt != tBool {
				cp.errorf("Condition", r.Line, "", "", "a Condition must be a boolean expression, not %s", describe(x))
			} else if x.konst {
				v, _ := x.one(foldCtx())
				if v.I == 0 {
					cr.cond = x.one
				}
			} else {
				cr.cond = x.one
			}
		}
	}
	cr.obs, cr.adv = cp.obligations(r.Obligations, r.Advice, sc)
	return cr
}

// Policies and policy sets.

type cPolicy struct {
	set     bool
	id      string
	version string
	target  *cTarget
	alg     xacml.CombiningAlg
	rules   []*cRule
	index   *ruleIndex
	kids    []node
	obs     []cOb
	adv     []cOb
}

func (p *cPolicy) applicable(c *evalCtx) (matchResult, *Status) { return p.target.eval(c) }

func (p *cPolicy) eval(c *evalCtx) (Decision, *Status) {
	t, tst := p.target.eval(c)
	if t == noMatch {
		return NotApplicable, nil
	}
	m := c.mark()
	var d Decision
	var st *Status
	if p.set {
		d, st = combinePolicies(c, p.alg, p.kids)
	} else {
		rules := p.rules
		if p.index != nil {
			rules = p.index.candidates(c, rules)
		}
		d, st = combineRules(c, p.alg, rules)
	}
	if t == matchIndeterminate {
		c.truncate(m)
		switch d {
		case NotApplicable:
			return NotApplicable, nil
		case Permit:
			return IndeterminateP, tst
		case Deny:
			return IndeterminateD, tst
		}
		return d, tst
	}
	if d == Permit || d == Deny {
		if st := c.addObligations(d, p.obs, p.adv); st != nil {
			c.truncate(m)
			if d == Permit {
				return IndeterminateP, st
			}
			return IndeterminateD, st
		}
	}
	if d != NotApplicable && c.req.ReturnPolicyIDList {
		c.pids = append(c.pids, PolicyIdentifier{Set: p.set, ID: p.id, Version: p.version})
	}
	return d, st
}

func (cp *compiler) policy(p *xacml.Policy) *cPolicy {
	alg, ok := xacml.LookupCombiningAlg(p.RuleCombiningAlgID, true)
	if !ok {
		cp.errorf("Policy", p.Line, "RuleCombiningAlgId", p.RuleCombiningAlgID, "unknown rule-combining algorithm")
	}
	cpol := &cPolicy{id: p.ID, version: p.Version, alg: alg, target: cp.target(p.Target)}
	sc := &scope{policyID: p.ID, defs: map[string]*xacml.VariableDefinition{}, compiled: map[string]*expr{}, active: map[string]bool{}}
	for _, v := range p.Variables {
		if _, dup := sc.defs[v.ID]; dup {
			cp.errorf("VariableDefinition", v.Line, "VariableId", v.ID, "duplicate VariableId in Policy %q", p.ID)
		}
		sc.defs[v.ID] = v
	}
	for _, v := range p.Variables {
		sc.variable(cp, &xacml.VariableReference{ID: v.ID, Line: v.Line})
	}
	seen := map[string]bool{}
	for _, r := range p.Rules {
		if seen[r.ID] {
			cp.errorf("Rule", r.Line, "RuleId", r.ID, "duplicate RuleId in Policy %q", p.ID)
		}
		seen[r.ID] = true
		cpol.rules = append(cpol.rules, cp.rule(r, sc))
	}
	if !cp.opts.noIndex {
		cpol.index = buildRuleIndex(cpol.rules)
	}
	cpol.obs, cpol.adv = cp.obligations(p.Obligations, p.Advice, sc)
	return cpol
}

func (cp *compiler) policySet(ps *xacml.PolicySet) *cPolicy {
	alg, ok := xacml.LookupCombiningAlg(ps.PolicyCombiningAlgID, false)
	if !ok {
		cp.errorf("PolicySet", ps.Line, "PolicyCombiningAlgId", ps.PolicyCombiningAlgID, "unknown policy-combining algorithm")
	}
	cpol := &cPolicy{set: true, id: ps.ID, version: ps.Version, alg: alg, target: cp.target(ps.Target)}
	for _, ch := range ps.Children {
		switch {
		case ch.Policy != nil:
			cpol.kids = append(cpol.kids, cp.policy(ch.Policy))
		case ch.PolicySet != nil:
			cpol.kids = append(cpol.kids, cp.policySet(ch.PolicySet))
		case ch.Ref != nil:
			if n := cp.reference(ch.Ref); n != nil {
				cpol.kids = append(cpol.kids, n)
			}
		}
	}
	cpol.obs, cpol.adv = cp.obligations(ps.Obligations, ps.Advice, nil)
	return cpol
}

func (cp *compiler) reference(ref *xacml.Reference) *cPolicy {
	tag := "PolicyIdReference"
	if ref.Kind == xacml.PolicySetRef {
		tag = "PolicySetIdReference"
	}
	if cp.opts.resolver == nil {
		cp.errorf(tag, ref.Line, "", ref.ID, "policy references need a policy repository (none configured)")
		return nil
	}
	root, err := cp.opts.resolver(ref)
	if err != nil {
		cp.errorf(tag, ref.Line, "", ref.ID, "%v", err)
		return nil
	}
	var k refKey
	switch {
	case ref.Kind == xacml.PolicyRef && root.Policy != nil:
		k = refKey{ref.Kind, root.Policy.ID, root.Policy.Version}
	case ref.Kind == xacml.PolicySetRef && root.PolicySet != nil:
		k = refKey{ref.Kind, root.PolicySet.ID, root.PolicySet.Version}
	default:
		cp.errorf(tag, ref.Line, "", ref.ID, "the reference resolved to the wrong kind of policy")
		return nil
	}
	for _, s := range cp.stack {
		if s == k {
			cp.errorf(tag, ref.Line, "", ref.ID, "circular policy reference")
			return nil
		}
	}
	if n, ok := cp.refs[k]; ok {
		return n
	}
	cp.stack = append(cp.stack, k)
	defer func() { cp.stack = cp.stack[:len(cp.stack)-1] }()
	before := len(cp.probs)
	var n *cPolicy
	if root.Policy != nil {
		n = cp.policy(root.Policy)
	} else {
		n = cp.policySet(root.PolicySet)
	}
	// Problems inside the referenced policy name it: their lines are in
	// another document.
	for i := before; i < len(cp.probs); i++ {
		cp.probs[i].Message = fmt.Sprintf("in referenced %s %q version %s: %s", strings.TrimSuffix(tag, "IdReference"), k.id, k.ver, cp.probs[i].Message)
	}
	cp.refs[k] = n
	return n
}
