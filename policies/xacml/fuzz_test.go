package xacml

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stickypolicy/sticky/policies/xmlsafe"
)

// FuzzParseXACML checks that any input either parses into a model whose
// serialization parses back to the same serialization, or fails with a
// classified error, and never panics.
func FuzzParseXACML(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.xml")
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	for _, id := range []string{"IIA001", "IIC003", "IID302", "IIE001/Policies"} {
		if data, err := os.ReadFile(filepath.Join("../../pdp/testdata/xacml-3.0/xacml-3.0-from-2.0-ct/mandatory", id, "Policy.xml")); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`<Policy PolicyId="p" RuleCombiningAlgId="x"><Rule RuleId="r" Effect="Permit"/></Policy>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := xmlsafe.Parse(data, xmlsafe.Limits{MaxBytes: 1 << 16, MaxDepth: 32, MaxElements: 2000})
		if err != nil {
			return
		}
		r, err := Parse(doc.Root())
		if err != nil {
			var ve *xmlsafe.ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		s1, err := r.Document().WriteToString()
		if err != nil {
			t.Fatal(err)
		}
		doc2, err := xmlsafe.Parse([]byte(s1), xmlsafe.Limits{MaxBytes: 1 << 20, MaxDepth: 64, MaxElements: 20000})
		if err != nil {
			t.Fatalf("serialization is not safe XML: %v\n%s", err, s1)
		}
		r2, err := Parse(doc2.Root())
		if err != nil {
			t.Fatalf("serialization does not parse: %v\n%s", err, s1)
		}
		s2, _ := r2.Document().WriteToString()
		if s1 != s2 {
			t.Fatalf("round trip not stable:\n%s\n---\n%s", s1, s2)
		}
	})
}
