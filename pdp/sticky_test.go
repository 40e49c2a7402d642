package pdp

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/policies"
)

const (
	dpv         = policies.DPVPrefix
	xacmlNS     = `xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17"`
	pplNS       = `xmlns:ppl="http://www.primelife.eu/ppl" xmlns:ob="http://www.primelife.eu/ppl/obligation"`
	stringType  = "http://www.w3.org/2001/XMLSchema#string"
	subjectCat  = "urn:oasis:names:tc:xacml:1.0:subject-category:access-subject"
	actionCat   = "urn:oasis:names:tc:xacml:3.0:attribute-category:action"
	permitOverr = "urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:permit-overrides"
)

// match is a XACML 3.0 Match of a string attribute.
func match(cat, id, value string) string {
	return fmt.Sprintf(`<AnyOf><AllOf><Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal">
<AttributeValue DataType="%s">%s</AttributeValue>
<AttributeDesignator AttributeId="%s" Category="%s" DataType="%s" MustBePresent="false"/></Match></AllOf></AnyOf>`,
		stringType, value, id, cat, stringType)
}

// rule permits (or denies) requests matching all the given matches.
func rule(id, effect string, matches ...string) string {
	return fmt.Sprintf(`<Rule RuleId="%s" Effect="%s"><Target>%s</Target></Rule>`, id, effect, strings.Join(matches, ""))
}

// typicalRules returns n rules: n-1 for named users doing named actions
// and, last, one for the controller role reading.
func typicalRules(n int) string {
	var b strings.Builder
	for i := range n - 1 {
		b.WriteString(rule(fmt.Sprintf("user-%d", i), "Permit",
			match(subjectCat, AttrSubjectID, fmt.Sprintf("user-%d@example.org", i)),
			match(actionCat, AttrActionID, "update")))
	}
	b.WriteString(rule("controllers-read", "Permit", match(subjectCat, AttrRole, "controller"), match(actionCat, AttrActionID, "read")))
	return b.String()
}

// pplDoc builds a ppl:Policy with the given XACML children and data
// handling parts.
func pplDoc(id, xacmlChildren, dataHandling string) string {
	return fmt.Sprintf(`<ppl:Policy %s %s PolicyId="%s" RuleCombiningAlgId="%s"><Target/>%s%s</ppl:Policy>`,
		xacmlNS, pplNS, id, permitOverr, xacmlChildren, dataHandling)
}

// terms builds a ppl:StickyPolicy with purposes, a downstream element and
// obligations.
func terms(purposes []string, downstream string, obligations ...string) string {
	var b strings.Builder
	b.WriteString("<ppl:StickyPolicy><ppl:AuthorizationsSet>")
	if len(purposes) > 0 {
		b.WriteString("<ppl:AuthzUseForPurpose>")
		for _, p := range purposes {
			b.WriteString("<ppl:Purpose>" + p + "</ppl:Purpose>")
		}
		b.WriteString("</ppl:AuthzUseForPurpose>")
	}
	b.WriteString(downstream + "</ppl:AuthorizationsSet>")
	if len(obligations) > 0 {
		b.WriteString("<ob:ObligationsSet>" + strings.Join(obligations, "") + "</ob:ObligationsSet>")
	}
	b.WriteString("</ppl:StickyPolicy>")
	return b.String()
}

func deleteAfter(start, delay string) string {
	return `<ob:Obligation><ob:TriggersSet><ob:TriggerAtTime><ob:Start>` + start + `</ob:Start><ob:MaxDelay><ob:Duration>` + delay +
		`</ob:Duration></ob:MaxDelay></ob:TriggerAtTime></ob:TriggersSet><ob:ActionDeletePersonalData/></ob:Obligation>`
}

const now = "<ob:StartNow/>"

func compile(t testing.TB, xml string, opts ...StickyOption) *StickyPolicy {
	t.Helper()
	doc, err := policies.Parse([]byte(xml))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, xml)
	}
	p, err := CompileSticky(doc, opts...)
	if err != nil {
		t.Fatalf("CompileSticky: %v", err)
	}
	return p
}

var (
	t0       = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	threeDPV = []string{dpv + "ServiceProvision", dpv + "Marketing", dpv + "ResearchAndDevelopment"}
)

// carriers is a nested downstream policy permitting carrier.example.
var carriers = `<ppl:Policy PolicyId="carriers" RuleCombiningAlgId="` + permitOverr + `"><Target/>` +
	rule("carrier", "Permit", match(subjectCat, AttrSubjectID, "carrier.example")) + `</ppl:Policy>`

