package engine

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/policies/xacml"
)

const designatorPolicy = `<Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="d" Version="1.0"
 RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-unless-permit"><Target/>
<Rule RuleId="issued" Effect="Permit">
 <Condition><Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-is-in">
  <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">doctor</AttributeValue>
  <AttributeDesignator Category="urn:oasis:names:tc:xacml:1.0:subject-category:access-subject" AttributeId="urn:oasis:names:tc:xacml:2.0:subject:role"
    DataType="http://www.w3.org/2001/XMLSchema#string" Issuer="hospital" MustBePresent="true"/></Apply></Condition>
 <ObligationExpressions><ObligationExpression ObligationId="log" FulfillOn="Permit">
  <AttributeAssignmentExpression AttributeId="who"><AttributeDesignator Category="urn:oasis:names:tc:xacml:1.0:subject-category:access-subject"
    AttributeId="urn:oasis:names:tc:xacml:1.0:subject:subject-id" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/></AttributeAssignmentExpression>
  <AttributeAssignmentExpression AttributeId="until" Category="urn:x:c"><Apply FunctionId="urn:oasis:names:tc:xacml:3.0:function:dateTime-add-dayTimeDuration">
   <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:dateTime-one-and-only"><AttributeDesignator Category="urn:oasis:names:tc:xacml:3.0:attribute-category:environment"
    AttributeId="urn:oasis:names:tc:xacml:1.0:environment:current-dateTime" DataType="http://www.w3.org/2001/XMLSchema#dateTime" MustBePresent="true"/></Apply>
   <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#dayTimeDuration">P1D</AttributeValue></Apply></AttributeAssignmentExpression>
 </ObligationExpression></ObligationExpressions>
 <AdviceExpressions><AdviceExpression AdviceId="hint" AppliesTo="Permit"><AttributeAssignmentExpression AttributeId="n">
  <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#integer">3</AttributeValue></AttributeAssignmentExpression></AdviceExpression></AdviceExpressions>
</Rule></Policy>`

func TestRequestBuilderAndDesignators(t *testing.T) {
	root, err := ParsePolicy([]byte(designatorPolicy))
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p, err := Compile(root, WithClock(func() time.Time { return clock }))
	if err != nil {
		t.Fatal(err)
	}
	req := NewRequest()

	t.Run("issuer must match", func(t *testing.T) {
		req.Reset()
		req.AddIssued(CategorySubject, xacml.AttrRole, "self", false, String("doctor"))
		r := p.Evaluate(req)
		if r.Decision != Deny {
			t.Fatalf("decision %v, want Deny (deny-unless-permit over a missing attribute)", r.Decision)
		}
	})
	t.Run("permit with dynamic obligation and advice", func(t *testing.T) {
		req.Reset()
		req.Add(CategorySubject, xacml.AttrSubjectID, String("alice"))
		req.AddIssued(CategorySubject, xacml.AttrRole, "hospital", true, String("nurse"))
		req.AddIssued(CategorySubject, xacml.AttrRole, "hospital", true, String("doctor"))
		r := p.Evaluate(req)
		if r.Decision != Permit {
			t.Fatalf("decision %v (%v)", r.Decision, r.Status)
		}
		if len(r.Obligations) != 1 || len(r.Obligations[0].Attributes) != 2 {
			t.Fatalf("obligations %+v", r.Obligations)
		}
		who, until := r.Obligations[0].Attributes[0], r.Obligations[0].Attributes[1]
		if who.Value.S != "alice" || until.Category != "urn:x:c" || !until.Value.T.Equal(clock.Add(24*time.Hour)) {
			t.Errorf("assignments %+v %+v", who, until)
		}
		if len(r.Advice) != 1 || r.Advice[0].Attributes[0].Value.I != 3 {
			t.Errorf("advice %+v", r.Advice)
		}
		if len(r.Attributes) != 2 || r.Attributes[0].Issuer != "hospital" {
			t.Errorf("included attributes %+v", r.Attributes)
		}
		out, err := r.MarshalXACML()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{`<Decision>Permit</Decision>`, `ObligationId="log"`, `AdviceId="hint"`,
			`>2026-01-03T03:04:05Z<`, `IncludeInResult="true"`, `Issuer="hospital"`} {
			if !strings.Contains(string(out), s) {
				t.Errorf("response lacks %s:\n%s", s, out)
			}
		}
	})
	t.Run("request time overrides the clock", func(t *testing.T) {
		req.Reset()
		req.Now = time.Date(2030, 5, 6, 0, 0, 0, 0, time.UTC)
		req.AddIssued(CategorySubject, xacml.AttrRole, "hospital", false, String("doctor"))
		r := p.Evaluate(req)
		if got := r.Obligations[0].Attributes[0].Value.T; !got.Equal(req.Now.Add(24 * time.Hour)) {
			t.Errorf("until = %v", got)
		}
	})
}

