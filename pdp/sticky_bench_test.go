package pdp

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/policies"
	"github.com/stickypolicy/sticky/policies/xmlsafe"
)

// benchPolicy compiles a sticky policy with n rules (the permitting one
// last), three purposes, no downstream usage and a 30-day retention.
func benchPolicy(b *testing.B, n int) *StickyPolicy {
	b.Helper()
	xml := pplDoc("bench", typicalRules(n), terms(threeDPV, `<ppl:AuthzDownstreamUsage allowed="false"/>`, deleteAfter(now, "P30D")))
	doc, err := policies.Parse([]byte(xml), policies.WithLimits(xmlsafe.Limits{MaxBytes: 64 << 20, MaxElements: 2_000_000}))
	if err != nil {
		b.Fatal(err)
	}
	p, err := CompileSticky(doc)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

var benchReq = AccessRequest{Subject: "shop.example", Roles: []string{"controller"}, Resource: "rec-1", Action: ActionRead,
	Purpose: dpv + "TargetedAdvertising", Time: time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC),
	StoredAt: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)}

// BenchmarkStickyDecide measures one sticky decision (XACML permit, purpose
// covered through the taxonomy, retention checked) for policies of 10, 100
// and 10,000 rules; the permitting rule is the last one.
func BenchmarkStickyDecide(b *testing.B) {
	for _, n := range []int{10, 100, 10_000} {
		name := fmt.Sprintf("rules=%d", n)
		if n == 10 {
			name = "typical/rules=10,purposes=3"
		}
		b.Run(name, func(b *testing.B) {
			p := benchPolicy(b, n)
			if r := p.Decide(benchReq); r.Decision != Permit {
				b.Fatalf("Decide = %+v", r)
			}
			b.ReportAllocs()
			for b.Loop() {
				if p.Decide(benchReq).Decision != Permit {
					b.Fatal("not permitted")
				}
			}
		})
	}
}

// BenchmarkStickyDeny measures a typical denial (purpose not allowed), which
// builds its reason sentence.
func BenchmarkStickyDeny(b *testing.B) {
	p := benchPolicy(b, 10)
	req := benchReq
	req.Purpose = dpv + "FraudPreventionAndDetection"
	b.ReportAllocs()
	for b.Loop() {
		if p.Decide(req).Decision != Deny {
			b.Fatal("not denied")
		}
	}
}

// BenchmarkStickyRecords shows that the decision time does not depend on
// how many records (each with its own compiled policy) are held: N
// compiled policies in a map by record id; "one" decides on the same
// record every time, "rotating" on each record in turn (so every decision
// reads a policy that is cold in the CPU caches: what grows there is
// memory traffic, not work). The parsed document is shared to keep the
// set-up short; decisions never read it.
func BenchmarkStickyRecords(b *testing.B) {
	xml := pplDoc("bench", typicalRules(10), terms(threeDPV, `<ppl:AuthzDownstreamUsage allowed="false"/>`, deleteAfter(now, "P30D")))
	doc, err := policies.Parse([]byte(xml))
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 100, 10_000} {
		byID := make(map[string]*StickyPolicy, n)
		ids := make([]string, n)
		for i := range n {
			p, err := CompileSticky(doc)
			if err != nil {
				b.Fatal(err)
			}
			ids[i] = fmt.Sprintf("rec-%d", i)
			byID[ids[i]] = p
		}
		// Finish the collection the set-up started, so the loop measures
		// decisions, not the marking of the compiled policies.
		runtime.GC()
		for _, mode := range []string{"one", "rotating"} {
			b.Run(fmt.Sprintf("records=%d/%s", n, mode), func(b *testing.B) {
				req := benchReq
				req.Resource = ids[n/2]
				i := 0
				b.ReportAllocs()
				for b.Loop() {
					if mode == "rotating" {
						req.Resource = ids[i]
						if i++; i == n {
							i = 0
						}
					}
					if byID[req.Resource].Decide(req).Decision != Permit {
						b.Fatal("not permitted")
					}
				}
			})
		}
	}
}

// BenchmarkCompileSticky measures compiling a typical parsed policy (what
// a cache miss costs on top of parsing).
func BenchmarkCompileSticky(b *testing.B) {
	xml := pplDoc("bench", typicalRules(10), terms(threeDPV, `<ppl:AuthzDownstreamUsage allowed="false"/>`, deleteAfter(now, "P30D")))
	doc, err := policies.Parse([]byte(xml))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CompileSticky(doc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseSticky measures parsing a typical policy document.
func BenchmarkParseSticky(b *testing.B) {
	xml := []byte(pplDoc("bench", typicalRules(10), terms(threeDPV, `<ppl:AuthzDownstreamUsage allowed="false"/>`, deleteAfter(now, "P30D"))))
	b.SetBytes(int64(len(xml)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := policies.Parse(xml); err != nil {
			b.Fatal(err)
		}
	}
}
