package engine

import (
	"os"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/policies/xacml"
	"github.com/stickypolicy/sticky/policies/xmlsafe"
)

// FuzzCompileEvaluate compiles arbitrary policies and evaluates a fixed
// request against those that compile: nothing may panic, and every
// Indeterminate carries a status.
func FuzzCompileEvaluate(f *testing.F) {
	for _, id := range []string{"IIA001", "IIC090", "IID302", "IIC168", "IIIA001"} {
		if data, err := os.ReadFile("../testdata/xacml-3.0/xacml-3.0-from-2.0-ct/mandatory/" + id + "/Policy.xml"); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(designatorPolicy))
	f.Add([]byte(benchPolicy(2)))
	req, err := ParseRequest(mustRead(f, "../testdata/xacml-3.0/xacml-3.0-from-2.0-ct/mandatory/IIA001/Request.xml"))
	if err != nil {
		f.Fatal(err)
	}
	req.Add(CategoryEnvironment, xacml.AttrCurrentDateTime, DateTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := xmlsafe.Parse(data, xmlsafe.Limits{MaxBytes: 1 << 16, MaxDepth: 32, MaxElements: 2000})
		if err != nil {
			return
		}
		root, err := xacml.Parse(doc.Root())
		if err != nil {
			return
		}
		p, err := Compile(root)
		if err != nil {
			return
		}
		r := p.Evaluate(req)
		if r.Decision.IsIndeterminate() && r.Status == nil {
			t.Fatal("Indeterminate without status")
		}
		if _, err := r.MarshalXACML(); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzParseRequest reads arbitrary requests: an error or a request, never a
// panic.
func FuzzParseRequest(f *testing.F) {
	f.Add(mustRead(f, "../testdata/xacml-3.0/xacml-3.0-from-2.0-ct/mandatory/IIA001/Request.xml"))
	f.Add(mustRead(f, "../testdata/xacml-3.0/xacml-3.0-from-2.0-ct/mandatory/IIA022_FIXED_NO_CONTENT_NO_XPATH/Request.xml"))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := ParseRequest(data)
		if err != nil {
			return
		}
		if req.Len() < 0 {
			t.Fatal("negative length")
		}
	})
}

func mustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}
