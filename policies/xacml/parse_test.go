package xacml

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stickypolicy/sticky/policies/xmlsafe"
)

func parseString(t testing.TB, s string) (*Root, error) {
	t.Helper()
	doc, err := xmlsafe.Parse([]byte(s), xmlsafe.DefaultLimits)
	if err != nil {
		return nil, err
	}
	return Parse(doc.Root())
}

func serialize(t testing.TB, r *Root) string {
	t.Helper()
	s, err := r.Document().WriteToString()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRoundTripConformancePolicies parses every policy of the conformance
// suite that must load, serializes it, parses the result and checks that a
// second serialization is identical.
func TestRoundTripConformancePolicies(t *testing.T) {
	files, _ := filepath.Glob("../../pdp/testdata/xacml-3.0/xacml-3.0-from-2.0-ct/*/*/Policy.xml")
	more, _ := filepath.Glob("../../pdp/testdata/xacml-3.0/xacml-3.0-from-2.0-ct/*/*/*/Policy.xml")
	files = append(files, more...)
	if len(files) < 400 {
		t.Fatalf("found only %d conformance policies", len(files))
	}
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r, err := parseString(t, string(data))
		if err != nil {
			continue // rejected policies are the engine tests' business
		}
		n++
		s1 := serialize(t, r)
		r2, err := parseString(t, s1)
		if err != nil {
			t.Errorf("%s: re-parse failed: %v\n%s", f, err, s1)
			continue
		}
		if s2 := serialize(t, r2); s2 != s1 {
			t.Errorf("%s: round trip not stable:\n%s\n---\n%s", f, s1, s2)
		}
	}
	t.Logf("%d policies round-tripped", n)
}

func TestParseProblems(t *testing.T) {
	const head = `<Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="p" RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides">`
	tests := []struct {
		name, doc, elem, attr, value, msg string
		line                              int
	}{
		{"unknown alg", `<Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="p"
 RuleCombiningAlgId="urn:x:nope"><Target/></Policy>`, "Policy", "RuleCombiningAlgId", "urn:x:nope", "unknown rule-combining algorithm", 1},
		{"missing id", `<Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides"/>`, "Policy", "PolicyId", "", "required", 1},
		{"unknown function", head + "\n<Target/>\n<Rule RuleId=\"r\" Effect=\"Permit\"><Condition>\n<Apply FunctionId=\"urn:oasis:names:tc:xacml:1.0:function:string-frobnicate\"/></Condition></Rule></Policy>", "Apply", "FunctionId", "urn:oasis:names:tc:xacml:1.0:function:string-frobnicate", "unknown function", 4},
		{"unknown datatype", head + "<Target/><Rule RuleId=\"r\" Effect=\"Permit\"><Condition><AttributeValue DataType=\"urn:x:type\">1</AttributeValue></Condition></Rule></Policy>", "AttributeValue", "DataType", "urn:x:type", "unknown data type", 1},
		{"bad integer", head + "<Target/><Rule RuleId=\"r\" Effect=\"Permit\"><Condition><AttributeValue DataType=\"http://www.w3.org/2001/XMLSchema#integer\">12x</AttributeValue></Condition></Rule></Policy>", "AttributeValue", "", "12x", "not a valid integer", 1},
		{"bad effect", head + "<Target/><Rule RuleId=\"r\" Effect=\"Maybe\"/></Policy>", "Rule", "Effect", "Maybe", "Permit or Deny", 1},
		{"duplicate rule", head + "<Target/><Rule RuleId=\"r\" Effect=\"Permit\"/>\n<Rule RuleId=\"r\" Effect=\"Deny\"/></Policy>", "Rule", "RuleId", "r", "duplicate RuleId", 2},
		{"undefined variable", head + "<Target/><Rule RuleId=\"r\" Effect=\"Permit\"><Condition><VariableReference VariableId=\"v\"/></Condition></Rule></Policy>", "VariableReference", "VariableId", "v", "no VariableDefinition", 1},
		{"circular variable", head + "<Target/><VariableDefinition VariableId=\"a\"><VariableReference VariableId=\"b\"/></VariableDefinition><VariableDefinition VariableId=\"b\"><VariableReference VariableId=\"a\"/></VariableDefinition></Policy>", "VariableDefinition", "VariableId", "a", "circular", 1},
		{"not a policy", `<Foo/>`, "Foo", "", "", "must be an XACML Policy or PolicySet", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseString(t, tc.doc)
			var ve *xmlsafe.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want a ValidationError, got %v", err)
			}
			if !errors.Is(err, xmlsafe.ErrInvalid) {
				t.Error("error does not wrap ErrInvalid")
			}
			for _, p := range ve.Problems {
				if p.Element == tc.elem && p.Attribute == tc.attr && p.Value == tc.value && strings.Contains(p.Message, tc.msg) && p.Line == tc.line {
					return
				}
			}
			t.Errorf("no problem <%s> %s=%q line %d %q in %v", tc.elem, tc.attr, tc.value, tc.line, tc.msg, err)
		})
	}
}

