package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDeleteAtIsTheExactDeadline: delete_at names the very instant from
// which the data is refused. Truncated to the second (as it once was), it
// named an earlier instant, and a client that waited for it was still
// served the data.
func TestDeleteAtIsTheExactDeadline(t *testing.T) {
	e := newEnv(t)
	e.clock.Advance(700 * time.Millisecond) // storage time with a fraction of a second
	r := e.post("alice", part{name: "data", contentType: "text/plain", value: []byte("x")},
		part{name: "policy", value: readTestdata(t, "subject-policy.xml")})
	var c struct {
		ID       string  `json:"id"`
		DeleteAt *string `json:"delete_at"`
	}
	r.json(t, &c)
	if c.DeleteAt == nil {
		t.Fatalf("delete_at is null: %s", r.body)
	}
	deadline, err := time.Parse(time.RFC3339, *c.DeleteAt)
	if err != nil {
		t.Fatal(err)
	}
	if want := e.clock.Now().AddDate(0, 0, 30); !deadline.Equal(want) {
		t.Fatalf("delete_at %s, want the exact deadline %s", *c.DeleteAt, want.Format(time.RFC3339Nano))
	}
	e.clock.Advance(deadline.Sub(e.clock.Now()) - time.Nanosecond)
	if r := e.get(c.ID, "bob", purposeService); r.status != http.StatusOK {
		t.Errorf("just before delete_at: %d %s", r.status, r.body)
	}
	e.clock.Advance(time.Nanosecond)
	if r := e.get(c.ID, "bob", purposeService); r.status == http.StatusOK {
		t.Errorf("served at delete_at %s", *c.DeleteAt)
	}
}

// TestResponseShapes: CONTRACT.md's fields are always present: reason in
// a decision (even a Permit), purpose in every notification (even one
// about an event without a purpose).
func TestResponseShapes(t *testing.T) {
	e := newEnv(t)
	id := e.put("alice", "x", "subject-policy.xml")
	var d map[string]json.RawMessage
	e.jsonReq(http.MethodPost, "/v1/decision", "bob", map[string]string{"pii": id, "purpose": purposeService}).json(t, &d)
	for _, k := range []string{"decision", "obligations", "reason"} {
		if _, ok := d[k]; !ok {
			t.Errorf("decision lacks %q: %v", k, d)
		}
	}
	// bob, named by the policy, is told at storage (no purpose).
	var ns []map[string]json.RawMessage
	e.do(http.MethodGet, "/v1/notifications", "bob", nil, nil).json(t, &ns)
	if len(ns) == 0 {
		t.Fatal("bob has no notice")
	}
	for _, n := range ns {
		for _, k := range []string{"time", "pii", "event", "principal", "purpose", "text"} {
			if _, ok := n[k]; !ok {
				t.Errorf("notification lacks %q: %v", k, n)
			}
		}
	}
}

// TestDataContentTypeMustBeAMediaType: the data part's Content-Type is
// kept and served back, so a value that is not a media type is refused
// (400 naming it) and nothing is stored; a valid one comes back unchanged.
func TestDataContentTypeMustBeAMediaType(t *testing.T) {
	e := newEnv(t)
	policy := readTestdata(t, "subject-policy.xml")
	for _, ct := range []string{"not a type", "text", "text/", "/plain", "text/plain; charset", "text/plain/extra", "a/" + strings.Repeat("b", 300)} {
		r := e.post("alice", part{name: "data", contentType: ct, value: []byte("x")}, part{name: "policy", value: policy})
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "Content-Type") {
			t.Errorf("Content-Type %.20q: %d %s, want 400 naming it", ct, r.status, r.body)
		}
	}
	var list []json.RawMessage
	e.do(http.MethodGet, "/v1/pii", "alice", nil, nil).json(t, &list)
	if len(list) != 0 {
		t.Errorf("refused stores left %d records", len(list))
	}
	for _, ct := range []string{"text/plain", "text/x-address; charset=utf-8", "application/vnd.example+json", "IMAGE/PNG"} {
		r := e.post("alice", part{name: "data", contentType: ct, value: []byte("y")}, part{name: "policy", value: policy})
		var c struct {
			ID string `json:"id"`
		}
		r.json(t, &c)
		if got := e.get(c.ID, "alice", "").header.Get("Content-Type"); got != ct {
			t.Errorf("Content-Type %q came back as %q", ct, got)
		}
	}
}

