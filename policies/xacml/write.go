package xacml

import (
	"github.com/beevik/etree"
)

// Element serializes the root as XACML 3.0 syntax. The root keeps its
// original tag (for example ppl:Policy) and namespace declarations; the
// XACML namespace becomes the default one, and copies of the Extensions
// are appended after the XACML children. Parse(r.Element()) yields an
// equal model, and serializing that again gives the same XML.
func (r *Root) Element() *etree.Element {
	var el *etree.Element
	switch {
	case r.Policy != nil:
		el = policyElement(r.Policy, "Policy")
	case r.PolicySet != nil:
		el = policySetElement(r.PolicySet)
	default:
		el = etree.NewElement("Policy")
	}
	// Root attributes: tag, default namespace and prefixes.
	attrs := el.Attr
	el.Attr = nil
	if r.Source.Tag != "" && r.Source.Namespace == PPLNamespace {
		el.Space, el.Tag = splitTag(r.Source.Tag)
	}
	el.CreateAttr("xmlns", NS30)
	for _, a := range r.Source.XMLNS {
		el.CreateAttr(a.FullKey(), a.Value)
	}
	el.Attr = append(el.Attr, attrs...)
	declared := map[string]string{}
	for _, a := range r.Source.XMLNS {
		declared[a.Key] = a.Value
	}
	appendExtensions(el, r.Extensions, declared)
	return el
}

// appendExtensions appends copies of foreign elements, declaring on each
// the namespaces it used from its original ancestors, so it means the same
// under its new parent.
func appendExtensions(el *etree.Element, exts []*etree.Element, declared map[string]string) {
	for _, x := range exts {
		c := x.Copy()
		// Unprefixed names in an extension keep the default namespace they
		// were read in, which the XACML 3.0 default would otherwise replace.
		if x.Space == "" && c.SelectAttr("xmlns") == nil {
			if ns := x.NamespaceURI(); ns != NS30 {
				c.CreateAttr("xmlns", ns)
			}
		}
		if x.Space != "" && c.SelectAttr("xmlns:"+x.Space) == nil && declared[x.Space] != x.NamespaceURI() {
			c.CreateAttr("xmlns:"+x.Space, x.NamespaceURI())
		}
		el.AddChild(c)
	}
}

// Document returns the root serialized in a document with an XML
// declaration, indented by two spaces.
func (r *Root) Document() *etree.Document {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	doc.SetRoot(r.Element())
	doc.Indent(2)
	return doc
}

func splitTag(tag string) (space, local string) {
	for i := 0; i < len(tag); i++ {
		if tag[i] == ':' {
			return tag[:i], tag[i+1:]
		}
	}
	return "", tag
}

func setAttr(el *etree.Element, k, v string) {
	if v != "" {
		el.CreateAttr(k, v)
	}
}

func text(el *etree.Element, tag, t string) {
	if t != "" {
		el.CreateElement(tag).SetText(t)
	}
}

func policyElement(p *Policy, tag string) *etree.Element {
	el := etree.NewElement(tag)
	el.CreateAttr("PolicyId", p.ID)
	el.CreateAttr("Version", p.Version)
	el.CreateAttr("RuleCombiningAlgId", p.RuleCombiningAlgID)
	setAttr(el, "MaxDelegationDepth", p.MaxDelegationDepth)
	text(el, "Description", p.Description)
	if p.XPathVersion != "" {
		el.CreateElement("PolicyDefaults").CreateElement("XPathVersion").SetText(p.XPathVersion)
	}
	el.AddChild(targetElement(p.Target))
	if len(p.CombinerParameters) > 0 {
		combinerParams(el.CreateElement("CombinerParameters"), p.CombinerParameters)
	}
	for _, rc := range p.RuleCombinerParams {
		c := el.CreateElement("RuleCombinerParameters")
		c.CreateAttr("RuleIdRef", rc.RuleIDRef)
		combinerParams(c, rc.Parameters)
	}
	for _, v := range p.Variables {
		c := el.CreateElement("VariableDefinition")
		c.CreateAttr("VariableId", v.ID)
		addExpr(c, v.Expr)
	}
	for _, ru := range p.Rules {
		el.AddChild(ruleElement(ru))
	}
	obligationsAndAdvice(el, p.Obligations, p.Advice)
	appendExtensions(el, p.Extensions, nil)
	return el
}

func policySetElement(ps *PolicySet) *etree.Element {
	el := etree.NewElement("PolicySet")
	el.CreateAttr("PolicySetId", ps.ID)
	el.CreateAttr("Version", ps.Version)
	el.CreateAttr("PolicyCombiningAlgId", ps.PolicyCombiningAlgID)
	setAttr(el, "MaxDelegationDepth", ps.MaxDelegationDepth)
	text(el, "Description", ps.Description)
	if ps.XPathVersion != "" {
		el.CreateElement("PolicySetDefaults").CreateElement("XPathVersion").SetText(ps.XPathVersion)
	}
	el.AddChild(targetElement(ps.Target))
	for _, c := range ps.Children {
		switch {
		case c.Policy != nil:
			el.AddChild(policyElement(c.Policy, "Policy"))
		case c.PolicySet != nil:
			el.AddChild(policySetElement(c.PolicySet))
		case c.Ref != nil:
			tag := "PolicyIdReference"
			if c.Ref.Kind == PolicySetRef {
				tag = "PolicySetIdReference"
			}
			r := el.CreateElement(tag)
			setAttr(r, "Version", c.Ref.Version)
			setAttr(r, "EarliestVersion", c.Ref.EarliestVersion)
			setAttr(r, "LatestVersion", c.Ref.LatestVersion)
			r.SetText(c.Ref.ID)
		}
	}
	if len(ps.CombinerParameters) > 0 {
		combinerParams(el.CreateElement("CombinerParameters"), ps.CombinerParameters)
	}
	for _, cc := range ps.ChildCombinerParams {
		var c *etree.Element
		if cc.Kind == PolicySetRef {
			c = el.CreateElement("PolicySetCombinerParameters")
			c.CreateAttr("PolicySetIdRef", cc.IDRef)
		} else {
			c = el.CreateElement("PolicyCombinerParameters")
			c.CreateAttr("PolicyIdRef", cc.IDRef)
		}
		combinerParams(c, cc.Parameters)
	}
	obligationsAndAdvice(el, ps.Obligations, ps.Advice)
	return el
}

