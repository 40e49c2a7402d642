package xacml

import (
	"regexp"
	"strings"

	"github.com/beevik/etree"
	"github.com/stickypolicy/sticky/policies/xmlsafe"
)

// IsXACMLNamespace reports whether uri is an XACML policy namespace (1.0,
// 2.0 or 3.0); the empty namespace is accepted as XACML too.
func IsXACMLNamespace(uri string) bool {
	switch uri {
	case NS30, NS20, NS10, "", NS20Context, "urn:oasis:names:tc:xacml:1.0:context":
		return true
	}
	return false
}

// PPLNamespace is the PrimeLife policy namespace; a ppl:Policy element is
// parsed as an XACML Policy.
const PPLNamespace = "http://www.primelife.eu/ppl"

var versionRE = regexp.MustCompile(`^\d+(\.\d+)*$`)

// Parse reads a Policy or PolicySet element (XACML 3.0, 2.0 or 1.x syntax;
// a ppl:Policy counts as a Policy) into the model. Children of the root in
// a non-XACML namespace are kept in Root.Extensions. Every problem found is
// reported in one *xmlsafe.ValidationError, each naming the element,
// attribute, value and line at fault.
func Parse(el *etree.Element) (*Root, error) {
	if el == nil {
		return nil, &xmlsafe.ValidationError{Problems: []xmlsafe.Problem{{Message: "no root element"}}}
	}
	p := &parser{}
	r := &Root{}
	ns := el.NamespaceURI()
	r.Source = Source{Tag: el.FullTag(), Namespace: ns, Version: 3}
	if ns != NS30 {
		r.Source.Version = 2
	}
	for _, a := range el.Attr {
		if a.Space == "xmlns" {
			r.Source.XMLNS = append(r.Source.XMLNS, a)
		}
	}
	isPolicy := el.Tag == "Policy" && (IsXACMLNamespace(ns) || ns == PPLNamespace)
	isSet := el.Tag == "PolicySet" && IsXACMLNamespace(ns)
	switch {
	case isPolicy:
		r.Policy = p.policy(el, r)
	case isSet:
		r.PolicySet = p.policySet(el, r)
	default:
		p.add(el, "", "", "the root element must be an XACML Policy or PolicySet")
	}
	if p.root() {
		p.checkIDs(r)
	}
	if err := p.probs.Err(); err != nil {
		return nil, err
	}
	return r, nil
}

type parser struct {
	probs xmlsafe.Problems
}

func (p *parser) root() bool { return len(p.probs) == 0 }

func (p *parser) add(el *etree.Element, attr, value, format string, args ...any) {
	p.probs.Add(el, attr, value, format, args...)
}

// isX reports whether el is an XACML element named local.
func isX(el *etree.Element, local string) bool {
	return el.Tag == local && IsXACMLNamespace(el.NamespaceURI())
}

func attr(el *etree.Element, name string) (string, bool) {
	for _, a := range el.Attr {
		if a.Space == "" && a.Key == name {
			return a.Value, true
		}
	}
	return "", false
}

func (p *parser) required(el *etree.Element, name string) string {
	v, ok := attr(el, name)
	if !ok || strings.TrimSpace(v) == "" {
		p.add(el, name, "", "required attribute %s is missing", name)
	}
	return v
}

func (p *parser) boolAttr(el *etree.Element, name string, dflt bool) bool {
	v, ok := attr(el, name)
	if !ok {
		return dflt
	}
	switch strings.TrimSpace(v) {
	case "true", "1":
		return true
	case "false", "0":
		return false
	}
	p.add(el, name, v, "must be true or false")
	return dflt
}

func (p *parser) effect(el *etree.Element, name string) Effect {
	v := p.required(el, name)
	switch v {
	case "Permit":
		return Permit
	case "Deny":
		return Deny
	case "":
		return Deny
	}
	p.add(el, name, v, "must be Permit or Deny")
	return Deny
}

