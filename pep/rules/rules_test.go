package rules

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseExample(t *testing.T) {
	data, err := os.ReadFile("testdata/example.json")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(rs.Rules) != 3 {
		t.Fatalf("got %d rules, want 3", len(rs.Rules))
	}
	r0, r1, r2 := rs.Rules[0], rs.Rules[1], rs.Rules[2]
	if r0.Name != "marketing-after-two-years" || r0.Type != Delete || r0.Source != "GDPR Art. 5(1)(e) storage limitation" {
		t.Errorf("rule 1 = %+v", r0)
	}
	if r0.Filters.OlderThan == nil || *r0.Filters.OlderThan != (Age{Years: 2}) || r0.Filters.Purpose != "https://w3id.org/dpv#Marketing" {
		t.Errorf("rule 1 filters = %+v", r0.Filters)
	}
	if r1.Type != Pseudonymise || !r1.Filters.CreatedBefore.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("rule 2 = %+v", r1)
	}
	if r2.Type != Anonymise || *r2.Filters.OlderThan != (Age{Days: 90}) || len(r2.Categories) != 1 {
		t.Errorf("rule 3 = %+v", r2)
	}
}

func TestParseBareArrayAndSpellings(t *testing.T) {
	rs, err := Parse([]byte(`[{"name":"a","source":"s","type":"anonymize","categories":["*"]},
		{"name":"b","source":"s","type":"pseudonymize","categories":["text/plain"]}]`))
	if err != nil {
		t.Fatal(err)
	}
	if rs.Rules[0].Type != Anonymise || rs.Rules[1].Type != Pseudonymise {
		t.Fatalf("types = %s, %s", rs.Rules[0].Type, rs.Rules[1].Type)
	}
}

