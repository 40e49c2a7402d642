package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/internal/audit"
	"github.com/stickypolicy/sticky/internal/compliance"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

const service = "https://w3id.org/dpv#ServiceProvision"

// writeLog writes an export of a record stored by alice under
// testdata/basic.xml and read by reader for purpose, with or without the
// owner's notification, and returns its path.
func writeLog(t *testing.T, reader, purpose string, notify bool) string {
	t.Helper()
	xml, err := os.ReadFile("testdata/basic.xml")
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("alice's key")
	ph := audit.PolicyHash(xml)
	idents := map[string]string{}
	ps := func(id string) string {
		p := audit.Pseudonym(key, id)
		if p != "" {
			idents[p] = id
		}
		return p
	}
	var es []audit.Entry
	add := func(at time.Duration, typ, principal, purpose, recipient, reason string) {
		prev := ""
		if len(es) > 0 {
			prev = es[len(es)-1].Hash
		}
		es = append(es, audit.Seal(prev, audit.Entry{PII: "rec-1", Seq: int64(len(es) + 1), Time: t0.Add(at), Type: typ,
			Principal: ps(principal), Purpose: purpose, Recipient: ps(recipient), Decision: "Permit", Reason: reason, PolicyHash: ph}))
	}
	add(0, audit.TypeStored, "alice@example.org", "", "", "")
	add(time.Hour, audit.TypeAccessed, reader, purpose, "", "")
	if notify {
		add(time.Hour+time.Second, audit.TypeNotified, "", purpose, "alice@example.org", "obligation-2 by inbox about accessed")
	}
	l := audit.NewLog(audit.Header{PII: "rec-1", Subject: ps("alice@example.org"), Policy: ph, Identities: idents,
		Policies: []audit.PolicyRef{{Hash: ph, Version: 1, Since: t0, XML: string(xml)}}}, es)
	var buf bytes.Buffer
	if _, err := l.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rec-1.jsonl")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func runT(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runWith(context.Background(), args, &out, &errb, fixedClock(t0.Add(24*time.Hour)))
	return code, out.String(), errb.String()
}