func (p *parser) version(el *etree.Element, name string, dflt string) string {
	v, ok := attr(el, name)
	if !ok {
		return dflt
	}
	if !versionRE.MatchString(v) {
		p.add(el, name, v, "a version is numbers separated by dots, like 1.0")
	}
	return v
}

func (p *parser) policy(el *etree.Element, r *Root) *Policy {
	pol := &Policy{Line: xmlsafe.Line(el)}
	pol.ID = p.required(el, "PolicyId")
	pol.Version = p.version(el, "Version", "1.0")
	pol.MaxDelegationDepth, _ = attr(el, "MaxDelegationDepth")
	pol.RuleCombiningAlgID = p.required(el, "RuleCombiningAlgId")
	if pol.RuleCombiningAlgID != "" {
		if _, ok := LookupCombiningAlg(pol.RuleCombiningAlgID, true); !ok {
			p.add(el, "RuleCombiningAlgId", pol.RuleCombiningAlgID, "unknown rule-combining algorithm")
		}
	}
	vars := map[string]bool{}
	for _, c := range el.ChildElements() {
		if !IsXACMLNamespace(c.NamespaceURI()) {
			if r != nil {
				r.Extensions = append(r.Extensions, c)
			} else {
				pol.Extensions = append(pol.Extensions, c)
			}
			continue
		}
		switch c.Tag {
		case "Description":
			pol.Description = c.Text()
		case "PolicyIssuer":
			// Administration and delegation profile; carries no decision.
		case "PolicyDefaults":
			pol.XPathVersion = p.xpathDefaults(c)
		case "Target":
			pol.Target = p.target(c)
		case "CombinerParameters":
			pol.CombinerParameters = append(pol.CombinerParameters, p.combinerParams(c)...)
		case "RuleCombinerParameters":
			pol.RuleCombinerParams = append(pol.RuleCombinerParams, RuleCombinerParameters{
				RuleIDRef: p.required(c, "RuleIdRef"), Parameters: p.combinerParams(c)})
		case "VariableDefinition":
			v := &VariableDefinition{ID: p.required(c, "VariableId"), Line: xmlsafe.Line(c)}
			if vars[v.ID] {
				p.add(c, "VariableId", v.ID, "duplicate VariableId in Policy %q", pol.ID)
			}
			vars[v.ID] = true
			v.Expr = p.singleExpr(c)
			pol.Variables = append(pol.Variables, v)
		case "Rule":
			pol.Rules = append(pol.Rules, p.rule(c))
		case "ObligationExpressions", "Obligations":
			pol.Obligations = append(pol.Obligations, p.obligations(c)...)
		case "AdviceExpressions":
			pol.Advice = append(pol.Advice, p.advice(c)...)
		default:
			p.add(c, "", "", "unexpected element in a Policy")
		}
	}
	seen := map[string]bool{}
	for _, ru := range pol.Rules {
		if seen[ru.ID] {
			p.probs = append(p.probs, xmlsafe.Problem{Element: "Rule", Attribute: "RuleId", Value: ru.ID, Line: ru.Line,
				Message: "duplicate RuleId in Policy " + quote(pol.ID)})
		}
		seen[ru.ID] = true
	}
	p.checkVariables(pol)
	return pol
}

func quote(s string) string { return `"` + s + `"` }

func (p *parser) xpathDefaults(el *etree.Element) string {
	for _, c := range el.ChildElements() {
		if isX(c, "XPathVersion") {
			return strings.TrimSpace(c.Text())
		}
	}
	return ""
}

