package compliance

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkCheck checks a log of n permitted reads, each with its owner
// notification, against a compiled policy (compilation not included).
func BenchmarkCheck(b *testing.B) {
	for _, n := range []int{100, 1000} {
		lb := newLog(b, "basic.xml")
		for i := range n {
			at := time.Duration(i+1) * time.Minute
			lb.read(at, bob, service).notified(at+time.Second, service)
		}
		l := lb.log(true)
		pols, err := LogPolicies(l, nil)
		if err != nil {
			b.Fatal(err)
		}
		c := NewChecker()
		in := Input{Log: l, Policies: pols, At: t0.Add(day(1))}
		b.Run(fmt.Sprintf("entries=%d", len(l.Entries)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if rep := c.Check(in); rep.Verdict != Compliant {
					b.Fatalf("%+v", rep.Violations[:1])
				}
			}
		})
	}
}
