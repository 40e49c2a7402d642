package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const pplTestdata = "../../policies/testdata/"

func TestPolicyCheck(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	invalid := write("invalid.xml", `<ppl:Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17"
 xmlns:ppl="http://www.primelife.eu/ppl" xmlns:ob="http://www.primelife.eu/ppl/obligation" PolicyId="bad"
 RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:permit-overrides">
<Target/>
<ppl:DataHandlingPolicy>
 <ppl:AuthorizationsSet><ppl:AuthzUseForPurpose><ppl:Purpose>Marketing</ppl:Purpose></ppl:AuthzUseForPurpose></ppl:AuthorizationsSet>
 <ob:ObligationsSet><ob:Obligation><ob:TriggersSet><ob:TriggerOnViolation><ob:MaxDelay><ob:Duration>soon</ob:Duration></ob:MaxDelay></ob:TriggerOnViolation></ob:TriggersSet>
 <ob:ActionNotifyDataSubject><ob:Media>fax</ob:Media><ob:Address>x</ob:Address></ob:ActionNotifyDataSubject></ob:Obligation></ob:ObligationsSet>
</ppl:DataHandlingPolicy>
</ppl:Policy>`)
	uncompilable := write("uncompilable.xml", `<Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="types"
 RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:permit-overrides"><Target/>
<Rule RuleId="r" Effect="Permit"><Condition><Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-equal">
<AttributeValue DataType="http://www.w3.org/2001/XMLSchema#integer">1</AttributeValue>
<AttributeValue DataType="http://www.w3.org/2001/XMLSchema#integer">1</AttributeValue></Apply></Condition></Rule></Policy>`)
	hostile := write("hostile.xml", `<!DOCTYPE x [<!ENTITY a "aaaa">]><ppl:Policy xmlns:ppl="http://www.primelife.eu/ppl">&a;</ppl:Policy>`)
	badPrefs := write("prefs.xml", `<ppl:DataHandlingPreferences xmlns:ppl="http://www.primelife.eu/ppl"><ppl:Bogus/></ppl:DataHandlingPreferences>`)
	purposes := write("purposes.json", `[{"iri": "https://shop.example/p#Loyalty", "parent": "https://w3id.org/dpv#Marketing", "label": "Loyalty programme"}]`)
	loyalty := write("loyalty.xml", `<ppl:DataHandlingPreferences xmlns:ppl="http://www.primelife.eu/ppl"><ppl:AuthorizationsSet>
<ppl:AuthzUseForPurpose><ppl:Purpose>https://shop.example/p#Loyalty</ppl:Purpose></ppl:AuthzUseForPurpose></ppl:AuthorizationsSet></ppl:DataHandlingPreferences>`)
	badPurposes := write("bad-purposes.json", `[{"iri": "https://shop.example/p#X", "parent": "https://w3id.org/dpv#Nope"}]`)

	tests := []struct {
		name           string
		args           []string
		code           int
		stdout, stderr []string
	}{
		{"PPL example", []string{pplTestdata + "ppl-example.xml"}, 0, []string{
			`ok: ` + pplTestdata + `ppl-example.xml: PPL policy "alice-report"`,
			"https://w3id.org/dpv#ServiceProvision (Service Provision)",
			"downstream: not allowed",
			"obligations: 2",
			"delete the data on TriggerAtTime(start storage time, within P30D)",
			"notify alice@example.org by inbox on TriggerPersonalDataAccessedForPurpose(within PT1M)",
		}, nil},
		{"controller policy", []string{pplTestdata + "controller-policy.xml"}, 0, []string{"policy id: shop-dhp-1", "retention: delete the data"}, nil},
		{"downstream", []string{pplTestdata + "downstream-nested.xml"}, 0, []string{`downstream: allowed to the recipients policy "carriers" permits`}, nil},
		{"plain XACML", []string{pplTestdata + "xacml2-only.xml"}, 0, []string{`XACML policy set "plain-2-set"`, "data handling: none"}, nil},
		{"preferences", []string{pplTestdata + "preferences.xml"}, 0, []string{"data handling preferences", "obligations: 2"}, nil},
		{"unknown purpose noted", []string{loyalty}, 0, []string{"not in the purpose taxonomy"}, nil},
		{"operator purpose", []string{"--purposes", purposes, loyalty}, 0, []string{"https://shop.example/p#Loyalty (Loyalty programme)"}, nil},
		{"every problem, one per line", []string{invalid}, 1, nil, []string{
			invalid + `: line 6: <ppl:Purpose> value "Marketing": a purpose must be an absolute IRI`,
			invalid + `: line 7: <ob:Duration> value "soon"`,
			invalid + `: line 8: <ob:Media> value "fax": ob:Media must be inbox, email or webhook`,
			invalid + ": 3 problem(s)",
		}},
		{"compile errors", []string{uncompilable}, 1, nil, []string{uncompilable + ": ", "string-equal"}},
		{"hostile", []string{hostile}, 1, nil, []string{"refused XML", "DOCTYPE"}},
		{"preferences problems", []string{badPrefs}, 1, nil, []string{"unknown element ppl:Bogus"}},
		{"missing file", []string{filepath.Join(dir, "nope.xml")}, 1, nil, []string{"nope.xml"}},
		{"bad purpose file", []string{"--purposes", badPurposes, loyalty}, 1, nil, []string{`unknown parent "https://w3id.org/dpv#Nope"`}},
		{"no file", nil, 2, nil, []string{"usage: stickyd policy check"}},
		{"two files", []string{invalid, loyalty}, 2, nil, []string{"usage: stickyd policy check"}},
		{"unknown flag", []string{"--nope", invalid}, 2, nil, []string{"flag provided but not defined"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := runPolicyCheck(context.Background(), tc.args, &out, &errb)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out.String(), errb.String())
			}
			for _, s := range tc.stdout {
				if !strings.Contains(out.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, out.String())
				}
			}
			for _, s := range tc.stderr {
				if !strings.Contains(errb.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, errb.String())
				}
			}
			if code != 0 && out.Len() > 0 {
				t.Errorf("stdout on failure: %s", out.String())
			}
			if code == 0 && !strings.HasPrefix(out.String(), "ok: ") {
				t.Errorf("success does not start with ok: %s", out.String())
			}
		})
	}
}

func TestPolicyCheckDispatch(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"policy", "check", pplTestdata + "ppl-example.xml"}, &out, &errb); code != 0 {
		t.Fatalf("stickyd policy check: exit %d: %s", code, errb.String())
	}
	if !strings.HasPrefix(out.String(), "ok: ") {
		t.Errorf("stdout = %s", out.String())
	}
}
