package engine

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/policies/xacml"
	"github.com/stickypolicy/sticky/policies/xmlsafe"
)

const purposeAttr = "http://www.primelife.eu/ppl/purpose"

// benchPolicy builds a policy of n rules shaped like a sticky policy's
// XACML part: each rule matches a subject (or role), the resource, a set
// of actions and a purpose, and the last rules check the time.
func benchPolicy(n int) string {
	var b strings.Builder
	b.WriteString(`<Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="bench" Version="1.0"
  RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-unless-permit"><Target/>`)
	match := func(fn, dt, val, cat, id string) string {
		return fmt.Sprintf(`<Match MatchId="urn:oasis:names:tc:xacml:1.0:function:%s"><AttributeValue DataType="%s">%s</AttributeValue><AttributeDesignator Category="%s" AttributeId="%s" DataType="%s" MustBePresent="false"/></Match>`,
			fn, dt, val, cat, id, dt)
	}
	for i := 0; i < n; i++ {
		subj := match("string-equal", xacml.TypeString, fmt.Sprintf("user%d@example.org", i), CategorySubject, xacml.AttrSubjectID)
		if i%3 == 1 {
			subj = match("string-equal", xacml.TypeString, fmt.Sprintf("role%d", i), CategorySubject, xacml.AttrRole)
		}
		fmt.Fprintf(&b, `<Rule RuleId="r%d" Effect="Permit"><Target>
<AnyOf><AllOf>%s</AllOf></AnyOf>
<AnyOf><AllOf>%s</AllOf></AnyOf>
<AnyOf><AllOf>%s</AllOf><AllOf>%s</AllOf></AnyOf>
<AnyOf><AllOf>%s</AllOf><AllOf>%s</AllOf><AllOf>%s</AllOf></AnyOf>
</Target>`, i, subj,
			match("anyURI-equal", xacml.TypeAnyURI, "urn:sticky:pii:record-42", CategoryResource, xacml.AttrResourceID),
			match("string-equal", xacml.TypeString, "read", CategoryAction, xacml.AttrActionID),
			match("string-equal", xacml.TypeString, "disclose", CategoryAction, xacml.AttrActionID),
			match("anyURI-equal", xacml.TypeAnyURI, "https://w3id.org/dpv#ServiceProvision", CategoryAction, purposeAttr),
			match("anyURI-equal", xacml.TypeAnyURI, "https://w3id.org/dpv#Marketing", CategoryAction, purposeAttr),
			match("anyURI-equal", xacml.TypeAnyURI, "https://w3id.org/dpv#ResearchAndDevelopment", CategoryAction, purposeAttr))
		if i >= n-2 {
			fmt.Fprintf(&b, `<Condition><Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:dateTime-less-than">
<Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:dateTime-one-and-only"><AttributeDesignator Category="%s" AttributeId="%s" DataType="%s" MustBePresent="true"/></Apply>
<AttributeValue DataType="%s">2030-01-01T00:00:00Z</AttributeValue></Apply></Condition>`,
				CategoryEnvironment, xacml.AttrCurrentDateTime, xacml.TypeDateTime, xacml.TypeDateTime)
		}
		b.WriteString(`</Rule>`)
	}
	b.WriteString(`</Policy>`)
	return b.String()
}