func TestDecide(t *testing.T) {
	typical := compile(t, pplDoc("typical", typicalRules(10), terms(threeDPV, `<ppl:AuthzDownstreamUsage allowed="false"/>`, deleteAfter(now, "P30D"))))
	downstream := compile(t, pplDoc("down", typicalRules(2)+rule("disclose", "Permit", match(actionCat, AttrActionID, "disclose")),
		terms(threeDPV, `<ppl:AuthzDownstreamUsage allowed="true">`+carriers+`</ppl:AuthzDownstreamUsage>`)))
	downstreamAny := compile(t, pplDoc("down-any", rule("all", "Permit"), terms(threeDPV, `<ppl:AuthzDownstreamUsage allowed="true"/>`)))
	noDownstream := compile(t, pplDoc("no-down", rule("all", "Permit"), terms(threeDPV, "")))
	denying := compile(t, strings.Replace(pplDoc("denying", rule("no-mallory", "Deny", match(subjectCat, AttrSubjectID, "mallory"))+rule("all", "Permit"),
		terms(threeDPV, "")), "permit-overrides", "deny-overrides", 1))
	indeterminate := compile(t, pplDoc("needs-clearance", `<Rule RuleId="clearance" Effect="Permit"><Target><AnyOf><AllOf>
<Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal"><AttributeValue DataType="`+stringType+`">secret</AttributeValue>
<AttributeDesignator AttributeId="urn:example:clearance" Category="`+subjectCat+`" DataType="`+stringType+`" MustBePresent="true"/>
</Match></AllOf></AnyOf></Target></Rule>`, terms(threeDPV, "")))
	xacmlOnly := compile(t, `<Policy `+xacmlNS+` PolicyId="plain" RuleCombiningAlgId="`+permitOverr+`"><Target/>`+rule("all", "Permit")+`</Policy>`)
	purposeRule := compile(t, pplDoc("purpose-rule", rule("research-only", "Permit", match(actionCat, AttrPurpose, dpv+"ResearchAndDevelopment")),
		terms([]string{policies.PurposeAny}, "")))
	purposeURIRule := compile(t, pplDoc("purpose-uri-rule", `<Rule RuleId="research-only" Effect="Permit"><Target><AnyOf><AllOf>
<Match MatchId="urn:oasis:names:tc:xacml:1.0:function:anyURI-equal"><AttributeValue DataType="http://www.w3.org/2001/XMLSchema#anyURI">`+dpv+`ResearchAndDevelopment</AttributeValue>
<AttributeDesignator AttributeId="`+AttrPurpose+`" Category="`+actionCat+`" DataType="http://www.w3.org/2001/XMLSchema#anyURI" MustBePresent="false"/>
</Match></AllOf></AnyOf></Target></Rule>`, terms(threeDPV, "")))
	withObligation := compile(t, pplDoc("with-obligation", `<Rule RuleId="all" Effect="Permit"><ObligationExpressions>
<ObligationExpression ObligationId="urn:example:audit" FulfillOn="Permit"><AttributeAssignmentExpression AttributeId="urn:example:why">
<AttributeValue DataType="`+stringType+`">audited</AttributeValue></AttributeAssignmentExpression></ObligationExpression>
</ObligationExpressions></Rule>`, terms(threeDPV, "")))
	tax, err := policies.NewTaxonomy(policies.PurposeDef{IRI: "https://shop.example/p#Loyalty", Parent: dpv + "Marketing"})
	if err != nil {
		t.Fatal(err)
	}
	operator := compile(t, pplDoc("operator", rule("all", "Permit"), terms([]string{dpv + "Marketing"}, "")), WithTaxonomy(tax))
	fixedDeadline := compile(t, pplDoc("fixed", rule("all", "Permit"), terms(threeDPV, "", deleteAfter("<ob:DateAndTime>2026-04-01T00:00:00Z</ob:DateAndTime>", "PT0S"))))

	ctrl := AccessRequest{Subject: "shop.example", Roles: []string{"controller"}, Resource: "rec-1", Action: ActionRead,
		Purpose: dpv + "ServiceProvision", Time: t0.Add(time.Hour), StoredAt: t0}
	with := func(f func(*AccessRequest)) AccessRequest {
		r := ctrl
		f(&r)
		return r
	}
	tests := []struct {
		name   string
		p      *StickyPolicy
		req    AccessRequest
		want   Decision
		reason string // substring of Result.Reason (empty on Permit)
	}{
		// Permits.
		{"controller reads for an allowed purpose", typical, ctrl, Permit, ""},
		{"purpose covered through the taxonomy", typical, with(func(r *AccessRequest) { r.Purpose = dpv + "TargetedAdvertising" }), Permit, ""},
		{"named user updates", typical, with(func(r *AccessRequest) {
			r.Subject, r.Roles, r.Action = "user-3@example.org", nil, ActionUpdate
		}), Permit, ""},
		{"owner reads without purpose", typical, AccessRequest{Subject: "alice", Owner: true, Resource: "rec-1", Action: ActionRead, Time: t0.Add(time.Hour), StoredAt: t0}, Permit, ""},
		{"owner updates without purpose", typical, AccessRequest{Subject: "alice", Owner: true, Resource: "rec-1", Action: ActionUpdate, Time: t0, StoredAt: t0}, Permit, ""},
		{"owner reads a plain XACML record", xacmlOnly, AccessRequest{Subject: "alice", Owner: true, Resource: "rec-1", Action: ActionRead, Time: t0, StoredAt: t0}, Permit, ""},
		{"last moment before the deadline", typical, with(func(r *AccessRequest) { r.Time = t0.AddDate(0, 0, 30).Add(-time.Nanosecond) }), Permit, ""},
		{"disclose to a recipient the nested policy permits", downstream, with(func(r *AccessRequest) {
			r.Action, r.Recipient = ActionDisclose, "carrier.example"
		}), Permit, ""},
		{"disclose to anyone without nested policy", downstreamAny, with(func(r *AccessRequest) {
			r.Action, r.Recipient = ActionDisclose, "anyone.example"
		}), Permit, ""},
		{"purpose tested by the XACML part (string)", purposeRule, with(func(r *AccessRequest) { r.Purpose = dpv + "ResearchAndDevelopment" }), Permit, ""},
		{"purpose tested by the XACML part (anyURI)", purposeURIRule, with(func(r *AccessRequest) { r.Purpose = dpv + "ResearchAndDevelopment" }), Permit, ""},
		{"operator purpose under an allowed one", operator, with(func(r *AccessRequest) { r.Purpose = "https://shop.example/p#Loyalty" }), Permit, ""},
		{"no retention obligation, years later", noDownstream, with(func(r *AccessRequest) { r.Time = t0.AddDate(10, 0, 0) }), Permit, ""},

		// Denials.
		{"past the retention deadline", typical, with(func(r *AccessRequest) { r.Time = t0.AddDate(0, 0, 31) }), Deny,
			"retention period of this data ended at 2026-04-09T09:00:00Z"},
		{"exactly at the deadline", typical, with(func(r *AccessRequest) { r.Time = t0.AddDate(0, 0, 30) }), Deny, "retention period"},
		{"owner past the deadline", typical, AccessRequest{Subject: "alice", Owner: true, Resource: "rec-1", Action: ActionRead,
			Time: t0.AddDate(1, 0, 0), StoredAt: t0}, Deny, "never served"},
		{"fixed-date deadline passed", fixedDeadline, with(func(r *AccessRequest) { r.Time = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC) }), Deny,
			"ended at 2026-04-01T00:00:00Z"},
		{"no time", typical, with(func(r *AccessRequest) { r.Time = time.Time{} }), Deny, "carries no time"},
		{"owner without time", typical, AccessRequest{Subject: "alice", Owner: true, Resource: "rec-1", Action: ActionRead, StoredAt: t0}, Deny, "carries no time"},
		{"no purpose declared", typical, with(func(r *AccessRequest) { r.Purpose = "" }), Deny, "no purpose was declared"},
		{"unknown action", typical, with(func(r *AccessRequest) { r.Action = "sell" }), Deny, `unknown action "sell"`},
		{"XACML not applicable", typical, with(func(r *AccessRequest) { r.Subject, r.Roles = "eve", []string{"subject"} }), Deny,
			`no rule of the XACML policy "typical" permits eve the action read`},
		{"XACML action not permitted", typical, with(func(r *AccessRequest) { r.Action = ActionDelete }), Deny, "the action delete"},
		{"XACML deny", denying, with(func(r *AccessRequest) { r.Subject = "mallory" }), Deny, `the XACML policy "denying" denies mallory`},
		{"XACML indeterminate", indeterminate, ctrl, Deny, "could not be evaluated"},
		{"purpose not allowed", typical, with(func(r *AccessRequest) { r.Purpose = dpv + "FraudPreventionAndDetection" }), Deny,
			"purpose https://w3id.org/dpv#FraudPreventionAndDetection is not allowed by the sticky policy (allowed: https://w3id.org/dpv#ServiceProvision, https://w3id.org/dpv#Marketing, https://w3id.org/dpv#ResearchAndDevelopment)"},
		{"parent purpose not allowed", operator, with(func(r *AccessRequest) { r.Purpose = dpv + "Purpose" }), Deny, "not allowed"},
		{"operator purpose unknown to the default taxonomy", compile(t, pplDoc("default-tax", rule("all", "Permit"), terms([]string{dpv + "Marketing"}, ""))),
			with(func(r *AccessRequest) { r.Purpose = "https://shop.example/p#Loyalty" }), Deny, "not allowed"},
		{"purpose rejected by the XACML part", purposeRule, with(func(r *AccessRequest) { r.Purpose = dpv + "Marketing" }), Deny, "no rule"},
		{"plain XACML allows no purpose", xacmlOnly, ctrl, Deny, "no data handling part, so it allows no purpose"},
		{"disclose not allowed", typical, with(func(r *AccessRequest) { r.Action, r.Recipient = ActionDisclose, "carrier.example" }), Deny, "no rule"},
		{"disclose without downstream element", noDownstream, with(func(r *AccessRequest) { r.Action, r.Recipient = ActionDisclose, "carrier.example" }), Deny,
			"does not allow passing the data on"},
		{"disclose with allowed=false", compile(t, pplDoc("down-false", rule("all", "Permit"), terms(threeDPV, `<ppl:AuthzDownstreamUsage allowed="false"/>`))),
			with(func(r *AccessRequest) { r.Action, r.Recipient = ActionDisclose, "carrier.example" }), Deny, "does not allow passing the data on"},
		{"disclose without recipient", downstreamAny, with(func(r *AccessRequest) { r.Action = ActionDisclose }), Deny, "needs a recipient"},
		{"disclose to a recipient the nested policy does not permit", downstream, with(func(r *AccessRequest) {
			r.Action, r.Recipient = ActionDisclose, "broker.example"
		}), Deny, `no rule of the downstream XACML policy "carriers" permits broker.example`},
		{"disclose for a purpose not allowed", downstreamAny, with(func(r *AccessRequest) {
			r.Action, r.Recipient, r.Purpose = ActionDisclose, "carrier.example", dpv+"FraudPreventionAndDetection"
		}), Deny, "not allowed"},
		{"owner disclosing follows the rules", typical, AccessRequest{Subject: "alice", Owner: true, Resource: "rec-1", Action: ActionDisclose,
			Recipient: "x", Purpose: dpv + "ServiceProvision", Time: t0, StoredAt: t0}, Deny, "no rule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.p.Decide(tt.req)
			if res.Decision != tt.want {
				t.Fatalf("Decide = %v (%s), want %v", res.Decision, res.Reason, tt.want)
			}
			if tt.want == Permit {
				if res.Reason != "" {
					t.Errorf("permit with a reason: %s", res.Reason)
				}
				return
			}
			if !strings.Contains(res.Reason, tt.reason) {
				t.Errorf("reason %q does not say %q", res.Reason, tt.reason)
			}
		})
	}

	t.Run("XACML obligations on permit", func(t *testing.T) {
		res := withObligation.Decide(ctrl)
		if res.Decision != Permit || len(res.Obligations) != 1 {
			t.Fatalf("Decide = %+v", res)
		}
		ob := res.Obligations[0]
		if ob.ID != "urn:example:audit" || ob.Advice || len(ob.Attributes) != 1 ||
			ob.Attributes[0] != (AssignedAttribute{ID: "urn:example:why", DataType: stringType, Value: "audited"}) {
			t.Errorf("obligation = %+v", ob)
		}
		// The result does not share storage with the pooled request.
		res2 := withObligation.Decide(ctrl)
		if &res2.Obligations[0] == &res.Obligations[0] {
			t.Error("results share obligation storage")
		}
	})
}

