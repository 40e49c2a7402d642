package obligations

import (
	"slices"

	"github.com/stickypolicy/sticky/policies"
	"github.com/stickypolicy/sticky/policies/xacml"
)

// XACML identifiers Delegates looks for.
const (
	subjectIDAttribute = "urn:oasis:names:tc:xacml:1.0:subject:subject-id"
	stringEqual        = "urn:oasis:names:tc:xacml:1.0:function:string-equal"
)

// Delegates returns the identities a policy document's XACML part names as
// the subject-id of a Permit rule (a string-equal Match in the rule's
// target, or in the target of its policy or of an enclosing policy set),
// sorted and without duplicates. These are the delegates told at storage
// time that they were given access (Event.Delegates). Identities named only
// in Conditions, by other functions or in nested downstream policies are
// not found: they are told when the data is disclosed to them.
func Delegates(doc *policies.Document) []string {
	if doc == nil || doc.XACML == nil {
		return nil
	}
	var out []string
	if p := doc.XACML.Policy; p != nil {
		out, _ = policyDelegates(p)
	}
	if ps := doc.XACML.PolicySet; ps != nil {
		out, _ = policySetDelegates(ps)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// policySetDelegates returns the subjects a policy set grants access to,
// and whether anything in it permits at all (the set's own target names
// delegates only then).
func policySetDelegates(ps *xacml.PolicySet) ([]string, bool) {
	var out []string
	permits := false
	for _, c := range ps.Children {
		var sub []string
		var ok bool
		switch {
		case c.Policy != nil:
			sub, ok = policyDelegates(c.Policy)
		case c.PolicySet != nil:
			sub, ok = policySetDelegates(c.PolicySet)
		}
		out, permits = append(out, sub...), permits || ok
	}
	if permits {
		out = append(out, targetSubjects(ps.Target)...)
	}
	return out, permits
}

func policyDelegates(p *xacml.Policy) ([]string, bool) {
	var out []string
	permits := false
	for _, r := range p.Rules {
		if r.Effect != xacml.Permit {
			continue
		}
		permits = true
		out = append(out, targetSubjects(r.Target)...)
	}
	if permits {
		out = append(out, targetSubjects(p.Target)...)
	}
	return out, permits
}

// targetSubjects returns the subject-id values matched with string-equal
// in a target.
func targetSubjects(t *xacml.Target) []string {
	if t == nil {
		return nil
	}
	var out []string
	for _, any := range t.AnyOf {
		for _, all := range any.AllOf {
			for _, m := range all.Matches {
				if m.MatchID == stringEqual && m.Value != nil && m.Designator != nil &&
					m.Designator.AttributeID == subjectIDAttribute && m.Value.Value != "" {
					out = append(out, m.Value.Value)
				}
			}
		}
	}
	return out
}
