package policies

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/policies/xmlsafe"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// roundTrip parses data (a policy, or preferences when prefs is set) and
// marshals it.
func roundTrip(t testing.TB, data []byte, prefs bool) []byte {
	t.Helper()
	if prefs {
		dh, err := ParsePreferences(data)
		if err != nil {
			t.Fatalf("ParsePreferences: %v", err)
		}
		out, err := MarshalPreferences(dh)
		if err != nil {
			t.Fatalf("MarshalPreferences: %v", err)
		}
		return out
	}
	doc, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	out, err := doc.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	return out
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.xml")
	if err != nil || len(files) < 7 {
		t.Fatalf("testdata examples: %v %v", files, err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			prefs := strings.HasPrefix(name, "preferences")
			got := roundTrip(t, data, prefs)
			golden := filepath.Join("testdata", "golden", name)
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("marshalled form differs from %s (go test -update to accept):\n%s", golden, got)
			}
			// parse -> marshal -> parse -> marshal is byte-identical.
			if again := roundTrip(t, got, prefs); !bytes.Equal(again, got) {
				t.Errorf("not stable:\n%s\n---\n%s", got, again)
			}
		})
	}
}

func mustParse(t testing.TB, file string) *Document {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse(%s): %v", file, err)
	}
	return doc
}

func TestParsePPLExample(t *testing.T) {
	doc := mustParse(t, "ppl-example.xml")
	if doc.XACML.ID() != "alice-report" || len(doc.XACML.Policy.Rules) != 1 {
		t.Fatalf("XACML part: %+v", doc.XACML.Policy)
	}
	if len(doc.DataHandlingPolicies) != 0 || doc.Preferences == nil || doc.Sticky != nil {
		t.Fatalf("data handling parts: %+v", doc)
	}
	terms := doc.Terms()
	if terms != doc.Preferences {
		t.Error("Terms() is not the preferences")
	}
	a := terms.Authorizations
	if len(a.Purposes) != 1 || a.Purposes[0] != DPVPrefix+"ServiceProvision" {
		t.Errorf("purposes = %v", a.Purposes)
	}
	if a.Downstream == nil || a.Downstream.Allowed || a.Downstream.Policy != nil {
		t.Errorf("downstream = %+v", a.Downstream)
	}
	if len(terms.Obligations) != 2 {
		t.Fatalf("obligations = %+v", terms.Obligations)
	}
	ret := terms.Obligations[0]
	tr := ret.Triggers[0]
	if ret.Action.Kind != ActionDeletePersonalData || tr.Kind != TriggerAtTime || tr.Start == nil || !tr.Start.Now ||
		tr.MaxDelay == nil || *tr.MaxDelay != (Duration{Days: 30}) {
		t.Errorf("retention obligation = %+v %+v", ret, tr)
	}
	n := terms.Obligations[1]
	if n.Action != (Action{Kind: ActionNotifyDataSubject, Media: MediaInbox, Address: "alice@example.org"}) ||
		n.Triggers[0].Kind != TriggerPersonalDataAccessedForPurpose || len(n.Triggers[0].Purposes) != 0 ||
		*n.Triggers[0].MaxDelay != (Duration{Clock: time.Minute}) {
		t.Errorf("notify obligation = %+v", n)
	}
}

func TestParseControllerPolicy(t *testing.T) {
	doc := mustParse(t, "controller-policy.xml")
	if len(doc.DataHandlingPolicies) != 1 || doc.Preferences != nil {
		t.Fatalf("parts: %+v", doc)
	}
	dh := doc.DataHandlingPolicies[0]
	if dh.PolicyID != "shop-dhp-1" || len(dh.Authorizations.Purposes) != 3 || len(dh.Obligations) != 3 {
		t.Errorf("dhp = %+v", dh)
	}
	if ids := []string{dh.Obligations[0].ID, dh.Obligations[1].ID, dh.Obligations[2].ID}; strings.Join(ids, ",") != "retention,tell-on-use,log-violations" {
		t.Errorf("obligation ids = %v", ids)
	}
	if doc.Terms() != &doc.DataHandlingPolicies[0] {
		t.Error("Terms() is not the data handling policy")
	}
}

