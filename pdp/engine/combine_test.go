package engine

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stickypolicy/sticky/policies/xacml"
)

// Rule kinds for combining tests: P and D always apply, N never applies,
// IP and ID are Permit and Deny rules whose condition is Indeterminate (a
// required attribute is missing).
func kindRule(i int, kind string) string {
	const missing = `<Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-is-in"><AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">x</AttributeValue><AttributeDesignator Category="urn:x:cat" AttributeId="urn:x:missing" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="true"/></Apply>`
	effect, cond := "Permit", ""
	switch kind {
	case "D":
		effect = "Deny"
	case "N":
		cond = `<Condition><AttributeValue DataType="http://www.w3.org/2001/XMLSchema#boolean">false</AttributeValue></Condition>`
	case "IP":
		cond = "<Condition>" + missing + "</Condition>"
	case "ID":
		effect = "Deny"
		cond = "<Condition>" + missing + "</Condition>"
	}
	ob := fmt.Sprintf(`<ObligationExpressions><ObligationExpression ObligationId="ob-%d" FulfillOn="%s"/></ObligationExpressions>`, i, effect)
	return fmt.Sprintf(`<Rule RuleId="r%d" Effect="%s">%s%s</Rule>`, i, effect, cond, ob)
}

func combinePolicy(alg string, kinds []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="c" Version="1.0" RuleCombiningAlgId="%s"><Target/>`, alg)
	for i, k := range kinds {
		b.WriteString(kindRule(i, k))
	}
	b.WriteString(`</Policy>`)
	return b.String()
}

// policySetOf wraps one single-rule policy per kind in a policy set.
func policySetOf(alg string, kinds []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<PolicySet xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicySetId="s" Version="1.0" PolicyCombiningAlgId="%s"><Target/>`, alg)
	for i, k := range kinds {
		target := "<Target/>"
		if k == "T" { // a Permit policy whose target does not match
			k = "P"
			target = `<Target><AnyOf><AllOf><Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal"><AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">x</AttributeValue><AttributeDesignator Category="urn:x:cat" AttributeId="urn:x:absent" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/></Match></AllOf></AnyOf></Target>`
		}
		fmt.Fprintf(&b, `<Policy PolicyId="p%d" Version="1.0" RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides">%s%s</Policy>`, i, target, kindRule(i, k))
	}
	b.WriteString(`</PolicySet>`)
	return b.String()
}