func (p *parser) policySet(el *etree.Element, r *Root) *PolicySet {
	ps := &PolicySet{Line: xmlsafe.Line(el)}
	ps.ID = p.required(el, "PolicySetId")
	ps.Version = p.version(el, "Version", "1.0")
	ps.MaxDelegationDepth, _ = attr(el, "MaxDelegationDepth")
	ps.PolicyCombiningAlgID = p.required(el, "PolicyCombiningAlgId")
	if ps.PolicyCombiningAlgID != "" {
		if _, ok := LookupCombiningAlg(ps.PolicyCombiningAlgID, false); !ok {
			p.add(el, "PolicyCombiningAlgId", ps.PolicyCombiningAlgID, "unknown policy-combining algorithm")
		}
	}
	for _, c := range el.ChildElements() {
		ns := c.NamespaceURI()
		if c.Tag == "Policy" && ns == PPLNamespace {
			ps.Children = append(ps.Children, Child{Policy: p.policy(c, nil)})
			continue
		}
		if !IsXACMLNamespace(ns) {
			if r != nil {
				r.Extensions = append(r.Extensions, c)
				continue
			}
			p.add(c, "", "", "unexpected element in a PolicySet")
			continue
		}
		switch c.Tag {
		case "Description":
			ps.Description = c.Text()
		case "PolicyIssuer":
		case "PolicySetDefaults":
			ps.XPathVersion = p.xpathDefaults(c)
		case "Target":
			ps.Target = p.target(c)
		case "Policy":
			ps.Children = append(ps.Children, Child{Policy: p.policy(c, nil)})
		case "PolicySet":
			ps.Children = append(ps.Children, Child{PolicySet: p.policySet(c, nil)})
		case "PolicyIdReference", "PolicySetIdReference":
			ref := &Reference{Kind: PolicyRef, Line: xmlsafe.Line(c)}
			if c.Tag == "PolicySetIdReference" {
				ref.Kind = PolicySetRef
			}
			ref.ID = strings.TrimSpace(c.Text())
			if ref.ID == "" {
				p.add(c, "", "", "a reference needs the referenced id as its text")
			}
			ref.Version = p.versionMatch(c, "Version")
			ref.EarliestVersion = p.versionMatch(c, "EarliestVersion")
			ref.LatestVersion = p.versionMatch(c, "LatestVersion")
			ps.Children = append(ps.Children, Child{Ref: ref})
		case "CombinerParameters":
			ps.CombinerParameters = append(ps.CombinerParameters, p.combinerParams(c)...)
		case "PolicyCombinerParameters":
			ps.ChildCombinerParams = append(ps.ChildCombinerParams, ChildCombinerParameters{
				Kind: PolicyRef, IDRef: p.required(c, "PolicyIdRef"), Parameters: p.combinerParams(c)})
		case "PolicySetCombinerParameters":
			ps.ChildCombinerParams = append(ps.ChildCombinerParams, ChildCombinerParameters{
				Kind: PolicySetRef, IDRef: p.required(c, "PolicySetIdRef"), Parameters: p.combinerParams(c)})
		case "ObligationExpressions", "Obligations":
			ps.Obligations = append(ps.Obligations, p.obligations(c)...)
		case "AdviceExpressions":
			ps.Advice = append(ps.Advice, p.advice(c)...)
		default:
			p.add(c, "", "", "unexpected element in a PolicySet")
		}
	}
	return ps
}

var versionMatchRE = regexp.MustCompile(`^((\d+|\*)\.)*(\d+|\*|\+)$`)

func (p *parser) versionMatch(el *etree.Element, name string) string {
	v, ok := attr(el, name)
	if ok && !versionMatchRE.MatchString(v) {
		p.add(el, name, v, "a version match is numbers, * or + separated by dots")
	}
	return v
}

func (p *parser) combinerParams(el *etree.Element) []CombinerParameter {
	var out []CombinerParameter
	for _, c := range el.ChildElements() {
		if !isX(c, "CombinerParameter") {
			p.add(c, "", "", "expected CombinerParameter")
			continue
		}
		cp := CombinerParameter{Name: p.required(c, "ParameterName")}
		for _, v := range c.ChildElements() {
			if isX(v, "AttributeValue") && cp.Value == nil {
				cp.Value = p.attributeValue(v)
			} else {
				p.add(v, "", "", "a CombinerParameter holds one AttributeValue")
			}
		}
		if cp.Value == nil {
			p.add(c, "", "", "a CombinerParameter holds one AttributeValue")
		}
		out = append(out, cp)
	}
	return out
}