func TestParsePlainXACML(t *testing.T) {
	for _, f := range []string{"xacml3-only.xml", "xacml2-only.xml"} {
		t.Run(f, func(t *testing.T) {
			doc := mustParse(t, f)
			if doc.Terms() != nil || len(doc.DataHandlingPolicies) != 0 {
				t.Errorf("plain XACML has data handling: %+v", doc)
			}
		})
	}
	if doc := mustParse(t, "xacml2-only.xml"); doc.XACML.PolicySet == nil || doc.XACML.ID() != "plain-2-set" {
		t.Errorf("policy set: %+v", doc.XACML)
	}
}

func TestParseDownstreamNested(t *testing.T) {
	doc := mustParse(t, "downstream-nested.xml")
	d := doc.Terms().Authorizations.Downstream
	if d == nil || !d.Allowed || d.Policy == nil || d.Policy.XACML == nil {
		t.Fatalf("downstream = %+v", d)
	}
	if d.Policy.XACML.ID() != "carriers" || len(d.Policy.XACML.Policy.Rules) != 1 {
		t.Errorf("nested policy = %+v", d.Policy.XACML.Policy)
	}
	tr := doc.Terms().Obligations[0].Triggers[0]
	if tr.Kind != TriggerPersonalDataSent || tr.ID != "carrier.example" {
		t.Errorf("sent trigger = %+v", tr)
	}
}

func TestParseAllTriggersAndActions(t *testing.T) {
	doc := mustParse(t, "all-triggers-actions.xml")
	obs := doc.Terms().Obligations
	kinds := map[TriggerKind]bool{}
	actions := map[ActionKind]bool{}
	for _, ob := range obs {
		actions[ob.Action.Kind] = true
		for _, tr := range ob.Triggers {
			kinds[tr.Kind] = true
		}
	}
	for k := range triggerKinds {
		if !kinds[TriggerKind(k)] {
			t.Errorf("trigger %s not in the example", k)
		}
	}
	for k := range actionKinds {
		if !actions[ActionKind(k)] {
			t.Errorf("action %s not in the example", k)
		}
	}
	at := obs[0].Triggers[0]
	if at.Start.Now || !at.Start.At.Equal(time.Date(2027, 6, 30, 10, 0, 0, 0, time.UTC)) || *at.MaxDelay != (Duration{Months: 3}) {
		t.Errorf("at time = %+v", at)
	}
	per := obs[1].Triggers[0]
	if !per.Start.Now || per.End == nil || !per.End.At.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) || *per.Period != (Duration{Months: 1}) {
		t.Errorf("periodic = %+v", per)
	}
	acc := obs[2].Triggers[0]
	if len(acc.Purposes) != 2 || obs[2].Action.Media != MediaWebhook {
		t.Errorf("accessed = %+v %+v", acc, obs[2].Action)
	}
	if sent := obs[3].Triggers[0]; sent.ID != "" || *sent.MaxDelay != (Duration{Clock: 1500 * time.Millisecond}) {
		t.Errorf("sent = %+v", sent)
	}
	if dsa := obs[5].Triggers[0]; dsa.URL != "https://sticky.example/v1/pii" || dsa.MaxDelay != nil {
		t.Errorf("subject access = %+v", dsa)
	}
	if len(obs[6].Triggers) != 2 {
		t.Errorf("two triggers expected: %+v", obs[6].Triggers)
	}
}