func TestDeadline(t *testing.T) {
	two := compile(t, pplDoc("two", rule("all", "Permit"), terms(threeDPV, "", deleteAfter(now, "P1Y"), deleteAfter(now, "P1M"),
		`<ob:Obligation><ob:TriggersSet><ob:TriggerAtTime><ob:Start><ob:StartNow/></ob:Start><ob:MaxDelay><ob:Duration>P1D</ob:Duration></ob:MaxDelay></ob:TriggerAtTime></ob:TriggersSet><ob:ActionAnonymizePersonalData/></ob:Obligation>`)))
	stored := time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)
	dl, ok := two.Deadline(stored)
	if !ok || !dl.Equal(time.Date(2026, 2, 28, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("Deadline = %v %v, want the earliest delete deadline, 2026-02-28T12:00Z", dl, ok)
	}
	fixed := compile(t, pplDoc("fixed", rule("all", "Permit"), terms(threeDPV, "", deleteAfter("<ob:DateAndTime>2027-01-01T00:00:00+01:00</ob:DateAndTime>", "P1D"))))
	dl, ok = fixed.Deadline(stored)
	if !ok || !dl.Equal(time.Date(2027, 1, 1, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("fixed Deadline = %v %v", dl, ok)
	}
	none := compile(t, pplDoc("none", rule("all", "Permit"), terms(threeDPV, "")))
	if _, ok := none.Deadline(stored); ok {
		t.Error("a policy without deletion has a deadline")
	}
}

func TestCompileSticky(t *testing.T) {
	if _, err := CompileSticky(nil); !errors.Is(err, ErrNoPolicy) {
		t.Errorf("nil document: %v", err)
	}
	if _, err := CompileSticky(&policies.Document{}); !errors.Is(err, ErrNoPolicy) {
		t.Errorf("document without XACML: %v", err)
	}
	// A policy that parses but cannot be compiled: string-equal on an integer.
	bad := pplDoc("bad", `<Rule RuleId="r" Effect="Permit"><Condition><Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-equal">
<AttributeValue DataType="http://www.w3.org/2001/XMLSchema#integer">1</AttributeValue>
<AttributeValue DataType="http://www.w3.org/2001/XMLSchema#integer">1</AttributeValue></Apply></Condition></Rule>`, terms(threeDPV, ""))
	doc, err := policies.Parse([]byte(bad))
	if err != nil {
		t.Skipf("the parser already refuses it: %v", err)
	}
	_, err = CompileSticky(doc)
	if err == nil || !strings.Contains(err.Error(), `compiling the XACML policy "bad"`) || !errors.Is(err, policies.ErrInvalid) {
		t.Errorf("CompileSticky(bad) = %v", err)
	}
}

func TestStickyAccessors(t *testing.T) {
	doc, err := policies.Parse([]byte(pplDoc("acc", rule("all", "Permit"), terms(threeDPV, ""))))
	if err != nil {
		t.Fatal(err)
	}
	p, err := CompileSticky(doc)
	if err != nil {
		t.Fatal(err)
	}
	if p.Document() != doc || p.Terms() != doc.Sticky {
		t.Error("Document/Terms do not return the compiled document's parts")
	}
}

func TestDecideConcurrent(t *testing.T) {
	p := compile(t, pplDoc("typical", typicalRules(10), terms(threeDPV, "", deleteAfter(now, "P30D"))))
	ok := AccessRequest{Subject: "shop.example", Roles: []string{"controller"}, Resource: "rec-1", Action: ActionRead,
		Purpose: dpv + "Marketing", Time: t0, StoredAt: t0}
	bad := ok
	bad.Roles = nil
	done := make(chan error)
	for g := range 4 {
		go func() {
			for i := range 500 {
				req, want := ok, Permit
				if (i+g)%2 == 1 {
					req, want = bad, Deny
				}
				if got := p.Decide(req).Decision; got != want {
					done <- fmt.Errorf("goroutine %d, call %d: %v, want %v", g, i, got, want)
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestDecideAllocations(t *testing.T) {
	p := compile(t, pplDoc("typical", typicalRules(10), terms(threeDPV, "", deleteAfter(now, "P30D"))))
	req := AccessRequest{Subject: "shop.example", Roles: []string{"controller"}, Resource: "rec-1", Action: ActionRead,
		Purpose: dpv + "Marketing", Time: t0, StoredAt: t0}
	allocs := testing.AllocsPerRun(200, func() {
		if p.Decide(req).Decision != Permit {
			t.Fatal("not permitted")
		}
	})
	if allocs > 4 {
		t.Errorf("a typical permit allocates %v times, want a handful (<= 4)", allocs)
	}
}