func decide(t *testing.T, src string) Response {
	t.Helper()
	root, err := ParsePolicy([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(root)
	if err != nil {
		t.Fatal(err)
	}
	return p.Evaluate(NewRequest())
}

func obligationIDs(r Response) string {
	var ids []string
	for _, o := range r.Obligations {
		ids = append(ids, o.ID)
	}
	return strings.Join(ids, ",")
}

func TestCombiningAlgorithms(t *testing.T) {
	const (
		r30 = "urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:"
		r10 = "urn:oasis:names:tc:xacml:1.0:rule-combining-algorithm:"
		r11 = "urn:oasis:names:tc:xacml:1.1:rule-combining-algorithm:"
	)
	tests := []struct {
		alg   string
		kinds string
		want  Decision
		obs   string
	}{
		{r30 + "deny-overrides", "P D P", Deny, "ob-1"},
		{r30 + "deny-overrides", "P N P", Permit, "ob-0,ob-2"},
		{r30 + "deny-overrides", "N N", NotApplicable, ""},
		{r30 + "deny-overrides", "ID P", IndeterminateDP, ""},
		{r30 + "deny-overrides", "ID N", IndeterminateD, ""},
		{r30 + "deny-overrides", "IP N", IndeterminateP, ""},
		{r30 + "deny-overrides", "IP P", Permit, "ob-1"},
		{r30 + "deny-overrides", "IP ID D", Deny, "ob-2"},
		{r30 + "ordered-deny-overrides", "P D", Deny, "ob-1"},
		{r30 + "permit-overrides", "D P D", Permit, "ob-1"},
		{r30 + "permit-overrides", "D N D", Deny, "ob-0,ob-2"},
		{r30 + "permit-overrides", "IP D", IndeterminateDP, ""},
		{r30 + "permit-overrides", "ID D", Deny, "ob-1"},
		{r30 + "permit-overrides", "ID N", IndeterminateD, ""},
		{r30 + "ordered-permit-overrides", "IP N", IndeterminateP, ""},
		{r30 + "deny-unless-permit", "N ID", Deny, ""},
		{r30 + "deny-unless-permit", "D D", Deny, "ob-0,ob-1"},
		{r30 + "deny-unless-permit", "D P", Permit, "ob-1"},
		{r30 + "permit-unless-deny", "N IP", Permit, ""},
		{r30 + "permit-unless-deny", "P D", Deny, "ob-1"},
		{r10 + "first-applicable", "N D P", Deny, "ob-1"},
		{r10 + "first-applicable", "N IP P", IndeterminateP, ""},
		{r10 + "first-applicable", "N N", NotApplicable, ""},
		// XACML 1.0 deny-overrides: an Indeterminate Permit rule is ignored
		// when a Permit rule applies; an Indeterminate Deny rule is a
		// potential Deny.
		{r10 + "deny-overrides", "IP P", Permit, "ob-1"},
		{r10 + "deny-overrides", "ID P", IndeterminateDP, ""},
		{r10 + "deny-overrides", "ID N", IndeterminateD, ""},
		{r10 + "deny-overrides", "IP N", IndeterminateP, ""},
		{r10 + "permit-overrides", "ID D", Deny, "ob-1"},
		{r10 + "permit-overrides", "IP D", IndeterminateDP, ""},
		{r11 + "ordered-deny-overrides", "P D", Deny, "ob-1"},
		{r11 + "ordered-permit-overrides", "D P", Permit, "ob-1"},
	}
	for _, tc := range tests {
		name := tc.alg[strings.LastIndex(tc.alg, "xacml:")+6:] + " " + tc.kinds
		t.Run(name, func(t *testing.T) {
			r := decide(t, combinePolicy(tc.alg, strings.Fields(tc.kinds)))
			if r.Decision != tc.want {
				t.Fatalf("decision %v, want %v", r.Decision, tc.want)
			}
			if got := obligationIDs(r); got != tc.obs {
				t.Errorf("obligations %q, want %q", got, tc.obs)
			}
			if r.Decision.IsIndeterminate() && (r.Status == nil || r.Status.Code != StatusMissingAttribute || len(r.Status.Missing) != 1) {
				t.Errorf("status %+v, want missing-attribute with detail", r.Status)
			}
		})
	}
}

func TestPolicyCombiningAlgorithms(t *testing.T) {
	const (
		p30 = "urn:oasis:names:tc:xacml:3.0:policy-combining-algorithm:"
		p10 = "urn:oasis:names:tc:xacml:1.0:policy-combining-algorithm:"
	)
	tests := []struct {
		alg   string
		kinds string
		want  Decision
		obs   string
	}{
		{p30 + "deny-overrides", "P D", Deny, "ob-1"},
		{p30 + "deny-overrides", "ID P", IndeterminateDP, ""},
		{p30 + "permit-overrides", "D P", Permit, "ob-1"},
		{p30 + "deny-unless-permit", "ID", Deny, ""},
		{p30 + "permit-unless-deny", "ID", Permit, ""},
		{p10 + "first-applicable", "N P D", Permit, "ob-1"},
		{p10 + "only-one-applicable", "T P T", Permit, "ob-1"},
		{p10 + "only-one-applicable", "T T", NotApplicable, ""},
		{p10 + "only-one-applicable", "N P", IndeterminateDP, ""}, // both targets match
		{p10 + "only-one-applicable", "P D", IndeterminateDP, ""},
		// XACML 1.0 policy deny-overrides: an Indeterminate policy is a Deny.
		{p10 + "deny-overrides", "P ID", Deny, ""},
		{p10 + "permit-overrides", "D ID", Deny, "ob-0"},
		{p10 + "permit-overrides", "N ID", IndeterminateDP, ""},
	}
	for _, tc := range tests {
		name := tc.alg[strings.LastIndex(tc.alg, "xacml:")+6:] + " " + tc.kinds
		t.Run(name, func(t *testing.T) {
			r := decide(t, policySetOf(tc.alg, strings.Fields(tc.kinds)))
			if r.Decision != tc.want {
				t.Fatalf("decision %v (%v), want %v", r.Decision, r.Status, tc.want)
			}
			if got := obligationIDs(r); got != tc.obs {
				t.Errorf("obligations %q, want %q", got, tc.obs)
			}
		})
	}
}

func TestUnknownCombiningAlgorithmRejected(t *testing.T) {
	_, err := ParsePolicy([]byte(combinePolicy("urn:oasis:names:tc:xacml:1.0:rule-combining-algorithm:only-one-applicable", []string{"P"})))
	if err == nil || !strings.Contains(err.Error(), "unknown rule-combining algorithm") {
		t.Fatalf("only-one-applicable is not a rule-combining algorithm; got %v", err)
	}
	if _, ok := xacml.LookupCombiningAlg("urn:oasis:names:tc:xacml:1.0:policy-combining-algorithm:only-one-applicable", false); !ok {
		t.Fatal("only-one-applicable policy algorithm not known")
	}
}