func TestMissingAttributeDetail(t *testing.T) {
	root, err := ParsePolicy([]byte(strings.Replace(designatorPolicy, "deny-unless-permit", "deny-overrides", 1)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(root)
	if err != nil {
		t.Fatal(err)
	}
	r := p.Evaluate(NewRequest())
	if r.Decision != IndeterminateP || r.Status == nil || r.Status.Code != StatusMissingAttribute {
		t.Fatalf("got %v %+v", r.Decision, r.Status)
	}
	m := r.Status.Missing
	if len(m) != 1 || m[0].AttributeID != xacml.AttrRole || m[0].Issuer != "hospital" || m[0].DataType != xacml.TypeString {
		t.Errorf("detail %+v", m)
	}
	out, _ := r.MarshalXACML()
	if !strings.Contains(string(out), `<MissingAttributeDetail Category="urn:oasis:names:tc:xacml:1.0:subject-category:access-subject" AttributeId="urn:oasis:names:tc:xacml:2.0:subject:role" DataType="http://www.w3.org/2001/XMLSchema#string" Issuer="hospital"/>`) {
		t.Errorf("response:\n%s", out)
	}
}

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name, doc, err string
	}{
		{"not a request", `<Foo/>`, "expected a Request element"},
		{"bad value", `<Request xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17"><Attributes Category="c"><Attribute AttributeId="a" IncludeInResult="false"><AttributeValue DataType="http://www.w3.org/2001/XMLSchema#integer">x</AttributeValue></Attribute></Attributes></Request>`, "not a valid integer"},
		{"unknown type", `<Request xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17"><Attributes Category="c"><Attribute AttributeId="a"><AttributeValue DataType="urn:x">x</AttributeValue></Attribute></Attributes></Request>`, "unknown data type"},
		{"combined decision", `<Request xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" CombinedDecision="true"/>`, "Multiple Decision Profile"},
		{"bad reference", `<Request xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17"><MultiRequests><RequestReference><AttributesReference ReferenceId="nope"/></RequestReference></MultiRequests></Request>`, "AttributesReference"},
		{"hostile", `<!DOCTYPE r [<!ENTITY e "x">]><Request/>`, "refused XML"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRequest([]byte(tc.doc))
			if err == nil || !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("got %v, want an ErrBadRequest mentioning %q", err, tc.err)
			}
		})
	}
	req, err := ParseRequest([]byte(`<Request xmlns="urn:oasis:names:tc:xacml:2.0:context:schema:os"><Subject>
<Attribute AttributeId="urn:oasis:names:tc:xacml:1.0:subject:subject-id" DataType="http://www.w3.org/2001/XMLSchema#string"><AttributeValue>bob</AttributeValue></Attribute>
</Subject><Resource/><Action/><Environment/></Request>`))
	if err != nil {
		t.Fatal(err)
	}
	if req.Len() != 1 || req.attrs[0].cat != CategorySubject || req.attrs[0].v.S != "bob" {
		t.Errorf("2.0 request read as %+v", req.attrs)
	}
}

func TestParseRequestsRepeatedCategories(t *testing.T) {
	doc := `<Request xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" ReturnPolicyIdList="false" CombinedDecision="false">
<Attributes Category="s"><Attribute AttributeId="id" IncludeInResult="true"><AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">a</AttributeValue></Attribute></Attributes>
<Attributes Category="s"><Attribute AttributeId="id" IncludeInResult="true"><AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">b</AttributeValue></Attribute></Attributes>
<Attributes Category="r"><Attribute AttributeId="id" IncludeInResult="false"><AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">x</AttributeValue></Attribute></Attributes>
<Attributes Category="r"><Attribute AttributeId="id" IncludeInResult="false"><AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">y</AttributeValue></Attribute></Attributes>
</Request>`
	rs, err := ParseRequests([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs {
		got = append(got, r.Values("s", "id")[0].S+r.Values("r", "id")[0].S)
	}
	if strings.Join(got, " ") != "ax ay bx by" {
		t.Errorf("individual requests %v", got)
	}
	if _, err := ParseRequest([]byte(doc)); err == nil || !strings.Contains(err.Error(), "4 decisions") {
		t.Errorf("ParseRequest accepted a multiple request: %v", err)
	}
	out, err := MarshalResponses([]Response{{Decision: Permit}, {Decision: Deny}})
	if err != nil || strings.Count(string(out), "<Result>") != 2 {
		t.Errorf("MarshalResponses: %v\n%s", err, out)
	}
}

func TestValueConstructors(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("x", 3600))
	tests := []struct {
		v    Value
		want string
	}{
		{String("a"), "a"}, {AnyURI("urn:a"), "urn:a"}, {Boolean(true), "true"}, {Integer(-3), "-3"},
		{Double(2.5), "2.5"}, {DateTime(now), "2026-03-04T05:06:07+01:00"}, {Date(now), "2026-03-04+01:00"},
		{Time(now), "05:06:07+01:00"}, {DayTimeDuration(90 * time.Minute), "PT1H30M"}, {YearMonthDuration(14), "P1Y2M"},
		{HexBinary([]byte{0xab}), "AB"}, {Base64Binary([]byte("hi")), "aGk="}, {RFC822Name("a@b.c"), "a@b.c"},
		{X500Name("cn=a"), "cn=a"}, {IPAddress("10.0.0.1"), "10.0.0.1"}, {DNSName("example.org"), "example.org"},
	}
	for _, tc := range tests {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("%v: String() = %q, want %q", tc.v.Type, got, tc.want)
		}
		back, err := ParseValue(tc.v.Type.URI(), tc.v.String())
		if err != nil || back.String() != tc.want {
			t.Errorf("%v: round trip %q: %v %v", tc.v.Type, tc.want, back, err)
		}
	}
}

// TestConcurrentEvaluate: one compiled policy, a request per goroutine.
func TestConcurrentEvaluate(t *testing.T) {
	p := compileBench(t, 10)
	done := make(chan Decision)
	for g := 0; g < 4; g++ {
		go func() {
			req := NewRequest()
			d := Permit
			for i := 0; i < 200; i++ {
				fillBench(req, 10)
				if got := p.Evaluate(req).Decision; got != Permit {
					d = got
				}
			}
			done <- d
		}()
	}
	for g := 0; g < 4; g++ {
		if d := <-done; d != Permit {
			t.Errorf("goroutine got %v", d)
		}
	}
}