func (p *parser) rule(el *etree.Element) *Rule {
	ru := &Rule{Line: xmlsafe.Line(el)}
	ru.ID = p.required(el, "RuleId")
	ru.Effect = p.effect(el, "Effect")
	for _, c := range el.ChildElements() {
		if !IsXACMLNamespace(c.NamespaceURI()) {
			p.add(c, "", "", "unexpected element in a Rule")
			continue
		}
		switch c.Tag {
		case "Description":
			ru.Description = c.Text()
		case "Target":
			ru.Target = p.target(c)
		case "Condition":
			if fid, ok := attr(c, "FunctionId"); ok {
				// XACML 1.x: the Condition is itself an Apply.
				ru.Condition = p.applyLike(c, fid)
			} else {
				ru.Condition = p.singleExpr(c)
			}
		case "ObligationExpressions", "Obligations":
			ru.Obligations = append(ru.Obligations, p.obligations(c)...)
		case "AdviceExpressions":
			ru.Advice = append(ru.Advice, p.advice(c)...)
		default:
			p.add(c, "", "", "unexpected element in a Rule")
		}
	}
	return ru
}

// target2 maps XACML 2.0 target sections to their match elements, and the
// category of their designators.
var target2 = map[string]struct{ item, match, any, category string }{
	"Subjects":     {"Subject", "SubjectMatch", "AnySubject", CategoryAccessSubject},
	"Resources":    {"Resource", "ResourceMatch", "AnyResource", CategoryResource},
	"Actions":      {"Action", "ActionMatch", "AnyAction", CategoryAction},
	"Environments": {"Environment", "EnvironmentMatch", "AnyEnvironment", CategoryEnvironment},
}

func (p *parser) target(el *etree.Element) *Target {
	t := &Target{}
	for _, c := range el.ChildElements() {
		if !IsXACMLNamespace(c.NamespaceURI()) {
			p.add(c, "", "", "unexpected element in a Target")
			continue
		}
		if c.Tag == "AnyOf" {
			any := AnyOf{}
			for _, a := range c.ChildElements() {
				if !isX(a, "AllOf") {
					p.add(a, "", "", "an AnyOf holds AllOf elements")
					continue
				}
				all := AllOf{}
				for _, m := range a.ChildElements() {
					if !isX(m, "Match") {
						p.add(m, "", "", "an AllOf holds Match elements")
						continue
					}
					all.Matches = append(all.Matches, p.match(m))
				}
				if len(all.Matches) == 0 {
					p.add(a, "", "", "an AllOf needs at least one Match")
				}
				any.AllOf = append(any.AllOf, all)
			}
			if len(any.AllOf) == 0 {
				p.add(c, "", "", "an AnyOf needs at least one AllOf")
			}
			t.AnyOf = append(t.AnyOf, any)
			continue
		}
		sec, ok := target2[c.Tag]
		if !ok {
			p.add(c, "", "", "unexpected element in a Target")
			continue
		}
		any := AnyOf{}
		matchAll := false
		for _, item := range c.ChildElements() {
			if isX(item, sec.any) {
				matchAll = true
				continue
			}
			if !isX(item, sec.item) {
				p.add(item, "", "", "a %s holds %s elements", c.Tag, sec.item)
				continue
			}
			all := AllOf{}
			for _, m := range item.ChildElements() {
				if !isX(m, sec.match) {
					p.add(m, "", "", "a %s holds %s elements", sec.item, sec.match)
					continue
				}
				all.Matches = append(all.Matches, p.match(m))
			}
			if len(all.Matches) == 0 {
				p.add(item, "", "", "a %s needs at least one %s", sec.item, sec.match)
			}
			any.AllOf = append(any.AllOf, all)
		}
		if !matchAll && len(any.AllOf) > 0 {
			t.AnyOf = append(t.AnyOf, any)
		}
	}
	return t
}