// TestParseRejects checks that each invalid file is refused as a whole and
// that the error names the rule and the field at fault.
func TestParseRejects(t *testing.T) {
	const ok = `{"name":"ok","source":"GDPR Art. 17","type":"delete","categories":["*"]}`
	wrap := func(rules ...string) string { return `{"rules":[` + strings.Join(rules, ",") + `]}` }
	tests := []struct {
		name  string
		file  string
		want  []string // substrings of the error
		index int      // the rule named in the first problem (0: the file)
		field string   // the field named in the first problem
	}{
		{"empty file", "", []string{"empty"}, 0, ""},
		{"not JSON", "{", []string{"not a JSON object"}, 0, ""},
		{"trailing data", wrap(ok) + " {}", []string{"after the JSON value"}, 0, ""},
		{"no rules", `{"rules":[]}`, []string{"no rule"}, 0, ""},
		{"rules missing", `{}`, []string{`"rules" list is missing`}, 0, ""},
		{"unknown top-level field", `{"rules":[` + ok + `],"version":2}`, []string{`field "version"`, "unknown field"}, 0, "version"},
		{"rules not a list", `{"rules":{}}`, []string{`field "rules"`}, 0, "rules"},
		{"rule not an object", wrap(`"x"`), []string{"rule 1", "JSON object"}, 1, ""},
		{"missing name", wrap(`{"source":"s","type":"delete","categories":["*"]}`), []string{"rule 1", `field "name"`, "missing"}, 1, "name"},
		{"empty name", wrap(`{"name":"","source":"s","type":"delete","categories":["*"]}`), []string{`field "name"`, "empty"}, 1, "name"},
		{"bad name", wrap(`{"name":"has space","source":"s","type":"delete","categories":["*"]}`), []string{`field "name"`, `"has space"`}, 1, "name"},
		{"name not a string", wrap(`{"name":3,"source":"s","type":"delete","categories":["*"]}`), []string{`field "name"`, "want a string"}, 1, "name"},
		{"duplicate name", wrap(ok, ok), []string{`rule 2 "ok"`, `field "name"`, "already used by rule 1"}, 2, "name"},
		{"missing source", wrap(`{"name":"r","type":"delete","categories":["*"]}`), []string{`rule 1 "r"`, `field "source"`}, 1, "source"},
		{"blank source", wrap(`{"name":"r","source":"  ","type":"delete","categories":["*"]}`), []string{`field "source"`, "empty"}, 1, "source"},
		{"missing type", wrap(`{"name":"r","source":"s","categories":["*"]}`), []string{`field "type"`, "missing"}, 1, "type"},
		{"bad type", wrap(`{"name":"r","source":"s","type":"shred","categories":["*"]}`), []string{`rule 1 "r"`, `field "type"`, `"shred"`}, 1, "type"},
		{"type not a string", wrap(`{"name":"r","source":"s","type":["delete"],"categories":["*"]}`), []string{`field "type"`}, 1, "type"},
		{"missing categories", wrap(`{"name":"r","source":"s","type":"delete"}`), []string{`field "categories"`, "missing"}, 1, "categories"},
		{"empty categories", wrap(`{"name":"r","source":"s","type":"delete","categories":[]}`), []string{`field "categories"`, "empty"}, 1, "categories"},
		{"categories not strings", wrap(`{"name":"r","source":"s","type":"delete","categories":[1]}`), []string{`field "categories"`, "array of strings"}, 1, "categories"},
		{"bad content type", wrap(`{"name":"r","source":"s","type":"delete","categories":["text/"]}`), []string{`field "categories[0]"`, "content type"}, 1, "categories[0]"},
		{"bad label", wrap(`{"name":"r","source":"s","type":"delete","categories":["*","Health Data"]}`), []string{`field "categories[1]"`, "label"}, 1, "categories[1]"},
		{"unknown rule field", wrap(`{"name":"r","source":"s","type":"delete","categories":["*"],"olderThan":"P1D"}`), []string{`rule 1 "r"`, `field "olderThan"`, "unknown field"}, 1, "olderThan"},
		{"filters not an object", wrap(`{"name":"r","source":"s","type":"delete","categories":["*"],"filters":[]}`), []string{`field "filters"`}, 1, "filters"},
		{"unknown filter", wrap(`{"name":"r","source":"s","type":"delete","categories":["*"],"filters":{"olderThan":"P1D"}}`), []string{`field "filters.olderThan"`, "unknown filter"}, 1, "filters.olderThan"},
		{"bad older_than", wrap(`{"name":"r","source":"s","type":"delete","categories":["*"],"filters":{"older_than":"30 days"}}`), []string{`rule 1 "r"`, `field "filters.older_than"`, `"30 days"`}, 1, "filters.older_than"},
		{"negative older_than", wrap(`{"name":"r","source":"s","type":"delete","categories":["*"],"filters":{"older_than":"-5h"}}`), []string{`field "filters.older_than"`, "positive"}, 1, "filters.older_than"},
		{"zero older_than", wrap(`{"name":"r","source":"s","type":"delete","categories":["*"],"filters":{"older_than":"PT0S"}}`), []string{`field "filters.older_than"`, "positive"}, 1, "filters.older_than"},
		{"bad created_before", wrap(`{"name":"r","source":"s","type":"delete","categories":["*"],"filters":{"created_before":"2026-01-01"}}`), []string{`field "filters.created_before"`, "RFC 3339"}, 1, "filters.created_before"},
		{"bad created_after", wrap(`{"name":"r","source":"s","type":"delete","categories":["*"],"filters":{"created_after":"yesterday"}}`), []string{`field "filters.created_after"`, "RFC 3339"}, 1, "filters.created_after"},
		{"empty window", wrap(`{"name":"r","source":"s","type":"delete","categories":["*"],"filters":{"created_after":"2026-02-01T00:00:00Z","created_before":"2026-01-01T00:00:00Z"}}`), []string{`field "filters.created_after"`, "no record can match"}, 1, "filters.created_after"},
		{"bad purpose", wrap(`{"name":"r","source":"s","type":"delete","categories":["*"],"filters":{"purpose":"marketing"}}`), []string{`field "filters.purpose"`, "IRI"}, 1, "filters.purpose"},
		{"bad subject", wrap(`{"name":"r","source":"s","type":"delete","categories":["*"],"filters":{"subject":"a b"}}`), []string{`field "filters.subject"`}, 1, "filters.subject"},
		{"bad category filter", wrap(`{"name":"r","source":"s","type":"delete","categories":["*"],"filters":{"category":"A"}}`), []string{`field "filters.category"`}, 1, "filters.category"},
		{"empty filter value", wrap(`{"name":"r","source":"s","type":"delete","categories":["*"],"filters":{"subject":""}}`), []string{`field "filters.subject"`, "empty"}, 1, "filters.subject"},
		{"filter wrong type", wrap(`{"name":"r","source":"s","type":"delete","categories":["*"],"filters":{"older_than":30}}`), []string{`field "filters.older_than"`, "want a string"}, 1, "filters.older_than"},
		{"second rule bad, first fine", wrap(ok, `{"name":"two","source":"s","type":"delete","categories":["*"],"filters":{"older_than":"P"}}`), []string{`rule 2 "two"`, `field "filters.older_than"`}, 2, "filters.older_than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := Parse([]byte(tt.file))
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", rs)
			}
			if rs != nil {
				t.Errorf("Parse returned rules with an error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("error %T is not a *ValidationError with problems", err)
			}
			if p := ve.Problems[0]; p.Index != tt.index || p.Field != tt.field {
				t.Errorf("first problem names rule %d field %q, want rule %d field %q (%s)", p.Index, p.Field, tt.index, tt.field, p)
			}
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	_, err := Parse([]byte(`[{"name":"a","source":"","type":"x","categories":[]},{"name":"b","source":"s","type":"delete","categories":["*"],"filters":{"purpose":"no"}}]`))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	got := map[string]bool{}
	for _, p := range ve.Problems {
		got[p.Rule+"/"+p.Field] = true
	}
	for _, want := range []string{"a/source", "a/type", "a/categories", "b/filters.purpose"} {
		if !got[want] {
			t.Errorf("problem %s not reported; got %v", want, ve.Problems)
		}
	}
}

func TestParseAge(t *testing.T) {
	tests := []struct {
		in   string
		want Age
		bad  bool
	}{
		{in: "P30D", want: Age{Days: 30}},
		{in: "P1Y6M", want: Age{Years: 1, Months: 6}},
		{in: "PT12H", want: Age{Clock: 12 * time.Hour}},
		{in: "P0Y3M0DT0H0M0S", want: Age{Months: 3}},
		{in: "P1DT1H1M1.5S", want: Age{Days: 1, Clock: time.Hour + time.Minute + 1500*time.Millisecond}},
		{in: "PT90M", want: Age{Clock: 90 * time.Minute}},
		{in: "720h", want: Age{Clock: 720 * time.Hour}},
		{in: "1h30m", want: Age{Clock: 90 * time.Minute}},
		{in: "90d", want: Age{Days: 90}},
		{in: "", bad: true},
		{in: "P", bad: true},
		{in: "PT", bad: true},
		{in: "P1H", bad: true},
		{in: "PT1D", bad: true},
		{in: "P1D1Y", bad: true},
		{in: "P1Y1Y", bad: true},
		{in: "P1.5D", bad: true},
		{in: "P-1D", bad: true},
		{in: "-P1D", bad: true},
		{in: "P0D", bad: true},
		{in: "0s", bad: true},
		{in: "-1h", bad: true},
		{in: "d", bad: true},
		{in: "0d", bad: true},
		{in: "ten days", bad: true},
		{in: "P99999999999Y", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseAge(tt.in)
			if tt.bad {
				if err == nil {
					t.Fatalf("ParseAge(%q) = %+v, want an error", tt.in, got)
				}
				if !errors.Is(err, ErrBadAge) {
					t.Errorf("error %v does not wrap ErrBadAge", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAge(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseAge(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			again, err := ParseAge(got.String())
			if err != nil || again != got {
				t.Errorf("round trip through %q = %+v, %v", got.String(), again, err)
			}
		})
	}
}

func TestAgeBefore(t *testing.T) {
	now := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	if got, want := (Age{Months: 1}).Before(now), time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC); !got.Equal(want) {
		// AddDate normalises 2026-02-31 to 2026-03-03.
		t.Errorf("1 month before %s = %s, want %s", now, got, want)
	}
	if got, want := (Age{Days: 1, Clock: time.Hour}).Before(now), time.Date(2026, 3, 30, 11, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("P1DT1H before %s = %s, want %s", now, got, want)
	}
}