func compileBench(tb testing.TB, n int, opts ...Option) *Policy {
	tb.Helper()
	doc, err := xmlsafe.Parse([]byte(benchPolicy(n)), xmlsafe.Limits{MaxBytes: 64 << 20, MaxElements: 2_000_000})
	if err != nil {
		tb.Fatal(err)
	}
	root, err := xacml.Parse(doc.Root())
	if err != nil {
		tb.Fatal(err)
	}
	p, err := Compile(root, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

var benchNow = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// fillBench builds the request the sticky decision sends: six attributes.
// The subject is the one the last rule names, so a scan visits every rule.
func fillBench(req *Request, n int) {
	req.Reset()
	req.Add(CategorySubject, xacml.AttrSubjectID, String(fmt.Sprintf("user%d@example.org", n-1)))
	req.Add(CategorySubject, xacml.AttrRole, String("controller"))
	req.Add(CategoryResource, xacml.AttrResourceID, AnyURI("urn:sticky:pii:record-42"))
	req.Add(CategoryAction, xacml.AttrActionID, String("read"))
	req.Add(CategoryAction, purposeAttr, AnyURI("https://w3id.org/dpv#Marketing"))
	req.Add(CategoryEnvironment, xacml.AttrCurrentDateTime, DateTime(benchNow))
}

func TestBenchPolicyDecides(t *testing.T) {
	for _, n := range []int{1, 10, 100} {
		p := compileBench(t, n)
		req := NewRequest()
		fillBench(req, n)
		if got := p.Evaluate(req); got.Decision != Permit {
			t.Fatalf("rules=%d: %v %v", n, got.Decision, got.Status)
		}
		req.Reset()
		req.Add(CategorySubject, xacml.AttrSubjectID, String("mallory@example.org"))
		req.Add(CategoryResource, xacml.AttrResourceID, AnyURI("urn:sticky:pii:record-42"))
		req.Add(CategoryAction, xacml.AttrActionID, String("read"))
		req.Add(CategoryAction, purposeAttr, AnyURI("https://w3id.org/dpv#Marketing"))
		if got := p.Evaluate(req); got.Decision != Deny {
			t.Fatalf("rules=%d: stranger got %v", n, got.Decision)
		}
	}
	// Past the deadline in the condition, the rule does not apply.
	p := compileBench(t, 10)
	req := NewRequest()
	fillBench(req, 10)
	req.attrs[5].v = DateTime(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))
	if got := p.Evaluate(req); got.Decision != Deny {
		t.Fatalf("after 2030: %v", got.Decision)
	}
}

func BenchmarkEvaluate(b *testing.B) {
	for _, n := range []int{10, 100, 10000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			p := compileBench(b, n)
			req := NewRequest()
			fillBench(req, n)
			if d := p.Evaluate(req).Decision; d != Permit {
				b.Fatalf("decision %v", d)
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = p.Evaluate(req)
			}
		})
	}
}

// BenchmarkEvaluateScan is BenchmarkEvaluate without the rule index: every
// rule is visited.
func BenchmarkEvaluateScan(b *testing.B) {
	for _, n := range []int{100, 10000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			p := compileBench(b, n, func(o *options) { o.noIndex = true })
			req := NewRequest()
			fillBench(req, n)
			if d := p.Evaluate(req).Decision; d != Permit {
				b.Fatalf("decision %v", d)
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = p.Evaluate(req)
			}
		})
	}
}

// BenchmarkBuildAndEvaluate includes filling the reused request.
func BenchmarkBuildAndEvaluate(b *testing.B) {
	p := compileBench(b, 10)
	req := NewRequest()
	subject := "user9@example.org"
	b.ReportAllocs()
	for b.Loop() {
		req.Reset()
		req.Add(CategorySubject, xacml.AttrSubjectID, String(subject))
		req.Add(CategorySubject, xacml.AttrRole, String("controller"))
		req.Add(CategoryResource, xacml.AttrResourceID, AnyURI("urn:sticky:pii:record-42"))
		req.Add(CategoryAction, xacml.AttrActionID, String("read"))
		req.Add(CategoryAction, purposeAttr, AnyURI("https://w3id.org/dpv#Marketing"))
		req.Add(CategoryEnvironment, xacml.AttrCurrentDateTime, DateTime(benchNow))
		if p.Evaluate(req).Decision != Permit {
			b.Fatal("not permitted")
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	src := []byte(benchPolicy(10))
	b.ReportAllocs()
	for b.Loop() {
		root, err := ParsePolicy(src)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Compile(root); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompiledSize reports the heap a compiled 10-rule policy keeps
// (without its source model), the cost of caching one per stored record.
func BenchmarkCompiledSize(b *testing.B) {
	src := []byte(benchPolicy(10))
	const n = 100
	var before, after runtime.MemStats
	for b.Loop() {
		keep := make([]*Policy, 0, n)
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := 0; i < n; i++ {
			root, err := ParsePolicy(src)
			if err != nil {
				b.Fatal(err)
			}
			p, err := Compile(root)
			if err != nil {
				b.Fatal(err)
			}
			p.source = nil
			keep = append(keep, p)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "retained-B/policy")
		runtime.KeepAlive(keep)
	}
}