func (p *parser) match(el *etree.Element) Match {
	m := Match{Line: xmlsafe.Line(el)}
	m.MatchID = p.required(el, "MatchId")
	p.checkFunction(el, "MatchId", &m.MatchID)
	for _, c := range el.ChildElements() {
		e := p.expr(c)
		switch e := e.(type) {
		case nil:
		case *AttributeValue:
			if m.Value != nil {
				p.add(c, "", "", "a Match holds one AttributeValue")
			}
			m.Value = e
		case *AttributeDesignator:
			if m.Designator != nil || m.Selector != nil {
				p.add(c, "", "", "a Match holds one AttributeDesignator or AttributeSelector")
			}
			m.Designator = e
		case *AttributeSelector:
			if m.Designator != nil || m.Selector != nil {
				p.add(c, "", "", "a Match holds one AttributeDesignator or AttributeSelector")
			}
			m.Selector = e
		default:
			p.add(c, "", "", "a Match holds an AttributeValue and an AttributeDesignator or AttributeSelector")
		}
	}
	if m.Value == nil {
		p.add(el, "", "", "a Match needs an AttributeValue")
	}
	if m.Designator == nil && m.Selector == nil {
		p.add(el, "", "", "a Match needs an AttributeDesignator or AttributeSelector")
	}
	return m
}

func (p *parser) checkFunction(el *etree.Element, name string, id *string) {
	if *id == "" {
		return
	}
	if _, canon, ok := CanonicalFunction(*id); ok {
		*id = canon
		return
	}
	p.add(el, name, *id, "unknown function")
}

// singleExpr reads the one expression an element (Condition,
// VariableDefinition, AttributeAssignmentExpression) holds.
func (p *parser) singleExpr(el *etree.Element) Expression {
	var out Expression
	n := 0
	for _, c := range el.ChildElements() {
		n++
		e := p.expr(c)
		if out == nil {
			out = e
		}
	}
	if n != 1 {
		p.add(el, "", "", "%s must hold exactly one expression, found %d", el.Tag, n)
	}
	return out
}

var designators2 = map[string]string{
	"SubjectAttributeDesignator":     CategoryAccessSubject,
	"ResourceAttributeDesignator":    CategoryResource,
	"ActionAttributeDesignator":      CategoryAction,
	"EnvironmentAttributeDesignator": CategoryEnvironment,
}

// expr reads one expression element; nil (with a problem) when it is not
// an expression.
func (p *parser) expr(el *etree.Element) Expression {
	if !IsXACMLNamespace(el.NamespaceURI()) {
		p.add(el, "", "", "unexpected element, expected an expression")
		return nil
	}
	switch el.Tag {
	case "Apply":
		return p.applyLike(el, p.required(el, "FunctionId"))
	case "Function":
		f := &Function{ID: p.required(el, "FunctionId"), Line: xmlsafe.Line(el)}
		p.checkFunction(el, "FunctionId", &f.ID)
		return f
	case "AttributeValue":
		return p.attributeValue(el)
	case "AttributeDesignator":
		return p.designator(el, p.required(el, "Category"))
	case "AttributeSelector":
		s := &AttributeSelector{Line: xmlsafe.Line(el)}
		s.Category, _ = attr(el, "Category")
		s.ContextSelectorID, _ = attr(el, "ContextSelectorId")
		if v, ok := attr(el, "Path"); ok {
			s.Path = v
		} else {
			s.Path = p.required(el, "RequestContextPath") // XACML 2.0
		}
		s.DataType = p.dataType(el)
		s.MustBePresent = p.boolAttr(el, "MustBePresent", false)
		if s.Category == "" {
			s.Category = CategoryResource
		}
		return s
	case "VariableReference":
		return &VariableReference{ID: p.required(el, "VariableId"), Line: xmlsafe.Line(el)}
	}
	if cat, ok := designators2[el.Tag]; ok {
		if el.Tag == "SubjectAttributeDesignator" {
			if c, ok := attr(el, "SubjectCategory"); ok && c != "" {
				cat = c
			}
		}
		return p.designator(el, cat)
	}
	p.add(el, "", "", "unexpected element, expected an expression")
	return nil
}

