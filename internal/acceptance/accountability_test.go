package acceptance

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestAccountability: `stickyd log export` gives hash-chained JSON lines;
// loganalyser checks them against the sticky policy with exit codes 0, 1
// and 2 in both of its forms.
func TestAccountability(t *testing.T) {
	s := startServer(t, "--log-level", "debug")
	alice := s.principal("subject", "alice@example.org")
	bob := s.principal("controller", "bob@example.org")
	s.principal("controller", "erin@example.org")
	dir := t.TempDir()
	policy := readTestdata(t, "subject-policy-downstream.xml")
	rec := s.store(alice, []byte("ACCOUNT-MARKER"), "text/plain", policy)
	s.secrets = append(s.secrets, "ACCOUNT-MARKER")
	path := "/v1/pii/" + rec.ID
	s.do("GET", path, bob, nil, "X-Purpose", purposeService)
	s.do("GET", path, bob, nil, "X-Purpose", purposeMarketing) // denied, logged
	s.do("GET", path, alice, nil)
	if r := s.postJSON(path+"/disclosures", bob, map[string]string{"recipient": "erin@example.org", "purpose": purposeService}); r.status != http.StatusCreated {
		t.Fatalf("disclosure: %s", r)
	}
	nEvents := len(decodeArray(t, s.do("GET", path+"/events", alice, nil)))

	// Export while the server runs.
	exp := runBin(t, "stickyd", nil, nil, "log", "export", "--data", s.data, rec.ID)
	if exp.code != 0 {
		t.Fatalf("stickyd log export: exit %d: %s", exp.code, exp.stderr)
	}
	lines := strings.Split(strings.TrimRight(exp.stdout, "\n"), "\n")
	var entries []map[string]any
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("export line %d is not JSON: %v: %s", i+1, err, l)
		}
		entries = append(entries, m)
	}
	var chained int
	prevHash := ""
	for i, m := range entries {
		if _, ok := m["seq"]; !ok {
			continue // a header line
		}
		h, _ := m["hash"].(string)
		if h == "" {
			t.Errorf("export line %d has no hash: %v", i+1, m)
		}
		if prevHash != "" && m["prev"] != prevHash {
			t.Errorf("export line %d: prev %v is not the previous entry's hash %s", i+1, m["prev"], prevHash)
		}
		prevHash = h
		chained++
	}
	if chained < nEvents {
		t.Errorf("export has %d hash-chained entries, the record has %d events:\n%s", chained, nEvents, exp.stdout)
	}
	if strings.Contains(exp.stdout, "ACCOUNT-MARKER") {
		t.Errorf("the exported log holds the data")
	}
	logFile := writeFile(t, dir, "log.jsonl", []byte(exp.stdout))
	polResp := s.do("GET", path+"/policy", alice, nil)
	if polResp.status != http.StatusOK {
		t.Fatalf("GET policy: %s", polResp)
	}
	policyFile := writeFile(t, dir, "policy.xml", polResp.body)

	t.Run("--data compliant", func(t *testing.T) {
		r := runBin(t, "loganalyser", nil, nil, "--data", s.data, rec.ID)
		if r.code != 0 {
			t.Errorf("loganalyser --data: exit %d, want 0 (compliant)\n%s%s", r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(strings.ToLower(r.stdout), "compliant") {
			t.Errorf("no verdict printed: %q", r.stdout)
		}
	})
	t.Run("--log --policy compliant", func(t *testing.T) {
		if r := runBin(t, "loganalyser", nil, nil, "--log", logFile, "--policy", policyFile); r.code != 0 {
			t.Errorf("loganalyser --log --policy: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("non-compliant: the policy never allowed the purpose", func(t *testing.T) {
		strict := writeFile(t, dir, "marketing.xml", []byte(strings.ReplaceAll(string(polResp.body), purposeService, purposeMarketing)))
		r := runBin(t, "loganalyser", nil, nil, "--log", logFile, "--policy", strict)
		if r.code != 1 {
			t.Errorf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stdout+r.stderr, purposeService) {
			t.Errorf("the violation does not name the purpose used:\n%s%s", r.stdout, r.stderr)
		}
	})
	t.Run("tampered", func(t *testing.T) {
		tampered := map[string][]string{
			"changed purpose": replaceOnce(lines, purposeService, purposeMarketing+"x"),
			"removed entry":   append(append([]string{}, lines[:2]...), lines[3:]...),
			"swapped entries": swap(lines, 1, 2),
		}
		for name, ls := range tampered {
			f := writeFile(t, dir, strings.ReplaceAll(name, " ", "-")+".jsonl", []byte(strings.Join(ls, "\n")+"\n"))
			if r := runBin(t, "loganalyser", nil, nil, "--log", f, "--policy", policyFile); r.code != 1 {
				t.Errorf("%s: exit %d, want 1\n%s%s", name, r.code, r.stdout, r.stderr)
			}
		}
	})
	t.Run("cannot check", func(t *testing.T) {
		cases := map[string][]string{
			"no such PII":        {"--data", s.data, "NOSUCHRECORD0000000000000"},
			"no arguments":       {},
			"unknown flag":       {"--frobnicate"},
			"missing log file":   {"--log", filepath.Join(dir, "nope"), "--policy", policyFile},
			"missing policy":     {"--log", logFile, "--policy", filepath.Join(dir, "nope")},
			"log without policy": {"--log", logFile},
			"no data dir":        {"--data", filepath.Join(dir, "no-such-dir"), rec.ID},
		}
		for name, args := range cases {
			r := runBin(t, "loganalyser", nil, nil, args...)
			if r.code != 2 || strings.TrimSpace(r.stderr+r.stdout) == "" {
				t.Errorf("%s: exit %d, want 2 with a message; out %q err %q", name, r.code, r.stdout, r.stderr)
			}
		}
	})
	t.Run("export of an unknown record", func(t *testing.T) {
		if r := runBin(t, "stickyd", nil, nil, "log", "export", "--data", s.data, "NOSUCHRECORD0000000000000"); r.code == 0 || r.stderr == "" {
			t.Errorf("exit %d, stderr %q; want a failure with a message", r.code, r.stderr)
		}
	})
	t.Run("after deletion the log still checks", func(t *testing.T) {
		if r := s.do("DELETE", path, alice, nil); r.status != http.StatusNoContent {
			t.Fatalf("DELETE: %s", r)
		}
		if r := runBin(t, "stickyd", nil, nil, "log", "export", "--data", s.data, rec.ID); r.code != 0 || !strings.Contains(r.stdout, "deleted") {
			t.Errorf("export after deletion: exit %d: %s%s", r.code, r.stdout, r.stderr)
		}
		if r := runBin(t, "loganalyser", nil, nil, "--data", s.data, rec.ID); r.code != 0 {
			t.Errorf("loganalyser after deletion: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
}

func replaceOnce(lines []string, old, new string) []string {
	out := append([]string{}, lines...)
	for i, l := range out {
		if strings.Contains(l, old) {
			out[i] = strings.Replace(l, old, new, 1)
			break
		}
	}
	return out
}

func swap(lines []string, i, j int) []string {
	out := append([]string{}, lines...)
	out[i], out[j] = out[j], out[i]
	return out
}
