package engine

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/stickypolicy/sticky/policies/xacml"
)

// randomPolicy builds a policy of n rules whose targets constrain subject-id
// and role in the shapes the rule index handles (and some it must not).
func randomPolicy(rng *rand.Rand, n int, alg string) string {
	var subjects, roles []string
	for i := 0; i < 30; i++ {
		subjects = append(subjects, fmt.Sprint("s", i))
	}
	for i := 0; i < 10; i++ {
		roles = append(roles, fmt.Sprint("r", i))
	}
	m := func(id, val, extra string) string {
		return fmt.Sprintf(`<Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal"><AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">%s</AttributeValue><AttributeDesignator Category="%s" AttributeId="%s" DataType="http://www.w3.org/2001/XMLSchema#string" %s/></Match>`,
			val, CategorySubject, id, extra)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="rnd" RuleCombiningAlgId="%s"><Target/>`, alg)
	for i := 0; i < n; i++ {
		effect := "Permit"
		if rng.Intn(3) == 0 {
			effect = "Deny"
		}
		fmt.Fprintf(&b, `<Rule RuleId="r%d" Effect="%s">`, i, effect)
		switch rng.Intn(12) {
		case 0: // no target
		case 1: // subject or role: two AllOf on different attributes
			fmt.Fprintf(&b, `<Target><AnyOf><AllOf>%s</AllOf><AllOf>%s</AllOf></AnyOf></Target>`,
				m(xacml.AttrSubjectID, subjects[rng.Intn(len(subjects))], ""), m(xacml.AttrRole, roles[rng.Intn(len(roles))], ""))
		case 2: // required attribute: never indexed
			fmt.Fprintf(&b, `<Target><AnyOf><AllOf>%s</AllOf></AnyOf></Target>`, m(xacml.AttrSubjectID, subjects[rng.Intn(len(subjects))], `MustBePresent="true"`))
		case 3: // issuer: never indexed
			fmt.Fprintf(&b, `<Target><AnyOf><AllOf>%s</AllOf></AnyOf></Target>`, m(xacml.AttrRole, roles[rng.Intn(len(roles))], `Issuer="hr"`))
		case 4: // role
			fmt.Fprintf(&b, `<Target><AnyOf><AllOf>%s</AllOf><AllOf>%s</AllOf></AnyOf></Target>`, m(xacml.AttrRole, roles[rng.Intn(len(roles))], ""), m(xacml.AttrRole, roles[rng.Intn(len(roles))], ""))
		default: // subject and role
			fmt.Fprintf(&b, `<Target><AnyOf><AllOf>%s</AllOf></AnyOf><AnyOf><AllOf>%s</AllOf></AnyOf></Target>`,
				m(xacml.AttrSubjectID, subjects[rng.Intn(len(subjects))], ""), m(xacml.AttrRole, roles[rng.Intn(len(roles))], ""))
		}
		fmt.Fprintf(&b, `<ObligationExpressions><ObligationExpression ObligationId="o%d" FulfillOn="%s"/></ObligationExpressions></Rule>`, i, effect)
	}
	b.WriteString(`</Policy>`)
	return b.String()
}

// TestRuleIndexAgreesWithScan evaluates random policies with and without
// the rule index: decisions, statuses and obligations must be identical.
func TestRuleIndexAgreesWithScan(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	algs := []string{
		"urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides",
		"urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:permit-overrides",
		"urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-unless-permit",
		"urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:permit-unless-deny",
		"urn:oasis:names:tc:xacml:1.0:rule-combining-algorithm:first-applicable",
		"urn:oasis:names:tc:xacml:1.0:rule-combining-algorithm:deny-overrides",
		"urn:oasis:names:tc:xacml:1.0:rule-combining-algorithm:permit-overrides",
	}
	indexed := 0
	for round := 0; round < 60; round++ {
		src := randomPolicy(rng, 20+rng.Intn(100), algs[round%len(algs)])
		root, err := ParsePolicy([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		fast, err := Compile(root)
		if err != nil {
			t.Fatal(err)
		}
		slow, err := Compile(root, func(o *options) { o.noIndex = true })
		if err != nil {
			t.Fatal(err)
		}
		if fast.root.(*cPolicy).index != nil {
			indexed++
		}
		r1, r2 := NewRequest(), NewRequest()
		for q := 0; q < 40; q++ {
			r1.Reset()
			for k := rng.Intn(3); k > 0; k-- {
				r1.Add(CategorySubject, xacml.AttrSubjectID, String(fmt.Sprint("s", rng.Intn(32))))
			}
			for k := rng.Intn(3); k > 0; k-- {
				issuer := ""
				if rng.Intn(3) == 0 {
					issuer = "hr"
				}
				r1.AddIssued(CategorySubject, xacml.AttrRole, issuer, false, String(fmt.Sprint("r", rng.Intn(11))))
			}
			r2.Reset()
			r2.attrs = append(r2.attrs, r1.attrs...)
			a, b := fast.Evaluate(r1), slow.Evaluate(r2)
			if a.Decision != b.Decision || obligationIDs(a) != obligationIDs(b) || (a.Status == nil) != (b.Status == nil) {
				t.Fatalf("round %d query %d: indexed %v %q, scan %v %q\n%v", round, q, a.Decision, obligationIDs(a), b.Decision, obligationIDs(b), r1.attrs)
			}
		}
	}
	t.Logf("%d of 60 random policies got an index", indexed)
	if indexed < 20 {
		t.Errorf("only %d of 60 random policies got an index", indexed)
	}
}
