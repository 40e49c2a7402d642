package httpapi_test

import (
	"encoding/json"
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