func combinerParams(el *etree.Element, ps []CombinerParameter) {
	for _, p := range ps {
		c := el.CreateElement("CombinerParameter")
		c.CreateAttr("ParameterName", p.Name)
		if p.Value != nil {
			c.AddChild(valueElement(p.Value, "AttributeValue"))
		}
	}
}

func ruleElement(r *Rule) *etree.Element {
	el := etree.NewElement("Rule")
	el.CreateAttr("RuleId", r.ID)
	el.CreateAttr("Effect", r.Effect.String())
	text(el, "Description", r.Description)
	if r.Target != nil {
		el.AddChild(targetElement(r.Target))
	}
	if r.Condition != nil {
		addExpr(el.CreateElement("Condition"), r.Condition)
	}
	obligationsAndAdvice(el, r.Obligations, r.Advice)
	return el
}

func targetElement(t *Target) *etree.Element {
	el := etree.NewElement("Target")
	if t == nil {
		return el
	}
	for _, any := range t.AnyOf {
		a := el.CreateElement("AnyOf")
		for _, all := range any.AllOf {
			b := a.CreateElement("AllOf")
			for _, m := range all.Matches {
				c := b.CreateElement("Match")
				c.CreateAttr("MatchId", m.MatchID)
				if m.Value != nil {
					c.AddChild(valueElement(m.Value, "AttributeValue"))
				}
				switch {
				case m.Designator != nil:
					addExpr(c, m.Designator)
				case m.Selector != nil:
					addExpr(c, m.Selector)
				}
			}
		}
	}
	return el
}

func obligationsAndAdvice(el *etree.Element, obs []*ObligationExpression, adv []*AdviceExpression) {
	if len(obs) > 0 {
		c := el.CreateElement("ObligationExpressions")
		for _, o := range obs {
			e := c.CreateElement("ObligationExpression")
			e.CreateAttr("ObligationId", o.ID)
			e.CreateAttr("FulfillOn", o.FulfillOn.String())
			assignments(e, o.Assignments)
		}
	}
	if len(adv) > 0 {
		c := el.CreateElement("AdviceExpressions")
		for _, a := range adv {
			e := c.CreateElement("AdviceExpression")
			e.CreateAttr("AdviceId", a.ID)
			e.CreateAttr("AppliesTo", a.AppliesTo.String())
			assignments(e, a.Assignments)
		}
	}
}

func assignments(el *etree.Element, as []*AttributeAssignmentExpression) {
	for _, a := range as {
		e := el.CreateElement("AttributeAssignmentExpression")
		e.CreateAttr("AttributeId", a.AttributeID)
		setAttr(e, "Category", a.Category)
		setAttr(e, "Issuer", a.Issuer)
		addExpr(e, a.Expr)
	}
}

func valueElement(v *AttributeValue, tag string) *etree.Element {
	el := etree.NewElement(tag)
	el.CreateAttr("DataType", v.DataType)
	for _, a := range v.Attrs {
		el.CreateAttr(a.FullKey(), a.Value)
	}
	if v.Value != "" {
		el.SetText(v.Value)
	}
	return el
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// addExpr appends the element form of an expression to el.
func addExpr(el *etree.Element, e Expression) {
	switch e := e.(type) {
	case *Apply:
		c := el.CreateElement("Apply")
		c.CreateAttr("FunctionId", e.FunctionID)
		text(c, "Description", e.Description)
		for _, a := range e.Args {
			addExpr(c, a)
		}
	case *Function:
		el.CreateElement("Function").CreateAttr("FunctionId", e.ID)
	case *AttributeValue:
		el.AddChild(valueElement(e, "AttributeValue"))
	case *AttributeDesignator:
		c := el.CreateElement("AttributeDesignator")
		c.CreateAttr("AttributeId", e.AttributeID)
		c.CreateAttr("Category", e.Category)
		c.CreateAttr("DataType", e.DataType)
		setAttr(c, "Issuer", e.Issuer)
		c.CreateAttr("MustBePresent", boolString(e.MustBePresent))
	case *AttributeSelector:
		c := el.CreateElement("AttributeSelector")
		c.CreateAttr("Category", e.Category)
		setAttr(c, "ContextSelectorId", e.ContextSelectorID)
		c.CreateAttr("Path", e.Path)
		c.CreateAttr("DataType", e.DataType)
		c.CreateAttr("MustBePresent", boolString(e.MustBePresent))
	case *VariableReference:
		el.CreateElement("VariableReference").CreateAttr("VariableId", e.ID)
	}
}