// TestDeclaredPurposeMustBeAnIRI: a purpose with spaces or control
// characters, or longer than 2048 bytes, is bad input (400), on reads,
// disclosures and decisions, and it is not written to the event log.
func TestDeclaredPurposeMustBeAnIRI(t *testing.T) {
	e := newEnv(t)
	id := e.put("alice", "x", "subject-policy-downstream.xml")
	before := len(e.events(id, "alice"))
	for _, p := range []string{"not an IRI", "https://w3id.org/dpv#Service\tProvision", "https://w3id.org/dpv#\u00a0x", "urn:" + strings.Repeat("p", 2048)} {
		if r := e.get(id, "bob", p); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "purpose") {
			t.Errorf("GET with purpose %.20q: %d %s", p, r.status, r.body)
		}
		if r := e.jsonReq(http.MethodPost, "/v1/pii/"+id+"/disclosures", "bob", map[string]string{"recipient": "erin@example.org", "purpose": p}); r.status != http.StatusBadRequest {
			t.Errorf("disclosure with purpose %.20q: %d %s", p, r.status, r.body)
		}
		if r := e.jsonReq(http.MethodPost, "/v1/decision", "bob", map[string]string{"pii": id, "purpose": p}); r.status != http.StatusBadRequest {
			t.Errorf("decision with purpose %.20q: %d %s", p, r.status, r.body)
		}
	}
	if after := len(e.events(id, "alice")); after != before {
		t.Errorf("refused purposes were logged: %d events before, %d after", before, after)
	}
	// A long but acceptable IRI is decided (and denied) as usual.
	if r := e.get(id, "bob", "urn:"+strings.Repeat("p", 2000)); r.status != http.StatusForbidden {
		t.Errorf("a 2004-byte purpose IRI: %d %s", r.status, r.body)
	}
}

// TestErrorAnswersAreBounded: an invalid document with thousands of faults,
// a huge faulty value or an over-long label gets a short answer naming the
// first problems and their count, not an echo larger than the request.
func TestErrorAnswersAreBounded(t *testing.T) {
	e := newEnv(t)
	policy := string(readTestdata(t, "subject-policy.xml"))
	ob := `<ob:Obligation><ob:TriggersSet><ob:TriggerAtTime><ob:Start><ob:StartNow/></ob:Start><ob:MaxDelay><ob:Duration>PXXX%d</ob:Duration></ob:MaxDelay></ob:TriggerAtTime></ob:TriggersSet><ob:ActionDeletePersonalData/></ob:Obligation>`
	var many strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&many, ob, i)
	}
	tests := []struct {
		name, policy, category string
		want                   []string
		problems, total        int
	}{
		{"thousands of problems", strings.Replace(policy, "<ob:ObligationsSet>", "<ob:ObligationsSet>"+many.String(), 1), "",
			[]string{"the policy is not valid: 3000 problems, the first 20: ", `value "PXXX0"`}, 20, 3000},
		{"huge value", strings.Replace(policy, `allowed="false"`, `allowed="`+strings.Repeat("m", 300<<10)+`"`, 1), "",
			[]string{"the policy is not valid: ", "ppl:AuthzDownstreamUsage", "mmm..."}, 1, 0},
		{"long category", policy, strings.Repeat("c", 200<<10), []string{"the category", "is not a label"}, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parts := []part{{name: "data", contentType: "text/plain", value: []byte("x")}, {name: "policy", value: []byte(tc.policy)}}
			if tc.category != "" {
				parts = append(parts, part{name: "category", value: []byte(tc.category)})
			}
			r := e.post("alice", parts...)
			if r.status != http.StatusBadRequest {
				t.Fatalf("%d %.300s", r.status, r.body)
			}
			if len(r.body) > 20<<10 {
				t.Errorf("a %d-byte answer", len(r.body))
			}
			var b struct {
				Error         string            `json:"error"`
				Problems      []json.RawMessage `json:"problems"`
				ProblemsTotal int               `json:"problems_total"`
			}
			r.json(t, &b)
			for _, w := range tc.want {
				if !strings.Contains(b.Error, w) {
					t.Errorf("error %.300q lacks %q", b.Error, w)
				}
			}
			if len(b.Problems) != tc.problems || b.ProblemsTotal != tc.total {
				t.Errorf("%d problems listed, problems_total %d; want %d, %d", len(b.Problems), b.ProblemsTotal, tc.problems, tc.total)
			}
		})
	}
}
