package acceptance

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestStickydAdminCommands: principal add, policy check, pdp eval.
func TestStickydAdminCommands(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "fresh", "data")
	t.Run("principal add", func(t *testing.T) {
		r := runBin(t, "stickyd", nil, nil, "principal", "add", "--data", data, "--role", "subject", "--email", "alice@example.org", "alice@example.org")
		if r.code != 0 || strings.Count(r.stdout, "\n") != 1 || len(strings.TrimSpace(r.stdout)) < 16 {
			t.Errorf("exit %d, stdout %q (want the token as the only line), stderr %q", r.code, r.stdout, r.stderr)
		}
		r2 := runBin(t, "stickyd", nil, nil, "principal", "add", "--data", data, "--role", "controller", "bob@example.org")
		if r2.code != 0 || r2.stdout == r.stdout {
			t.Errorf("second principal: exit %d, same token %v", r2.code, r2.stdout == r.stdout)
		}
		for name, args := range map[string][]string{
			"bad role":     {"--data", data, "--role", "king", "carol@example.org"},
			"no role":      {"--data", data, "carol@example.org"},
			"no name":      {"--data", data, "--role", "subject"},
			"two names":    {"--data", data, "--role", "subject", "a@example.org", "b@example.org"},
			"unknown flag": {"--data", data, "--bogus", "--role", "subject", "c@example.org"},
		} {
			r := runBin(t, "stickyd", nil, nil, append([]string{"principal", "add"}, args...)...)
			if r.code == 0 || r.stdout != "" || r.stderr == "" {
				t.Errorf("%s: exit %d, stdout %q, stderr %q; want a failure, no token, a message", name, r.code, r.stdout, r.stderr)
			}
		}
		r3 := runBin(t, "stickyd", nil, nil, "principal", "add", "erin@example.org", "--data", data, "--role", "controller")
		if r3.code != 0 || strings.Count(r3.stdout, "\n") != 1 {
			t.Errorf("NAME before the flags: exit %d, stdout %q, stderr %q", r3.code, r3.stdout, r3.stderr)
		}
		r = runBin(t, "stickyd", nil, nil, "principal", "add", "--data", data, "--role", "subject", "alice@example.org")
		if r.code == 0 || r.stdout != "" {
			t.Errorf("adding alice twice: exit %d, stdout %q", r.code, r.stdout)
		}
	})
	t.Run("policy check", func(t *testing.T) {
		good := filepath.Join("testdata", "subject-policy.xml")
		if r := runBin(t, "stickyd", nil, nil, "policy", "check", good); r.code != 0 {
			t.Errorf("a valid policy: exit %d: %s%s", r.code, r.stdout, r.stderr)
		}
		bad := writeFile(t, dir, "bad.xml", []byte(strings.Replace(readTestdata(t, "subject-policy.xml"), "P30D", "P3X0D", 1)))
		r := runBin(t, "stickyd", nil, nil, "policy", "check", bad)
		if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "P3X0D") {
			t.Errorf("an invalid policy: exit %d, want 1 naming P3X0D: %s%s", r.code, r.stdout, r.stderr)
		}
		for name, doc := range map[string]string{"billion laughs": billionLaughs, "deep nesting": deepNesting(), "not XML": "hello"} {
			f := writeFile(t, dir, strings.ReplaceAll(name, " ", "-")+".xml", []byte(doc))
			if r := runBin(t, "stickyd", nil, nil, "policy", "check", f); r.code != 1 || r.stderr+r.stdout == "" {
				t.Errorf("%s: exit %d, want 1 with a message", name, r.code)
			}
		}
		if r := runBin(t, "stickyd", nil, nil, "policy", "check", filepath.Join(dir, "missing.xml")); r.code == 0 {
			t.Errorf("a missing file: exit 0")
		}
	})
	t.Run("pdp eval", func(t *testing.T) {
		r := runBin(t, "stickyd", nil, nil, "pdp", "eval", "--policy", filepath.Join("testdata", "xacml-policy.xml"), "--request", filepath.Join("testdata", "xacml-request.xml"))
		if r.code != 0 || !strings.Contains(r.stdout, "<Decision>Permit</Decision>") || !strings.Contains(r.stdout, "Response") {
			t.Errorf("exit %d: %s%s", r.code, r.stdout, r.stderr)
		}
		if r := runBin(t, "stickyd", nil, nil, "pdp", "eval", "--policy", filepath.Join("testdata", "xacml-policy.xml")); r.code == 0 {
			t.Errorf("without --request: exit 0")
		}
	})
	t.Run("serve defaults", func(t *testing.T) {
		r := runBin(t, "stickyd", []string{"STICKY_ADDR=", "STICKY_DATA="}, nil, "serve", "-h")
		if !strings.Contains(r.stderr+r.stdout, "127.0.0.1:8080") || !strings.Contains(r.stderr+r.stdout, "./sticky-data") {
			t.Errorf("stickyd serve -h does not show the defaults 127.0.0.1:8080 and ./sticky-data:\n%s%s", r.stdout, r.stderr)
		}
	})
	t.Run("unknown command", func(t *testing.T) {
		if r := runBin(t, "stickyd", nil, nil, "frobnicate"); r.code == 0 || r.stderr == "" {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

// TestStickyClient: the sticky client against the real server, configured
// by STICKY_URL and STICKY_TOKEN.
func TestStickyClient(t *testing.T) {
	s := startServer(t)
	aliceTok := s.principal("subject", "alice@example.org")
	bobTok := s.principal("controller", "bob@example.org")
	dir := t.TempDir()
	envOf := func(tok string) []string {
		return []string{"STICKY_URL=http://" + strings.TrimPrefix(s.url, "http://"), "STICKY_TOKEN=" + tok}
	}
	if !strings.HasPrefix(s.url, "http://") {
		t.Fatalf("server URL %q", s.url)
	}
	alice := func(args ...string) result { return runBin(t, "sticky", envOf(aliceTok), nil, args...) }
	bob := func(args ...string) result { return runBin(t, "sticky", envOf(bobTok), nil, args...) }
	marker := "CLIENT-MARKER-9d9d"
	s.secrets = append(s.secrets, marker)
	dataFile := writeFile(t, dir, "address.txt", []byte(marker))
	policyFile, _ := filepath.Abs(filepath.Join("testdata", "subject-policy.xml"))

	r := alice("put", "--policy", policyFile, dataFile)
	if r.code != 0 {
		t.Fatalf("sticky put: exit %d: %s", r.code, r.stderr)
	}
	var st stored
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.ID == "" || st.Subject != "alice@example.org" {
		t.Fatalf("sticky put printed %q (%v)", r.stdout, err)
	}
	checks := []struct {
		name string
		res  result
		code int
		want string
	}{
		{"owner get", alice("get", st.ID), 0, marker},
		{"bob get with purpose", bob("get", "--purpose", purposeService, st.ID), 0, marker},
		{"bob get wrong purpose", bob("get", "--purpose", purposeMarketing, st.ID), 1, ""},
		{"bob get no purpose", bob("get", st.ID), 1, ""},
		{"list", alice("list"), 0, st.ID},
		{"policy get", alice("policy", "get", st.ID), 0, "AuthzUseForPurpose"},
		{"decide", bob("decide", "--purpose", purposeService, st.ID), 0, "Permit"},
		{"events", alice("events", st.ID), 0, "accessed"},
		{"notifications", alice("notifications"), 0, ""},
		{"unknown id", alice("get", "NOSUCHRECORD0000000000000"), 1, ""},
		{"no token", runBin(t, "sticky", []string{"STICKY_URL=" + s.url, "STICKY_TOKEN="}, nil, "list"), 1, ""},
		{"wrong token", runBin(t, "sticky", envOf("wrong"), nil, "list"), 1, ""},
		{"--token flag", runBin(t, "sticky", []string{"STICKY_URL=" + s.url, "STICKY_TOKEN="}, nil, "--token", aliceTok, "list"), 0, st.ID},
		{"bad usage", alice("put", dataFile), 2, ""},
		{"health", alice("health"), 0, ""},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.res.code != c.code || !strings.Contains(c.res.stdout, c.want) {
				t.Errorf("exit %d (want %d), stdout %q (want %q), stderr %q", c.res.code, c.code, c.res.stdout, c.want, c.res.stderr)
			}
			if c.code != 0 && strings.TrimSpace(c.res.stderr) == "" {
				t.Errorf("a failure without a message")
			}
			if c.code != 0 && strings.Contains(c.res.stdout, marker) {
				t.Errorf("a failure printed the data")
			}
		})
	}
	t.Run("policy set takes effect", func(t *testing.T) {
		marketing := writeFile(t, dir, "marketing.xml", []byte(strings.ReplaceAll(readTestdata(t, "subject-policy.xml"), purposeService, purposeMarketing)))
		if r := alice("policy", "set", st.ID, marketing); r.code != 0 {
			t.Fatalf("policy set: exit %d: %s", r.code, r.stderr)
		}
		if r := bob("get", "--purpose", purposeService, st.ID); r.code != 1 {
			t.Errorf("bob after the update: exit %d, %q", r.code, r.stdout)
		}
	})
	t.Run("delete", func(t *testing.T) {
		if r := bob("delete", st.ID); r.code != 1 {
			t.Errorf("bob deletes: exit %d", r.code)
		}
		if r := alice("delete", st.ID); r.code != 0 {
			t.Fatalf("alice deletes: exit %d: %s", r.code, r.stderr)
		}
		if r := alice("get", st.ID); r.code != 1 {
			t.Errorf("get after delete: exit %d", r.code)
		}
		if r := alice("events", st.ID); r.code != 0 || !strings.Contains(r.stdout, "deleted") {
			t.Errorf("events after delete: exit %d: %s", r.code, r.stdout)
		}
	})
}
