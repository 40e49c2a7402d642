package policies

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const dpv = DPVPrefix

func TestDefaultTaxonomyCovers(t *testing.T) {
	tax := DefaultTaxonomy()
	tests := []struct {
		name               string
		allowed, requested string
		want               bool
	}{
		{"same", dpv + "Marketing", dpv + "Marketing", true},
		{"child", dpv + "Marketing", dpv + "Advertising", true},
		{"grandchild", dpv + "Marketing", dpv + "TargetedAdvertising", true},
		{"parent not covered by child", dpv + "Advertising", dpv + "Marketing", false},
		{"sibling", dpv + "ServiceProvision", dpv + "Marketing", false},
		{"root covers all DPV", DPVPurpose, dpv + "TargetedAdvertising", true},
		{"second parent", dpv + "Personalisation", dpv + "PersonalisedAdvertising", true},
		{"first parent", dpv + "Advertising", dpv + "PersonalisedAdvertising", true},
		{"second parent's ancestor", dpv + "Marketing", dpv + "RecruitmentTargetedAdvertising", true},
		{"parent outside the module", dpv + "LegalObligation", dpv + "RightsFulfillment", true},
		{"any covers DPV", PurposeAny, dpv + "Marketing", true},
		{"any covers P3P", PurposeAny, P3P11Prefix + "marketing", true},
		{"any covers unknown", PurposeAny, "https://example.org/p#X", true},
		{"unknown covers itself", "https://example.org/p#X", "https://example.org/p#X", true},
		{"unknown covers nothing else", "https://example.org/p#X", dpv + "Marketing", false},
		{"known does not cover unknown", DPVPurpose, "https://example.org/p#X", false},
		{"P3P itself", P3P10Prefix + "admin", P3P10Prefix + "admin", true},
		{"P3P is not DPV", DPVPurpose, P3P11Prefix + "marketing", false},
		{"P3P siblings", P3P10Prefix + "admin", P3P10Prefix + "develop", false},
		{"nothing covers the empty purpose", PurposeAny, "", false},
		{"any is not covered by a purpose", dpv + "Marketing", PurposeAny, false},
		{"case matters", dpv + "marketing", dpv + "Advertising", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tax.Covers(tt.allowed, tt.requested); got != tt.want {
				t.Errorf("Covers(%s, %s) = %v, want %v", tt.allowed, tt.requested, got, tt.want)
			}
		})
	}
}

