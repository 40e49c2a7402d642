package pdp

import (
	"os"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/policies"
)

// TestControllerFlow runs the two-sided flow through the real parts: a
// controller's policy is matched against a subject's preferences, the
// agreed terms are written as the ppl:StickyPolicy, the stored XML is read
// back and compiled, and decisions follow the agreed terms.
func TestControllerFlow(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile("../policies/testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	prefs, err := policies.ParsePreferences(read("preferences.xml"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := policies.Parse(read("controller-policy.xml"))
	if err != nil {
		t.Fatal(err)
	}
	stored := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	res := policies.Match(prefs, &doc.DataHandlingPolicies[0], policies.DefaultTaxonomy(), policies.MatchAt(stored))
	if !res.OK() {
		t.Fatalf("mismatches: %+v", res.Mismatches)
	}
	doc.Sticky = res.Sticky
	xml, err := doc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := policies.Parse(xml)
	if err != nil {
		t.Fatalf("stored policy does not parse: %v", err)
	}
	p, err := CompileSticky(back)
	if err != nil {
		t.Fatal(err)
	}
	if dl, ok := p.Deadline(stored); !ok || !dl.Equal(stored.AddDate(1, 0, 0)) {
		t.Errorf("Deadline = %v %v, want one year after storage (the controller's P1Y)", dl, ok)
	}
	staff := AccessRequest{Subject: "clerk@shop.example", Roles: []string{"controller"}, Resource: "rec-7", Action: ActionRead,
		Purpose: policies.DPVPrefix + "CustomerCare", Time: stored.Add(time.Hour), StoredAt: stored}
	if r := p.Decide(staff); r.Decision != Permit {
		t.Errorf("staff reading for customer care: %+v", r)
	}
	intern := staff
	intern.Roles = []string{"controller", "intern"}
	if r := p.Decide(intern); r.Decision != Deny {
		t.Errorf("the no-interns rule (deny-overrides) should deny: %+v", r)
	}
	marketing := staff
	marketing.Purpose = policies.DPVPrefix + "Marketing"
	if r := p.Decide(marketing); r.Decision != Deny {
		t.Errorf("marketing is not an agreed purpose: %+v", r)
	}
	late := staff
	late.Time = stored.AddDate(1, 0, 0)
	if r := p.Decide(late); r.Decision != Deny {
		t.Errorf("after a year the data is past retention: %+v", r)
	}
	disclose := staff
	disclose.Action, disclose.Recipient = ActionDisclose, "partner.example"
	if r := p.Decide(disclose); r.Decision != Deny {
		t.Errorf("staff may not disclose (no rule permits it, no downstream usage was agreed): %+v", r)
	}
}
