package rules

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkPlan plans a typical rules file (3 rules, every filter kind)
// over n records: the cost of `stickyd rules dry-run` beyond reading them.
func BenchmarkPlan(b *testing.B) {
	data := []byte(`{"rules":[
		{"name":"del-marketing","source":"Art. 5","type":"delete","categories":["marketing"],"filters":{"older_than":"P2Y","purpose":"https://w3id.org/dpv#Marketing"}},
		{"name":"pseud-health","source":"Art. 89","type":"pseudonymise","categories":["health","application/json"],"filters":{"created_before":"2026-01-01T00:00:00Z"}},
		{"name":"anon-images","source":"RS-12","type":"anonymise","categories":["image/*"],"filters":{"older_than":"90d","subject":"s7@example.org"}}]}`)
	rs, err := Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	cats := []string{"marketing", "health", "notes", ""}
	types := []string{"text/plain", "application/json", "image/png", "application/octet-stream"}
	for _, n := range []int{1000, 100000} {
		recs := make([]Record, n)
		for i := range recs {
			recs[i] = Record{ID: fmt.Sprint("r", i), Subject: fmt.Sprintf("s%d@example.org", i%10), Category: cats[i%4],
				ContentType: types[i%4], StoredAt: now.Add(-time.Duration(i) * time.Hour), Purposes: []string{direct}}
		}
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rs.Plan(recs, now, covers)
			}
		})
	}
}

// BenchmarkParse parses and validates a file of n rules.
func BenchmarkParse(b *testing.B) {
	for _, n := range []int{10, 1000} {
		data := []byte("[")
		for i := range n {
			if i > 0 {
				data = append(data, ',')
			}
			data = fmt.Appendf(data, `{"name":"r%d","source":"GDPR Art. 17","type":"delete","categories":["text/*","health"],"filters":{"older_than":"P30D","purpose":"https://w3id.org/dpv#Marketing","created_after":"2020-01-01T00:00:00Z"}}`, i)
		}
		data = append(data, ']')
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