func TestUsageErrors(t *testing.T) {
	good := writeLog(t, "bob@example.org", service, true)
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"nothing", nil, "give --data DIR ID or --log FILE --policy FILE"},
		{"log without policy", []string{"--log", good}, "--log needs --policy"},
		{"both modes", []string{"--log", good, "--policy", "testdata/basic.xml", "--data", "x", "rec-1"}, "not both"},
		{"data without id", []string{"--data", t.TempDir()}, "--data needs the record ID"},
		{"data with policy", []string{"--data", t.TempDir(), "--policy", "p.xml", "rec-1"}, "--policy goes with --log"},
		{"two ids", []string{"--data", t.TempDir(), "a", "b"}, "at most one record ID"},
		{"bad at", []string{"--log", good, "--policy", "testdata/basic.xml", "--at", "yesterday"}, "not an RFC 3339 time"},
		{"unknown flag", []string{"--frobnicate"}, "flag provided but not defined"},
		{"no database", []string{"--data", t.TempDir(), "rec-1"}, "no Sticky database"},
		{"missing log", []string{"--log", "nope.jsonl", "--policy", "testdata/basic.xml"}, "reading the log"},
		{"missing policy", []string{"--log", good, "--policy", "nope.xml"}, "reading the policy"},
		{"bad policy", []string{"--log", good, "--policy", good}, "testdata"},
		{"not a log", []string{"--log", "testdata/basic.xml", "--policy", "testdata/basic.xml"}, "line 1"},
		{"other record", []string{"--log", good, "--policy", "testdata/basic.xml", "rec-2"}, `not "rec-2"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runT(t, tc.args...)
			if code != exitCannotCheck {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, exitCannotCheck, out, errs)
			}
			if tc.name == "bad policy" {
				if !strings.Contains(errs, "could not check") {
					t.Errorf("stderr %q lacks a reason", errs)
				}
				return
			}
			if !strings.Contains(errs, tc.msg) {
				t.Errorf("stderr %q does not contain %q", errs, tc.msg)
			}
		})
	}
}

func TestVerdicts(t *testing.T) {
	tests := []struct {
		name    string
		log     string
		extra   []string
		code    int
		verdict string
		rules   []string
	}{
		{"compliant", writeLog(t, "bob@example.org", service, true), nil, exitCompliant, "compliant", nil},
		{"purpose not allowed", writeLog(t, "bob@example.org", "https://w3id.org/dpv#Marketing", true), nil, exitNonCompliant,
			"non-compliant", []string{"purpose-not-allowed"}},
		{"principal not permitted", writeLog(t, "carol@example.org", service, true), nil, exitNonCompliant,
			"non-compliant", []string{"principal-not-permitted"}},
		{"notification missing", writeLog(t, "bob@example.org", service, false), nil, exitNonCompliant,
			"non-compliant", []string{"notification-missing"}},
		{"notification not yet due at --at", writeLog(t, "bob@example.org", service, false),
			[]string{"--at", t0.Add(time.Hour + 30*time.Second).Format(time.RFC3339)}, exitCompliant, "compliant", nil},
		{"deletion missing at --at", writeLog(t, "bob@example.org", service, true),
			[]string{"--at", t0.Add(31 * 24 * time.Hour).Format(time.RFC3339)}, exitNonCompliant, "non-compliant", []string{"deletion-missing"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--log", tc.log, "--policy", "testdata/basic.xml"}, tc.extra...)
			code, out, errs := runT(t, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tc.code, out, errs)
			}
			if !strings.HasPrefix(out, "record rec-1: "+tc.verdict+" ") {
				t.Errorf("stdout %q does not start with the verdict %q", out, tc.verdict)
			}
			for _, r := range tc.rules {
				if !strings.Contains(out, ": "+r+": ") {
					t.Errorf("stdout %q does not name %s", out, r)
				}
			}
			code, js, _ := runT(t, append(args, "--json")...)
			var rep compliance.Report
			if err := json.Unmarshal([]byte(js), &rep); err != nil {
				t.Fatalf("--json output %q: %v", js, err)
			}
			if code != tc.code || string(rep.Verdict) != tc.verdict || rep.PII != "rec-1" || rep.Entries == 0 || len(rep.Violations) != len(tc.rules) {
				t.Errorf("--json: exit %d, report %+v", code, rep)
			}
			for i, r := range tc.rules {
				if string(rep.Violations[i].Rule) != r || rep.Violations[i].Seq == 0 {
					t.Errorf("violation %d = %+v, want %s with its seq", i, rep.Violations[i], r)
				}
			}
		})
	}
}

func TestTamperedFile(t *testing.T) {
	path := writeLog(t, "bob@example.org", service, true)
	data, _ := os.ReadFile(path)
	forged := strings.Replace(string(data), `"purpose":"`+service+`"`, `"purpose":"https://w3id.org/dpv#Marketing"`, 1)
	if forged == string(data) {
		t.Fatal("nothing to forge")
	}
	if err := os.WriteFile(path, []byte(forged), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runT(t, "--log", path, "--policy", "testdata/basic.xml")
	if code != exitNonCompliant || !strings.HasPrefix(out, "record rec-1: tampered") || !strings.Contains(out, "seq 2") {
		t.Fatalf("exit %d stdout %q stderr %q, want tampered at seq 2", code, out, errs)
	}
	code, js, _ := runT(t, "--log", path, "--policy", "testdata/basic.xml", "--json")
	var rep compliance.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil || code != exitNonCompliant || rep.Verdict != compliance.TamperedLog ||
		len(rep.Violations) != 1 || rep.Violations[0].Seq != 2 || rep.Violations[0].Rule != compliance.RuleTampered {
		t.Fatalf("--json: exit %d, %+v, %v", code, rep, err)
	}
}

func TestHeaderRemovedOrEdited(t *testing.T) {
	path := writeLog(t, "bob@example.org", service, true)
	data, _ := os.ReadFile(path)
	header, entries, _ := strings.Cut(string(data), "\n")
	for name, content := range map[string]string{
		"header removed": entries,
		"header edited":  strings.Replace(header, `"deleted":false`, `"deleted":true`, 1) + "\n" + entries,
	} {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(content, `"seq":1`) || content == string(data) {
				t.Fatal("bad test input")
			}
			os.WriteFile(path, []byte(content), 0o600)
			code, out, errs := runT(t, "--log", path, "--policy", "testdata/basic.xml")
			if code != exitNonCompliant || !strings.Contains(out, ": tampered") || !strings.Contains(out, "header") {
				t.Fatalf("exit %d stdout %q stderr %q, want tampered naming the header", code, out, errs)
			}
		})
	}
}

// TestOtherPolicy checks a log against a policy it does not record: every
// entry is judged by the given policy, and the report says so.
func TestOtherPolicy(t *testing.T) {
	path := writeLog(t, "bob@example.org", service, true)
	code, out, errs := runT(t, "--log", path, "--policy", "testdata/marketing-only.xml")
	if code != exitNonCompliant || !strings.Contains(out, ": purpose-not-allowed: ") || !strings.Contains(out, "is not a policy the log records") {
		t.Fatalf("exit %d stdout %q stderr %q", code, out, errs)
	}
}