func TestParseStickyWithOtherPrefixes(t *testing.T) {
	doc := mustParse(t, "sticky-agreed.xml")
	if doc.Sticky == nil || doc.Preferences == nil || len(doc.DataHandlingPolicies) != 1 {
		t.Fatalf("parts: %+v", doc)
	}
	if doc.Terms() != doc.Sticky || doc.Sticky.Authorizations.Purposes[0] != DPVPrefix+"Advertising" {
		t.Errorf("terms = %+v", doc.Terms())
	}
	out, err := doc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte("<ppl:StickyPolicy")) || bytes.Contains(out, []byte("xmlns:p=")) {
		t.Errorf("prefixes not normalised:\n%s", out)
	}
}

func TestParsePreferences(t *testing.T) {
	data, err := os.ReadFile("testdata/preferences.xml")
	if err != nil {
		t.Fatal(err)
	}
	dh, err := ParsePreferences(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(dh.Authorizations.Purposes) != 3 || len(dh.Obligations) != 2 {
		t.Errorf("preferences = %+v", dh)
	}
	_, err = ParsePreferences([]byte(`<ppl:Policy xmlns:ppl="http://www.primelife.eu/ppl"/>`))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "ppl:DataHandlingPreferences") {
		t.Errorf("wrong root: %v", err)
	}
}

// problemCase is a document and the problems it must produce: each want
// is a Problem whose non-empty fields must all match one reported problem
// (Message by substring).
type problemCase struct {
	name  string
	doc   string
	prefs bool
	want  []Problem
}

const head = `<ppl:Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" xmlns:ppl="http://www.primelife.eu/ppl"
 xmlns:ob="http://www.primelife.eu/ppl/obligation" PolicyId="p"
 RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:permit-overrides">
<Target/>
`

func wrapDH(body string) string {
	return head + "<ppl:DataHandlingPolicy>\n" + body + "\n</ppl:DataHandlingPolicy>\n</ppl:Policy>"
}

func wrapOb(ob string) string {
	return wrapDH("<ob:ObligationsSet>\n" + ob + "\n</ob:ObligationsSet>")
}

func atTime(start, delay string) string {
	return `<ob:Obligation><ob:TriggersSet><ob:TriggerAtTime><ob:Start>` + start + `</ob:Start><ob:MaxDelay><ob:Duration>` +
		delay + `</ob:Duration></ob:MaxDelay></ob:TriggerAtTime></ob:TriggersSet><ob:ActionDeletePersonalData/></ob:Obligation>`
}

func notify(media, addr string) string {
	return `<ob:Obligation><ob:TriggersSet><ob:TriggerPersonalDataDeleted/></ob:TriggersSet>` +
		`<ob:ActionNotifyDataSubject><ob:Media>` + media + `</ob:Media><ob:Address>` + addr + `</ob:Address></ob:ActionNotifyDataSubject></ob:Obligation>`
}