func (p *parser) applyLike(el *etree.Element, fid string) *Apply {
	a := &Apply{FunctionID: fid, Line: xmlsafe.Line(el)}
	p.checkFunction(el, "FunctionId", &a.FunctionID)
	for _, c := range el.ChildElements() {
		if isX(c, "Description") {
			a.Description = c.Text()
			continue
		}
		if e := p.expr(c); e != nil {
			a.Args = append(a.Args, e)
		}
	}
	return a
}

func (p *parser) designator(el *etree.Element, category string) *AttributeDesignator {
	d := &AttributeDesignator{Category: category, Line: xmlsafe.Line(el)}
	d.AttributeID = p.required(el, "AttributeId")
	d.DataType = p.dataType(el)
	d.Issuer, _ = attr(el, "Issuer")
	d.MustBePresent = p.boolAttr(el, "MustBePresent", false)
	return d
}

func (p *parser) dataType(el *etree.Element) string {
	dt := p.required(el, "DataType")
	if dt == "" {
		return dt
	}
	t, ok := LookupDataType(dt)
	if !ok {
		p.add(el, "DataType", dt, "unknown data type")
		return dt
	}
	return t.URI()
}

func (p *parser) attributeValue(el *etree.Element) *AttributeValue {
	v := &AttributeValue{Line: xmlsafe.Line(el)}
	v.DataType = p.dataType(el)
	for _, a := range el.Attr {
		if a.Space == "" && a.Key == "DataType" {
			continue
		}
		if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
			continue
		}
		v.Attrs = append(v.Attrs, a)
	}
	if len(el.ChildElements()) > 0 {
		p.add(el, "", "", "structured AttributeValue content is not supported")
	}
	v.Value = el.Text()
	if t, ok := LookupDataType(v.DataType); ok {
		if _, err := ParseValue(t, v.Value); err != nil {
			p.add(el, "", v.Value, "not a valid %s: %v", t.Short(), err)
		}
	}
	return v
}

func (p *parser) obligations(el *etree.Element) []*ObligationExpression {
	var out []*ObligationExpression
	for _, c := range el.ChildElements() {
		if !isX(c, "ObligationExpression") && !isX(c, "Obligation") {
			p.add(c, "", "", "expected ObligationExpression")
			continue
		}
		o := &ObligationExpression{Line: xmlsafe.Line(c)}
		o.ID = p.required(c, "ObligationId")
		o.FulfillOn = p.effect(c, "FulfillOn")
		o.Assignments = p.assignments(c)
		out = append(out, o)
	}
	return out
}

func (p *parser) advice(el *etree.Element) []*AdviceExpression {
	var out []*AdviceExpression
	for _, c := range el.ChildElements() {
		if !isX(c, "AdviceExpression") {
			p.add(c, "", "", "expected AdviceExpression")
			continue
		}
		a := &AdviceExpression{Line: xmlsafe.Line(c)}
		a.ID = p.required(c, "AdviceId")
		a.AppliesTo = p.effect(c, "AppliesTo")
		a.Assignments = p.assignments(c)
		out = append(out, a)
	}
	return out
}

func (p *parser) assignments(el *etree.Element) []*AttributeAssignmentExpression {
	var out []*AttributeAssignmentExpression
	for _, c := range el.ChildElements() {
		a := &AttributeAssignmentExpression{Line: xmlsafe.Line(c)}
		switch {
		case isX(c, "AttributeAssignmentExpression"):
			a.AttributeID = p.required(c, "AttributeId")
			a.Category, _ = attr(c, "Category")
			a.Issuer, _ = attr(c, "Issuer")
			a.Expr = p.singleExpr(c)
		case isX(c, "AttributeAssignment"):
			// XACML 2.0: the assignment is itself a value.
			a.AttributeID = p.required(c, "AttributeId")
			a.Category, _ = attr(c, "Category")
			a.Issuer, _ = attr(c, "Issuer")
			a.Expr = p.attributeValue(c)
			av := a.Expr.(*AttributeValue)
			filtered := av.Attrs[:0]
			for _, x := range av.Attrs {
				if x.Space == "" && (x.Key == "AttributeId" || x.Key == "Category" || x.Key == "Issuer") {
					continue
				}
				filtered = append(filtered, x)
			}
			av.Attrs = filtered
		default:
			p.add(c, "", "", "expected AttributeAssignmentExpression")
			continue
		}
		out = append(out, a)
	}
	return out
}