func TestDefaultTaxonomyContents(t *testing.T) {
	tax := DefaultTaxonomy()
	if tax != DefaultTaxonomy() {
		t.Error("DefaultTaxonomy is rebuilt on every call")
	}
	n := 0
	for _, p := range tax.Purposes() {
		if strings.HasPrefix(p, DPVPrefix) {
			n++
		}
	}
	// 120 DPV classes plus dpv:LegalObligation, named only as a parent.
	if n != 121 {
		t.Errorf("DPV purposes = %d, want 121", n)
	}
	for _, p := range p3pPurposes {
		if !tax.Known(p) {
			t.Errorf("P3P purpose %s missing", p)
		}
	}
	if got := tax.Label(dpv + "TargetedAdvertising"); got != "Targeted Advertising" {
		t.Errorf("Label = %q", got)
	}
	got := tax.Parents(dpv + "PersonalisedAdvertising")
	if len(got) != 2 || got[0] != dpv+"Personalisation" || got[1] != dpv+"Advertising" {
		t.Errorf("Parents = %v", got)
	}
	anc := tax.Ancestors(dpv + "TargetedAdvertising")
	for _, want := range []string{dpv + "Advertising", dpv + "Marketing", dpv + "Purpose", dpv + "PersonalisedAdvertising"} {
		if !contains(anc, want) {
			t.Errorf("Ancestors(TargetedAdvertising) = %v, lacks %s", anc, want)
		}
	}
	if tax.Known(dpv + "hasPurpose") {
		t.Error("a DPV property was taken for a purpose")
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func TestNewTaxonomyExtra(t *testing.T) {
	tax, err := NewTaxonomy(
		PurposeDef{IRI: "https://shop.example/p#LoyaltyMails", Parent: dpv + "DirectMarketing", Label: "Loyalty mails"},
		PurposeDef{IRI: "https://shop.example/p#VIPMails", Parent: "https://shop.example/p#LoyaltyMails"},
		PurposeDef{IRI: "https://shop.example/p#VIPMails", Parent: dpv + "CustomerCare"},
		PurposeDef{IRI: "https://shop.example/p#Own"},
	)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		allowed, requested string
		want               bool
	}{
		{dpv + "Marketing", "https://shop.example/p#LoyaltyMails", true},
		{dpv + "DirectMarketing", "https://shop.example/p#VIPMails", true},
		{dpv + "CustomerManagement", "https://shop.example/p#VIPMails", true},
		{"https://shop.example/p#LoyaltyMails", "https://shop.example/p#VIPMails", true},
		{"https://shop.example/p#VIPMails", "https://shop.example/p#LoyaltyMails", false},
		{dpv + "ServiceProvision", "https://shop.example/p#LoyaltyMails", false},
		{DPVPurpose, "https://shop.example/p#Own", false},
		{"https://shop.example/p#Own", "https://shop.example/p#Own", true},
	}
	for _, tt := range tests {
		if got := tax.Covers(tt.allowed, tt.requested); got != tt.want {
			t.Errorf("Covers(%s, %s) = %v, want %v", tt.allowed, tt.requested, got, tt.want)
		}
	}
	if DefaultTaxonomy().Known("https://shop.example/p#LoyaltyMails") {
		t.Error("NewTaxonomy changed the default taxonomy")
	}
	if got := tax.Label("https://shop.example/p#LoyaltyMails"); got != "Loyalty mails" {
		t.Errorf("Label = %q", got)
	}
}

func TestNewTaxonomyErrors(t *testing.T) {
	tests := []struct {
		name  string
		defs  []PurposeDef
		wants []string
	}{
		{"unknown parent", []PurposeDef{{IRI: "https://x.example/a", Parent: dpv + "NoSuchThing"}},
			[]string{`unknown parent "https://w3id.org/dpv#NoSuchThing"`}},
		{"relative iri", []PurposeDef{{IRI: "billing", Parent: dpv + "Marketing"}}, []string{"absolute IRI"}},
		{"empty iri", []PurposeDef{{Parent: dpv + "Marketing"}}, []string{"absolute IRI"}},
		{"redefine built-in", []PurposeDef{{IRI: dpv + "Marketing", Parent: dpv + "ServiceProvision"}}, []string{"built-in"}},
		{"redefine any", []PurposeDef{{IRI: PurposeAny}}, []string{"wildcard"}},
		{"any as parent", []PurposeDef{{IRI: "https://x.example/a", Parent: PurposeAny}}, []string{"covers every purpose"}},
		{"self parent", []PurposeDef{{IRI: "https://x.example/a", Parent: "https://x.example/a"}}, []string{"own parent"}},
		{"cycle", []PurposeDef{
			{IRI: "https://x.example/a", Parent: "https://x.example/b"},
			{IRI: "https://x.example/b", Parent: "https://x.example/c"},
			{IRI: "https://x.example/c", Parent: "https://x.example/a"},
		}, []string{"cycle", "https://x.example/a", "https://x.example/b", "https://x.example/c"}},
		{"all problems", []PurposeDef{
			{IRI: "rel", Parent: dpv + "Marketing"},
			{IRI: "https://x.example/a", Parent: "https://x.example/missing"},
		}, []string{"purpose 1", "purpose 2", "absolute IRI", "unknown parent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewTaxonomy(tt.defs...)
			if !errors.Is(err, ErrTaxonomy) {
				t.Fatalf("NewTaxonomy = %v, want ErrTaxonomy", err)
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestLoadTaxonomy(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "purposes.json")
	os.WriteFile(good, []byte(`[{"iri": "https://x.example/p#Billing", "parent": "https://w3id.org/dpv#ServiceProvision", "label": "Billing"}]`), 0o600)
	tax, err := LoadTaxonomy(good)
	if err != nil {
		t.Fatal(err)
	}
	if !tax.Covers(dpv+"ServiceProvision", "https://x.example/p#Billing") {
		t.Error("loaded purpose not covered by its parent")
	}
	for name, content := range map[string]string{
		"unknown-field.json": `[{"iri": "https://x.example/a", "parnet": "x"}]`,
		"not-array.json":     `{"iri": "https://x.example/a"}`,
		"trailing.json":      `[] []`,
		"bad-parent.json":    `[{"iri": "https://x.example/a", "parent": "https://x.example/none"}]`,
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			os.WriteFile(p, []byte(content), 0o600)
			_, err := LoadTaxonomy(p)
			if !errors.Is(err, ErrTaxonomy) || !strings.Contains(err.Error(), name) {
				t.Errorf("LoadTaxonomy = %v, want ErrTaxonomy naming the file", err)
			}
		})
	}
	if _, err := LoadTaxonomy(filepath.Join(dir, "missing.json")); !errors.Is(err, ErrTaxonomy) {
		t.Errorf("missing file: %v", err)
	}
	if tax, err := LoadTaxonomy(""); err != nil || tax != DefaultTaxonomy() {
		t.Errorf("empty path: %v", err)
	}
}

func TestIsAbsoluteIRI(t *testing.T) {
	for s, want := range map[string]bool{
		"https://w3id.org/dpv#Marketing":       true,
		"urn:example:purpose:billing":          true,
		"http://www.primelife.eu/purposes/any": true,
		"Marketing":                            false,
		"#Marketing":                           false,
		"":                                     false,
		"https://x y":                          false,
		"//host/path":                          false,
		"https:":                               false,
	} {
		if got := IsAbsoluteIRI(s); got != want {
			t.Errorf("IsAbsoluteIRI(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestCoversDoesNotAllocate(t *testing.T) {
	tax := DefaultTaxonomy()
	allocs := testing.AllocsPerRun(100, func() {
		tax.Covers(dpv+"Marketing", dpv+"TargetedAdvertising")
		tax.Covers(dpv+"ServiceProvision", "https://example.org/unknown")
	})
	if allocs != 0 {
		t.Errorf("Covers allocates %v times", allocs)
	}
}

func BenchmarkCovers(b *testing.B) {
	tax := DefaultTaxonomy()
	allowed, requested := dpv+"Marketing", dpv+"TargetedAdvertising"
	b.ReportAllocs()
	for b.Loop() {
		if !tax.Covers(allowed, requested) {
			b.Fatal("not covered")
		}
	}
}

func TestPurposeSet(t *testing.T) {
	tax := DefaultTaxonomy()
	sets := map[string][]string{
		"dpv":     {dpv + "Marketing", dpv + "ServiceProvision"},
		"unknown": {"https://x.example/p"},
		"any":     {PurposeAny},
		"none":    nil,
		"mixed":   {"https://x.example/p", P3P11Prefix + "marketing", dpv + "ResearchAndDevelopment"},
	}
	requests := []string{"", dpv + "Marketing", dpv + "TargetedAdvertising", dpv + "ServiceProvision", dpv + "Purpose",
		dpv + "AcademicResearch", "https://x.example/p", "https://x.example/q", P3P11Prefix + "marketing", PurposeAny}
	for name, allowed := range sets {
		s := tax.NewPurposeSet(allowed)
		for _, r := range requests {
			if got, want := s.Covers(r), tax.CoversAny(allowed, r); got != want {
				t.Errorf("%s: Covers(%q) = %v, CoversAny says %v", name, r, got, want)
			}
		}
	}
	s := tax.NewPurposeSet(sets["dpv"])
	if a := testing.AllocsPerRun(100, func() { s.Covers(dpv + "TargetedAdvertising") }); a != 0 {
		t.Errorf("PurposeSet.Covers allocates %v times", a)
	}
}