var problemCases = []problemCase{
	{name: "relative purpose", doc: wrapDH(`<ppl:AuthorizationsSet><ppl:AuthzUseForPurpose>
<ppl:Purpose>Marketing</ppl:Purpose></ppl:AuthzUseForPurpose></ppl:AuthorizationsSet>`),
		want: []Problem{{Element: "ppl:Purpose", Value: "Marketing", Line: 7, Message: "absolute IRI"}}},
	{name: "empty purpose", doc: wrapDH(`<ppl:AuthorizationsSet><ppl:AuthzUseForPurpose><ppl:Purpose> </ppl:Purpose></ppl:AuthzUseForPurpose></ppl:AuthorizationsSet>`),
		want: []Problem{{Element: "ppl:Purpose", Message: "empty"}}},
	{name: "no purpose", doc: wrapDH(`<ppl:AuthorizationsSet><ppl:AuthzUseForPurpose/></ppl:AuthorizationsSet>`),
		want: []Problem{{Element: "ppl:AuthzUseForPurpose", Message: "at least one ppl:Purpose"}}},
	{name: "bad duration", doc: wrapOb(atTime("<ob:StartNow/>", "30 days")),
		want: []Problem{{Element: "ob:Duration", Value: "30 days", Message: "xs:duration"}}},
	{name: "negative delay", doc: wrapOb(atTime("<ob:StartNow/>", "-P1D")),
		want: []Problem{{Element: "ob:Duration", Value: "-P1D", Message: "cannot be negative"}}},
	{name: "start with both", doc: wrapOb(atTime("<ob:StartNow/><ob:DateAndTime>2026-01-01T00:00:00Z</ob:DateAndTime>", "P1D")),
		want: []Problem{{Element: "ob:Start", Message: "exactly one of ob:StartNow or ob:DateAndTime (found 2)"}}},
	{name: "start with none", doc: wrapOb(atTime("", "P1D")),
		want: []Problem{{Element: "ob:Start", Message: "(found 0)"}}},
	{name: "bad date", doc: wrapOb(atTime("<ob:DateAndTime>31/12/2026</ob:DateAndTime>", "P1D")),
		want: []Problem{{Element: "ob:DateAndTime", Value: "31/12/2026", Message: "RFC 3339"}}},
	{name: "date without zone", doc: wrapOb(atTime("<ob:DateAndTime>2026-12-31T00:00:00</ob:DateAndTime>", "P1D")),
		want: []Problem{{Element: "ob:DateAndTime", Value: "2026-12-31T00:00:00", Message: "RFC 3339"}}},
	{name: "unknown media", doc: wrapOb(notify("sms", "+3312345678")),
		want: []Problem{{Element: "ob:Media", Value: "sms", Message: "inbox, email or webhook"}}},
	{name: "bad email", doc: wrapOb(notify("email", "Alice &lt;alice@example.org&gt;")),
		want: []Problem{{Element: "ob:Address", Value: "Alice <alice@example.org>", Message: "plain email address"}}},
	{name: "email without at", doc: wrapOb(notify("email", "alice")),
		want: []Problem{{Element: "ob:Address", Value: "alice", Message: "plain email address"}}},
	{name: "webhook not http", doc: wrapOb(notify("webhook", "ftp://hooks.example.org/x")),
		want: []Problem{{Element: "ob:Address", Value: "ftp://hooks.example.org/x", Message: "http or https URL"}}},
	{name: "webhook relative", doc: wrapOb(notify("webhook", "/hook")),
		want: []Problem{{Element: "ob:Address", Value: "/hook", Message: "http or https URL"}}},
	{name: "inbox with space", doc: wrapOb(notify("inbox", "alice smith")),
		want: []Problem{{Element: "ob:Address", Value: "alice smith", Message: "spaces"}}},
	{name: "missing address", doc: wrapOb(`<ob:Obligation><ob:TriggersSet><ob:TriggerOnViolation/></ob:TriggersSet>
<ob:ActionNotifyDataSubject><ob:Media>inbox</ob:Media></ob:ActionNotifyDataSubject></ob:Obligation>`),
		want: []Problem{{Element: "ob:ActionNotifyDataSubject", Message: "needs ob:Address"}}},
	{name: "missing media", doc: wrapOb(`<ob:Obligation><ob:TriggersSet><ob:TriggerOnViolation/></ob:TriggersSet>
<ob:ActionNotifyDataSubject><ob:Address>alice</ob:Address></ob:ActionNotifyDataSubject></ob:Obligation>`),
		want: []Problem{{Element: "ob:ActionNotifyDataSubject", Message: "needs ob:Media"}, {Element: "ob:Address", Message: "after ob:Media"}}},
	{name: "missing action", doc: wrapOb(`<ob:Obligation><ob:TriggersSet><ob:TriggerOnViolation/></ob:TriggersSet></ob:Obligation>`),
		want: []Problem{{Element: "ob:Obligation", Message: "has no action"}}},
	{name: "two actions", doc: wrapOb(`<ob:Obligation><ob:TriggersSet><ob:TriggerOnViolation/></ob:TriggersSet><ob:ActionLog/><ob:ActionSecureLog/></ob:Obligation>`),
		want: []Problem{{Element: "ob:ActionSecureLog", Message: "exactly one action"}}},
	{name: "missing triggers", doc: wrapOb(`<ob:Obligation><ob:ActionLog/></ob:Obligation>`),
		want: []Problem{{Element: "ob:Obligation", Message: "no ob:TriggersSet"}}},
	{name: "empty triggers", doc: wrapOb(`<ob:Obligation><ob:TriggersSet/><ob:ActionLog/></ob:Obligation>`),
		want: []Problem{{Element: "ob:TriggersSet", Message: "at least one trigger"}}},
	{name: "action before triggers", doc: wrapOb(`<ob:Obligation><ob:ActionLog/><ob:TriggersSet><ob:TriggerOnViolation/></ob:TriggersSet></ob:Obligation>`),
		want: []Problem{{Element: "ob:TriggersSet", Message: "before the action"}}},
	{name: "unknown trigger", doc: wrapOb(`<ob:Obligation><ob:TriggersSet><ob:TriggerOnFullMoon/></ob:TriggersSet><ob:ActionLog/></ob:Obligation>`),
		want: []Problem{{Element: "ob:TriggerOnFullMoon", Message: "unknown element ob:TriggerOnFullMoon"}}},
	{name: "unknown action", doc: wrapOb(`<ob:Obligation><ob:TriggersSet><ob:TriggerOnViolation/></ob:TriggersSet><ob:ActionShred/></ob:Obligation>`),
		want: []Problem{{Element: "ob:ActionShred", Message: "unknown element ob:ActionShred"}, {Element: "ob:Obligation", Message: "no action"}}},
	{name: "unknown ppl element", doc: wrapDH(`<ppl:AuthorizationsSet><ppl:AuthzSell/></ppl:AuthorizationsSet>`),
		want: []Problem{{Element: "ppl:AuthzSell", Message: "unknown element ppl:AuthzSell in ppl:AuthorizationsSet"}}},
	{name: "unknown part", doc: head + `<ppl:DataSellingPolicy/></ppl:Policy>`,
		want: []Problem{{Element: "ppl:DataSellingPolicy", Message: "unknown element"}}},
	{name: "foreign namespace", doc: head + `<x:Thing xmlns:x="urn:example:x"/></ppl:Policy>`,
		want: []Problem{{Element: "x:Thing", Message: "namespace urn:example:x"}}},
	{name: "sets out of order", doc: wrapDH(`<ob:ObligationsSet/><ppl:AuthorizationsSet/>`),
		want: []Problem{{Element: "ppl:AuthorizationsSet", Message: "before the ob:ObligationsSet"}}},
	{name: "parts out of order", doc: head + `<ppl:DataHandlingPreferences/><ppl:DataHandlingPolicy/></ppl:Policy>`,
		want: []Problem{{Element: "ppl:DataHandlingPolicy", Message: "out of order"}}},
	{name: "two preferences", doc: head + `<ppl:DataHandlingPreferences/><ppl:DataHandlingPreferences/></ppl:Policy>`,
		want: []Problem{{Element: "ppl:DataHandlingPreferences", Message: "at most one"}}},
	{name: "preferences after sticky", doc: head + `<ppl:StickyPolicy/><ppl:DataHandlingPreferences/></ppl:Policy>`,
		want: []Problem{{Element: "ppl:DataHandlingPreferences", Message: "out of order"}}},
	{name: "XACML after data handling", doc: head + `<ppl:DataHandlingPolicy/><Rule RuleId="r" Effect="Permit"/></ppl:Policy>`,
		want: []Problem{{Element: "Rule", Message: "after a data handling part"}}},
	{name: "data handling in plain XACML", doc: `<Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" xmlns:ppl="http://www.primelife.eu/ppl" PolicyId="p"
 RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:permit-overrides"><Target/><ppl:DataHandlingPolicy/></Policy>`,
		want: []Problem{{Element: "ppl:DataHandlingPolicy", Message: "only allowed in a ppl:Policy"}}},
	{name: "downstream without allowed", doc: wrapDH(`<ppl:AuthorizationsSet><ppl:AuthzDownstreamUsage/></ppl:AuthorizationsSet>`),
		want: []Problem{{Element: "ppl:AuthzDownstreamUsage", Attribute: "allowed", Message: `allowed="true"`}}},
	{name: "downstream bad allowed", doc: wrapDH(`<ppl:AuthorizationsSet><ppl:AuthzDownstreamUsage allowed="yes"/></ppl:AuthorizationsSet>`),
		want: []Problem{{Element: "ppl:AuthzDownstreamUsage", Attribute: "allowed", Value: "yes"}}},
	{name: "downstream nested invalid", doc: wrapDH(`<ppl:AuthorizationsSet><ppl:AuthzDownstreamUsage allowed="true">
<ppl:Policy PolicyId="n"><Target/></ppl:Policy></ppl:AuthzDownstreamUsage></ppl:AuthorizationsSet>`),
		want: []Problem{{Element: "ppl:Policy", Attribute: "RuleCombiningAlgId", Line: 7}}},
	{name: "downstream two policies", doc: wrapDH(`<ppl:AuthorizationsSet><ppl:AuthzDownstreamUsage allowed="true">
<ppl:Policy PolicyId="n1" RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:permit-overrides"><Target/></ppl:Policy>
<ppl:Policy PolicyId="n2" RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:permit-overrides"><Target/></ppl:Policy>
</ppl:AuthzDownstreamUsage></ppl:AuthorizationsSet>`),
		want: []Problem{{Element: "ppl:Policy", Line: 8, Message: "at most one nested policy"}}},
	{name: "periodic without period", doc: wrapOb(`<ob:Obligation><ob:TriggersSet><ob:TriggerPeriodic><ob:Start><ob:StartNow/></ob:Start></ob:TriggerPeriodic></ob:TriggersSet><ob:ActionLog/></ob:Obligation>`),
		want: []Problem{{Element: "ob:TriggerPeriodic", Message: "needs ob:Period"}}},
	{name: "periodic zero period", doc: wrapOb(`<ob:Obligation><ob:TriggersSet><ob:TriggerPeriodic><ob:Start><ob:StartNow/></ob:Start><ob:Period><ob:Duration>PT0S</ob:Duration></ob:Period></ob:TriggerPeriodic></ob:TriggersSet><ob:ActionLog/></ob:Obligation>`),
		want: []Problem{{Element: "ob:Duration", Value: "PT0S", Message: "longer than zero"}}},
	{name: "periodic end before start", doc: wrapOb(`<ob:Obligation><ob:TriggersSet><ob:TriggerPeriodic><ob:Start><ob:DateAndTime>2027-01-01T00:00:00Z</ob:DateAndTime></ob:Start>
<ob:End><ob:DateAndTime>2026-01-01T00:00:00Z</ob:DateAndTime></ob:End><ob:Period><ob:Duration>P1D</ob:Duration></ob:Period></ob:TriggerPeriodic></ob:TriggersSet><ob:ActionLog/></ob:Obligation>`),
		want: []Problem{{Element: "ob:TriggerPeriodic", Message: "ob:End must be after ob:Start"}}},
	{name: "periodic end now", doc: wrapOb(`<ob:Obligation><ob:TriggersSet><ob:TriggerPeriodic><ob:Start><ob:StartNow/></ob:Start>
<ob:End><ob:StartNow/></ob:End><ob:Period><ob:Duration>P1D</ob:Duration></ob:Period></ob:TriggerPeriodic></ob:TriggersSet><ob:ActionLog/></ob:Obligation>`),
		want: []Problem{{Element: "ob:StartNow", Message: "unknown element ob:StartNow in ob:End"}}},
	{name: "trigger children out of order", doc: wrapOb(`<ob:Obligation><ob:TriggersSet><ob:TriggerAtTime><ob:MaxDelay><ob:Duration>P1D</ob:Duration></ob:MaxDelay><ob:Start><ob:StartNow/></ob:Start></ob:TriggerAtTime></ob:TriggersSet><ob:ActionDeletePersonalData/></ob:Obligation>`),
		want: []Problem{{Element: "ob:Start", Message: "out of order"}}},
	{name: "trigger child twice", doc: wrapOb(`<ob:Obligation><ob:TriggersSet><ob:TriggerOnViolation><ob:MaxDelay><ob:Duration>P1D</ob:Duration></ob:MaxDelay><ob:MaxDelay><ob:Duration>P1D</ob:Duration></ob:MaxDelay></ob:TriggerOnViolation></ob:TriggersSet><ob:ActionLog/></ob:Obligation>`),
		want: []Problem{{Element: "ob:MaxDelay", Message: "at most one"}}},
	{name: "trigger unknown child", doc: wrapOb(`<ob:Obligation><ob:TriggersSet><ob:TriggerPersonalDataDeleted><ob:Start><ob:StartNow/></ob:Start></ob:TriggerPersonalDataDeleted></ob:TriggersSet><ob:ActionLog/></ob:Obligation>`),
		want: []Problem{{Element: "ob:Start", Message: "unknown element ob:Start in ob:TriggerPersonalDataDeleted (expected ob:MaxDelay?)"}}},
	{name: "max delay two durations", doc: wrapOb(`<ob:Obligation><ob:TriggersSet><ob:TriggerOnViolation><ob:MaxDelay><ob:Duration>P1D</ob:Duration><ob:Duration>P2D</ob:Duration></ob:MaxDelay></ob:TriggerOnViolation></ob:TriggersSet><ob:ActionLog/></ob:Obligation>`),
		want: []Problem{{Element: "ob:MaxDelay", Message: "exactly one ob:Duration (found 2)"}}},
	{name: "action with content", doc: wrapOb(`<ob:Obligation><ob:TriggersSet><ob:TriggerOnViolation/></ob:TriggersSet><ob:ActionLog>now</ob:ActionLog></ob:Obligation>`),
		want: []Problem{{Element: "ob:ActionLog", Message: "must be empty"}}},
	{name: "bad url", doc: wrapOb(`<ob:Obligation><ob:TriggersSet><ob:TriggerDataSubjectAccess><ob:url>not a url</ob:url></ob:TriggerDataSubjectAccess></ob:TriggersSet><ob:ActionLog/></ob:Obligation>`),
		want: []Problem{{Element: "ob:url", Value: "not a url", Message: "http or https URL"}}},
	{name: "trigger purpose relative", doc: wrapOb(`<ob:Obligation><ob:TriggersSet><ob:TriggerPersonalDataAccessedForPurpose><ppl:Purpose>ads</ppl:Purpose></ob:TriggerPersonalDataAccessedForPurpose></ob:TriggersSet><ob:ActionLog/></ob:Obligation>`),
		want: []Problem{{Element: "ppl:Purpose", Value: "ads", Message: "absolute IRI"}}},
	{name: "empty obligation id", doc: wrapOb(`<ob:Obligation ObligationId=" "><ob:TriggersSet><ob:TriggerOnViolation/></ob:TriggersSet><ob:ActionLog/></ob:Obligation>`),
		want: []Problem{{Element: "ob:Obligation", Attribute: "ObligationId"}}},
	{name: "all problems at once", doc: wrapDH(`<ppl:AuthorizationsSet><ppl:AuthzUseForPurpose><ppl:Purpose>a</ppl:Purpose><ppl:Purpose>b</ppl:Purpose></ppl:AuthzUseForPurpose></ppl:AuthorizationsSet>
<ob:ObligationsSet>` + notify("fax", "x") + atTime("<ob:StartNow/>", "P1X") + `</ob:ObligationsSet>`),
		want: []Problem{{Value: "a"}, {Value: "b"}, {Value: "fax"}, {Value: "P1X"}}},
	{name: "XACML problems too", doc: `<ppl:Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" xmlns:ppl="http://www.primelife.eu/ppl" PolicyId="p"
 RuleCombiningAlgId="urn:example:no-such-alg"><Target/><ppl:DataHandlingPolicy><ppl:Bogus/></ppl:DataHandlingPolicy></ppl:Policy>`,
		want: []Problem{{Attribute: "RuleCombiningAlgId", Value: "urn:example:no-such-alg"}, {Element: "ppl:Bogus"}}},
	{name: "preferences problems", prefs: true, doc: `<ppl:DataHandlingPreferences xmlns:ppl="http://www.primelife.eu/ppl">
<ppl:AuthorizationsSet><ppl:AuthzUseForPurpose><ppl:Purpose>x</ppl:Purpose></ppl:AuthzUseForPurpose></ppl:AuthorizationsSet></ppl:DataHandlingPreferences>`,
		want: []Problem{{Element: "ppl:Purpose", Value: "x", Line: 2}}},
	{name: "preferences wrong root", prefs: true, doc: `<Policy/>`,
		want: []Problem{{Element: "Policy", Message: "must be ppl:DataHandlingPreferences"}}},
	{name: "preferences given as a policy", doc: `<ppl:DataHandlingPreferences xmlns:ppl="http://www.primelife.eu/ppl"/>`,
		want: []Problem{{Element: "ppl:DataHandlingPreferences", Message: "preferences document"}}},
	{name: "not a policy", doc: `<html/>`,
		want: []Problem{{Element: "html", Message: "Policy or PolicySet"}}},
}