// checkVariables reports VariableReferences to undefined variables and
// circular variable definitions within one Policy.
func (p *parser) checkVariables(pol *Policy) {
	defs := map[string]*VariableDefinition{}
	for _, v := range pol.Variables {
		defs[v.ID] = v
	}
	check := func(e Expression) {
		walkRefs(e, func(r *VariableReference) {
			if _, ok := defs[r.ID]; !ok {
				p.probs = append(p.probs, xmlsafe.Problem{Element: "VariableReference", Attribute: "VariableId",
					Value: r.ID, Line: r.Line, Message: "no VariableDefinition with this id in Policy " + quote(pol.ID)})
			}
		})
	}
	for _, v := range pol.Variables {
		check(v.Expr)
	}
	for _, ru := range pol.Rules {
		check(ru.Condition)
		for _, o := range ru.Obligations {
			for _, a := range o.Assignments {
				check(a.Expr)
			}
		}
		for _, o := range ru.Advice {
			for _, a := range o.Assignments {
				check(a.Expr)
			}
		}
	}
	for _, o := range pol.Obligations {
		for _, a := range o.Assignments {
			check(a.Expr)
		}
	}
	for _, o := range pol.Advice {
		for _, a := range o.Assignments {
			check(a.Expr)
		}
	}
	// Cycles: depth-first search over variable references.
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(id string) bool
	visit = func(id string) bool {
		switch state[id] {
		case 1:
			return false
		case 2:
			return true
		}
		state[id] = 1
		ok := true
		if d := defs[id]; d != nil {
			walkRefs(d.Expr, func(r *VariableReference) {
				if ok && defs[r.ID] != nil && !visit(r.ID) {
					ok = false
				}
			})
		}
		state[id] = 2
		return ok
	}
	for _, v := range pol.Variables {
		if state[v.ID] == 0 && !visit(v.ID) {
			p.probs = append(p.probs, xmlsafe.Problem{Element: "VariableDefinition", Attribute: "VariableId",
				Value: v.ID, Line: v.Line, Message: "circular variable definition in Policy " + quote(pol.ID)})
		}
	}
}

func walkRefs(e Expression, f func(*VariableReference)) {
	switch e := e.(type) {
	case *VariableReference:
		f(e)
	case *Apply:
		for _, a := range e.Args {
			walkRefs(a, f)
		}
	}
}

// checkIDs reports PolicyIds and PolicySetIds used twice (same id and
// version) within the root's tree.
func (p *parser) checkIDs(r *Root) {
	seen := map[[3]string]bool{}
	var visitSet func(ps *PolicySet)
	visitPolicy := func(pol *Policy) {
		k := [3]string{"Policy", pol.ID, pol.Version}
		if seen[k] {
			p.probs = append(p.probs, xmlsafe.Problem{Element: "Policy", Attribute: "PolicyId", Value: pol.ID,
				Line: pol.Line, Message: "duplicate PolicyId (version " + pol.Version + ")"})
		}
		seen[k] = true
	}
	visitSet = func(ps *PolicySet) {
		k := [3]string{"PolicySet", ps.ID, ps.Version}
		if seen[k] {
			p.probs = append(p.probs, xmlsafe.Problem{Element: "PolicySet", Attribute: "PolicySetId", Value: ps.ID,
				Line: ps.Line, Message: "duplicate PolicySetId (version " + ps.Version + ")"})
		}
		seen[k] = true
		for _, c := range ps.Children {
			switch {
			case c.Policy != nil:
				visitPolicy(c.Policy)
			case c.PolicySet != nil:
				visitSet(c.PolicySet)
			}
		}
	}
	if r.Policy != nil {
		visitPolicy(r.Policy)
	}
	if r.PolicySet != nil {
		visitSet(r.PolicySet)
	}
}
