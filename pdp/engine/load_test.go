package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stickypolicy/sticky/policies/xacml"
)

func TestVersionMatches(t *testing.T) {
	tests := []struct {
		ref     xacml.Reference
		version string
		want    bool
	}{
		{xacml.Reference{}, "1.0", true},
		{xacml.Reference{Version: "1.0"}, "1.0", true},
		{xacml.Reference{Version: "1.0"}, "1.0.1", false},
		{xacml.Reference{Version: "1.*"}, "1.7", true},
		{xacml.Reference{Version: "1.*"}, "1.7.1", false},
		{xacml.Reference{Version: "1.+"}, "1.7.1", true},
		{xacml.Reference{Version: "1.+"}, "2.0", false},
		{xacml.Reference{EarliestVersion: "1.5"}, "1.10", true},
		{xacml.Reference{EarliestVersion: "1.5"}, "1.4", false},
		{xacml.Reference{LatestVersion: "2.0"}, "2.0", true},
		{xacml.Reference{LatestVersion: "2.0"}, "2.0.1", false},
		{xacml.Reference{EarliestVersion: "1.0", LatestVersion: "1.*"}, "1.9", true},
	}
	for _, tc := range tests {
		if got := VersionMatches(&tc.ref, tc.version); got != tc.want {
			t.Errorf("%+v matches %s = %v, want %v", tc.ref, tc.version, got, tc.want)
		}
	}
}

func policyVersion(id, version, effect string) string {
	return `<Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="` + id + `" Version="` + version + `"
 RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides"><Target/><Rule RuleId="r" Effect="` + effect + `"/></Policy>`
}

func TestLoadDirectory(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("Policy.xml", `<PolicySet xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicySetId="root" Version="1.0"
 PolicyCombiningAlgId="urn:oasis:names:tc:xacml:1.0:policy-combining-algorithm:first-applicable"><Target/>
 <PolicyIdReference LatestVersion="1.9">shared</PolicyIdReference></PolicySet>`)
	write("a.xml", policyVersion("shared", "1.0", "Deny"))
	write("b.xml", policyVersion("shared", "1.5", "Permit"))
	write("c.xml", policyVersion("shared", "2.0", "Deny"))
	write("notes.txt", "not a policy")
	p, err := LoadDirectory(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Evaluate(NewRequest()).Decision; d != Permit {
		t.Errorf("want the latest version within the constraint (1.5, Permit), got %v", d)
	}
	write("Policy.xml", `<PolicySet xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicySetId="root" Version="1.0"
 PolicyCombiningAlgId="urn:oasis:names:tc:xacml:1.0:policy-combining-algorithm:first-applicable"><Target/>
 <PolicySetIdReference>shared</PolicySetIdReference></PolicySet>`)
	_, err = LoadDirectory(dir)
	if err == nil || !strings.Contains(err.Error(), `no PolicySet "shared" matches`) {
		t.Errorf("a policy set reference to a policy must not resolve: %v", err)
	}
	write("d.xml", "<Policy")
	if _, err := LoadDirectory(dir); err == nil || !strings.Contains(err.Error(), "d.xml") {
		t.Errorf("a broken file must be named: %v", err)
	}
	if _, err := LoadDirectory(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no Policy.xml") {
		t.Errorf("empty directory: %v", err)
	}
	root, _ := ParsePolicy([]byte(`<PolicySet xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicySetId="r" PolicyCombiningAlgId="urn:oasis:names:tc:xacml:1.0:policy-combining-algorithm:first-applicable"><Target/><PolicyIdReference>x</PolicyIdReference></PolicySet>`))
	if _, err := Compile(root); err == nil || !strings.Contains(err.Error(), "policy repository") {
		t.Errorf("reference without resolver: %v", err)
	}
	_, err = Compile(root, WithResolver(RepositoryResolver(nil)))
	if err == nil || !strings.Contains(err.Error(), "unresolved") {
		t.Errorf("unresolved: %v", err)
	}
}