func TestParseProblems(t *testing.T) {
	for _, tt := range problemCases {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.prefs {
				_, err = ParsePreferences([]byte(tt.doc))
			} else {
				_, err = Parse([]byte(tt.doc))
			}
			if err == nil {
				t.Fatal("accepted")
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not a *ValidationError wrapping ErrInvalid", err)
			}
			for _, w := range tt.want {
				if !hasProblem(ve.Problems, w) {
					t.Errorf("no problem like %+v in:\n%s", w, problemList(ve.Problems))
				}
			}
		})
	}
}

func hasProblem(ps []Problem, w Problem) bool {
	for _, p := range ps {
		if (w.Element == "" || p.Element == w.Element) && (w.Attribute == "" || p.Attribute == w.Attribute) &&
			(w.Value == "" || p.Value == w.Value) && (w.Line == 0 || p.Line == w.Line) &&
			strings.Contains(p.Message, w.Message) {
			return true
		}
	}
	return false
}

func problemList(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("  " + p.String() + "\n")
	}
	return b.String()
}

func TestProblemsHaveLines(t *testing.T) {
	_, err := Parse([]byte(wrapOb(notify("fax", "x"))))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatal(err)
	}
	for _, p := range ve.Problems {
		if p.Line == 0 || p.Element == "" {
			t.Errorf("problem without element or line: %+v", p)
		}
	}
}

func TestNestingLimit(t *testing.T) {
	inner := `<ppl:Policy PolicyId="n" RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:permit-overrides"><Target/>%s</ppl:Policy>`
	doc := "%s"
	for range MaxNestedPolicies + 2 {
		doc = strings.Replace(doc, "%s", strings.Replace(inner, "%s",
			`<ppl:DataHandlingPolicy><ppl:AuthorizationsSet><ppl:AuthzDownstreamUsage allowed="true">%s</ppl:AuthzDownstreamUsage></ppl:AuthorizationsSet></ppl:DataHandlingPolicy>`, 1), 1)
	}
	doc = strings.Replace(doc, "%s", "", 1)
	doc = strings.Replace(doc, "<ppl:Policy ", `<ppl:Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" xmlns:ppl="http://www.primelife.eu/ppl" `, 1)
	_, err := Parse([]byte(doc), WithLimits(xmlsafe.Limits{MaxDepth: 200}))
	if err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Fatalf("deep downstream nesting: %v", err)
	}
}