const pplDoc = `<ppl:Policy xmlns="urn:oasis:names:tc:xacml:2.0:policy:schema:os" xmlns:ppl="http://www.primelife.eu/ppl"
    xmlns:ob="http://www.primelife.eu/ppl/obligation" PolicyId="alice-report"
    RuleCombiningAlgId="urn:oasis:names:tc:xacml:1.0:rule-combining-algorithm:permit-overrides">
  <Target/>
  <Rule RuleId="delegates" Effect="Permit">
    <Target><Subjects><Subject>
      <SubjectMatch MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal">
        <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">bob@example.org</AttributeValue>
        <SubjectAttributeDesignator DataType="http://www.w3.org/2001/XMLSchema#string"
            AttributeId="urn:oasis:names:tc:xacml:1.0:subject:subject-id"/>
      </SubjectMatch>
    </Subject></Subjects></Target>
  </Rule>
  <ppl:DataHandlingPreferences>
    <ppl:AuthorizationsSet><ppl:AuthzDownstreamUsage allowed="false"/></ppl:AuthorizationsSet>
  </ppl:DataHandlingPreferences>
</ppl:Policy>`

func TestParsePPLPolicy(t *testing.T) {
	r, err := parseString(t, pplDoc)
	if err != nil {
		t.Fatal(err)
	}
	if r.Policy == nil || r.Policy.ID != "alice-report" || len(r.Policy.Rules) != 1 {
		t.Fatalf("bad model %+v", r.Policy)
	}
	m := r.Policy.Rules[0].Target.AnyOf[0].AllOf[0].Matches[0]
	if m.Designator.Category != CategoryAccessSubject || m.Designator.AttributeID != AttrSubjectID || m.Value.Value != "bob@example.org" {
		t.Errorf("2.0 SubjectMatch not converted: %+v %+v", m.Designator, m.Value)
	}
	if len(r.Extensions) != 1 || r.Extensions[0].FullTag() != "ppl:DataHandlingPreferences" {
		t.Fatalf("extensions = %v", r.Extensions)
	}
	s1 := serialize(t, r)
	if !strings.Contains(s1, "<ppl:Policy") || !strings.Contains(s1, "<ppl:DataHandlingPreferences>") || !strings.Contains(s1, `xmlns="`+NS30+`"`) {
		t.Errorf("serialized form lost the PPL root or extensions:\n%s", s1)
	}
	r2, err := parseString(t, s1)
	if err != nil {
		t.Fatal(err)
	}
	if s2 := serialize(t, r2); s2 != s1 {
		t.Errorf("not stable:\n%s\n---\n%s", s1, s2)
	}
}

func TestNestedPPLPolicyKeepsExtensions(t *testing.T) {
	doc := `<PolicySet xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicySetId="s" PolicyCombiningAlgId="urn:oasis:names:tc:xacml:1.0:policy-combining-algorithm:first-applicable"><Target/>` +
		strings.Replace(strings.Replace(pplDoc, `xmlns="urn:oasis:names:tc:xacml:2.0:policy:schema:os" `, "", 1), "<Target/>", "<Target/>", 1) + `</PolicySet>`
	r, err := parseString(t, doc)
	if err != nil {
		t.Fatal(err)
	}
	p := r.PolicySet.Children[0].Policy
	if p == nil || len(p.Extensions) != 1 || p.Extensions[0].Tag != "DataHandlingPreferences" || len(r.Extensions) != 0 {
		t.Fatalf("nested extensions not kept: %+v", r.PolicySet.Children[0])
	}
	s1 := serialize(t, r)
	r2, err := parseString(t, s1)
	if err != nil {
		t.Fatalf("%v\n%s", err, s1)
	}
	if s2 := serialize(t, r2); s2 != s1 {
		t.Errorf("not stable:\n%s\n---\n%s", s1, s2)
	}
}
