package rules

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

const (
	dpv        = "https://w3id.org/dpv#"
	marketing  = dpv + "Marketing"
	direct     = dpv + "DirectMarketing"
	research   = dpv + "ResearchAndDevelopment"
	anyPurpose = "http://www.primelife.eu/purposes/any"
)

// covers is a tiny taxonomy: DirectMarketing under Marketing, everything
// under any.
func covers(allowed, requested string) bool {
	return allowed == requested || allowed == anyPurpose || (allowed == marketing && requested == direct)
}

func mustParse(t *testing.T, s string) *RuleSet {
	t.Helper()
	rs, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return rs
}

func rule(t *testing.T, typ, categories, filters string) Rule {
	t.Helper()
	s := `[{"name":"r","source":"s","type":"` + typ + `","categories":` + categories
	if filters != "" {
		s += `,"filters":` + filters
	}
	return mustParse(t, s+"}]").Rules[0]
}

func TestMatches(t *testing.T) {
	base := Record{ID: "r1", Subject: "alice@example.org", Category: "health", ContentType: "application/json; charset=utf-8",
		StoredAt: now.Add(-48 * time.Hour), Purposes: []string{direct}}
	with := func(f func(*Record)) Record { r := base; f(&r); return r }
	tests := []struct {
		name       string
		typ        string
		categories string
		filters    string
		rec        Record
		want       bool
	}{
		{"star", "delete", `["*"]`, "", base, true},
		{"star slash star", "delete", `["*/*"]`, "", base, true},
		{"exact content type ignores parameters", "delete", `["application/json"]`, "", base, true},
		{"content type wildcard", "delete", `["application/*"]`, "", base, true},
		{"other content type", "delete", `["text/plain"]`, "", base, false},
		{"other wildcard", "delete", `["image/*"]`, "", base, false},
		{"label", "delete", `["health"]`, "", base, true},
		{"other label", "delete", `["finance"]`, "", base, false},
		{"label or type", "delete", `["finance","application/json"]`, "", base, true},
		{"subject", "delete", `["*"]`, `{"subject":"alice@example.org"}`, base, true},
		{"other subject", "delete", `["*"]`, `{"subject":"bob@example.org"}`, base, false},
		{"category filter", "delete", `["*"]`, `{"category":"health"}`, base, true},
		{"other category filter", "delete", `["*"]`, `{"category":"finance"}`, base, false},
		{"created before", "delete", `["*"]`, `{"created_before":"2026-11-22T00:00:00Z"}`, base, true},
		{"created before is strict", "delete", `["*"]`, `{"created_before":"2026-11-21T12:00:00Z"}`, base, false},
		{"created after is inclusive", "delete", `["*"]`, `{"created_after":"2026-11-21T12:00:00Z"}`, base, true},
		{"created after", "delete", `["*"]`, `{"created_after":"2026-11-22T00:00:00Z"}`, base, false},
		{"older than", "delete", `["*"]`, `{"older_than":"P1D"}`, base, true},
		{"older than go duration", "delete", `["*"]`, `{"older_than":"47h"}`, base, true},
		{"not older than", "delete", `["*"]`, `{"older_than":"P2D"}`, base, false},
		{"not older than 3d", "delete", `["*"]`, `{"older_than":"3d"}`, base, false},
		{"purpose equal", "delete", `["*"]`, `{"purpose":"` + direct + `"}`, base, true},
		{"purpose broader than the policy's", "delete", `["*"]`, `{"purpose":"` + marketing + `"}`, base, true},
		{"purpose narrower than the policy's", "delete", `["*"]`, `{"purpose":"` + direct + `"}`, with(func(r *Record) { r.Purposes = []string{marketing} }), true},
		{"policy allows any", "delete", `["*"]`, `{"purpose":"` + research + `"}`, with(func(r *Record) { r.Purposes = []string{anyPurpose} }), true},
		{"unrelated purpose", "delete", `["*"]`, `{"purpose":"` + research + `"}`, base, false},
		{"no purposes", "delete", `["*"]`, `{"purpose":"` + research + `"}`, with(func(r *Record) { r.Purposes = nil }), false},
		{"all filters", "delete", `["health"]`, `{"subject":"alice@example.org","category":"health","older_than":"P1D","created_after":"2020-01-01T00:00:00Z","purpose":"` + marketing + `"}`, base, true},
		{"one filter fails", "delete", `["health"]`, `{"subject":"alice@example.org","category":"health","older_than":"P3D"}`, base, false},
		{"pseudonymise original", "pseudonymise", `["*"]`, "", base, true},
		{"pseudonymise twice", "pseudonymise", `["*"]`, "", with(func(r *Record) { r.State = StatePseudonymised }), false},
		{"pseudonymise anonymised", "pseudonymise", `["*"]`, "", with(func(r *Record) { r.State = StateAnonymised }), false},
		{"anonymise pseudonymised", "anonymise", `["*"]`, "", with(func(r *Record) { r.State = StatePseudonymised }), true},
		{"anonymise twice", "anonymise", `["*"]`, "", with(func(r *Record) { r.State = StateAnonymised }), false},
		{"delete anonymised", "delete", `["*"]`, "", with(func(r *Record) { r.State = StateAnonymised }), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rule(t, tt.typ, tt.categories, tt.filters)
			if got := r.Matches(tt.rec, now, covers); got != tt.want {
				t.Fatalf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPlanPrecedence(t *testing.T) {
	rs := mustParse(t, `{"rules":[
		{"name":"pseud-health","source":"Art. 89","type":"pseudonymise","categories":["health"]},
		{"name":"anon-json","source":"RS-1","type":"anonymise","categories":["application/json"]},
		{"name":"del-old","source":"Art. 17","type":"delete","categories":["*"],"filters":{"older_than":"P30D"}},
		{"name":"anon-json-2","source":"RS-2","type":"anonymise","categories":["application/json"]}
	]}`)
	recs := []Record{
		{ID: "a", Subject: "s1", Category: "health", ContentType: "text/plain", StoredAt: now.Add(-time.Hour)},
		{ID: "b", Subject: "s1", Category: "health", ContentType: "application/json", StoredAt: now.Add(-time.Hour)},
		{ID: "c", Subject: "s2", Category: "health", ContentType: "application/json", StoredAt: now.AddDate(0, 0, -31)},
		{ID: "d", Subject: "s2", Category: "other", ContentType: "image/png", StoredAt: now.Add(-time.Hour)},
		{ID: "e", Subject: "s2", Category: "health", ContentType: "text/plain", StoredAt: now.Add(-time.Hour), State: StatePseudonymised},
	}
	got := rs.Plan(recs, now, covers)
	type short struct {
		Rule, Record string
		Also         []string
	}
	var gotShort []short
	for _, c := range got {
		gotShort = append(gotShort, short{c.Rule, c.Record, c.Also})
	}
	want := []short{
		{"pseud-health", "a", nil},
		{"anon-json", "b", []string{"pseud-health", "anon-json-2"}},
		{"del-old", "c", []string{"pseud-health", "anon-json", "anon-json-2"}},
	}
	if !reflect.DeepEqual(gotShort, want) {
		t.Fatalf("Plan =\n%+v\nwant\n%+v", gotShort, want)
	}
	if c := got[2]; c.Type != Delete || c.Source != "Art. 17" || c.Subject != "s2" || !c.StoredAt.Equal(recs[2].StoredAt) {
		t.Errorf("change = %+v", c)
	}
	if empty := rs.Plan(nil, now, covers); empty == nil || len(empty) != 0 {
		t.Errorf("Plan(nil) = %#v, want an empty list", empty)
	}
}

func TestAnonymisedForm(t *testing.T) {
	tests := []struct {
		name, ct, in, want string
	}{
		{"json object", "application/json", `{"name":"Alice","age":42,"tags":["a","b"],"ok":true,"n":null,"addr":{"city":"Nice"}}`,
			`{"addr":{"city":null},"age":null,"n":null,"name":null,"ok":null,"tags":[null,null]}`},
		{"json with charset", "application/json; charset=utf-8", `["x", 1]`, `[null,null]`},
		{"json suffix", "application/ld+json", `"alice"`, `null`},
		{"bad json", "application/json", `{"name":`, ``},
		{"two json values", "application/json", `1 2`, ``},
		{"text", "text/plain", "Alice Smith, 12 rue X", ``},
		{"binary", "application/octet-stream", "\x00\x01secret", ``},
		{"bad content type", "", "alice", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AnonymisedForm(tt.ct, []byte(tt.in))
			if string(got) != tt.want {
				t.Fatalf("AnonymisedForm = %q, want %q", got, tt.want)
			}
			if got == nil {
				t.Fatal("AnonymisedForm returned nil, want empty bytes")
			}
			if strings.Contains(string(got), "lice") {
				t.Fatal("the anonymised form keeps the data")
			}
		})
	}
	deep := strings.Repeat("[", 200) + `"alice"` + strings.Repeat("]", 200)
	out := AnonymisedForm("application/json", []byte(deep))
	if strings.Contains(string(out), "alice") || !json.Valid(out) && len(out) != 0 {
		t.Fatalf("deep document: %q", out)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"rules":[{"name":"r","source":"s","type":"delete","categories":["*"],"filters":{"older_than":"P1D"}}]}`))
	f.Add([]byte(`[{"name":"a","source":"s","type":"anonymise","categories":["text/*","health"],"filters":{"created_before":"2026-01-01T00:00:00Z","purpose":"https://w3id.org/dpv#Marketing","subject":"a@b"}}]`))
	f.Add([]byte(`{"rules":[{"name":1}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := Parse(data)
		if (rs == nil) == (err == nil) {
			t.Fatalf("Parse returned rules %v and error %v", rs, err)
		}
		if err != nil {
			return
		}
		names := map[string]bool{}
		for _, r := range rs.Rules {
			if r.Name == "" || r.Source == "" || r.Type.strength() == 0 || len(r.Categories) == 0 || names[r.Name] {
				t.Fatalf("accepted an invalid rule %+v", r)
			}
			names[r.Name] = true
			r.Matches(Record{ID: "x", ContentType: "text/plain", StoredAt: now}, now, covers)
		}
	})
}

func FuzzParseAge(f *testing.F) {
	for _, s := range []string{"P30D", "PT1.5S", "90d", "720h", "P1Y2M3DT4H5M6S"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAge(s)
		if err != nil {
			return
		}
		if a.Years < 0 || a.Months < 0 || a.Days < 0 || a.Clock < 0 || a == (Age{}) {
			t.Fatalf("ParseAge(%q) accepted %+v", s, a)
		}
	})
}
