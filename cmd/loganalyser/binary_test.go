package main

import (
	"bytes"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRealBinaries runs `stickyd serve` with its own obligation runner,
// stores and reads a record over HTTP, then checks the record with the
// real `stickyd log export` and `loganalyser` binaries.
func TestRealBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the stickyd and loganalyser binaries")
	}
	stickyd := buildBinary(t, "github.com/stickypolicy/sticky/cmd/stickyd")
	analyser := buildBinary(t, "github.com/stickypolicy/sticky/cmd/loganalyser")
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	token := func(role, name string) string {
		out, err := exec.Command(stickyd, "principal", "add", "--data", data, "--role", role, name).Output()
		if err != nil {
			t.Fatalf("principal add %s: %v", name, err)
		}
		return strings.TrimSpace(string(out))
	}
	alice, bob := token("subject", "alice@example.org"), token("controller", "bob@example.org")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var serverLog bytes.Buffer
	srv := exec.Command(stickyd, "serve", "--addr", addr, "--data", data)
	srv.Stdout, srv.Stderr = &serverLog, &serverLog
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Process.Signal(syscall.SIGTERM)
		srv.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", serverLog.String())
		}
	})
	base := "http://" + addr
	for i := 0; ; i++ {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if i > 100 {
			t.Fatalf("the server did not come up: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	do := func(tok, method, path, ctype string, body io.Reader, purpose string) (int, string) {
		req, _ := http.NewRequest(method, base+path, body)
		req.Header.Set("Authorization", "Bearer "+tok)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if purpose != "" {
			req.Header.Set("X-Purpose", purpose)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	policy, err := os.ReadFile("testdata/e2e-policy.xml")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("data", "note.txt")
	fw.Write([]byte("alice's data"))
	pw, _ := mw.CreateFormFile("policy", "policy.xml")
	pw.Write(policy)
	mw.Close()
	code, body := do(alice, http.MethodPost, "/v1/pii", mw.FormDataContentType(), &buf, "")
	if code != http.StatusCreated {
		t.Fatalf("store: %d %s", code, body)
	}
	id := body[strings.Index(body, `"id":"`)+6:]
	id = id[:strings.Index(id, `"`)]
	if code, body := do(bob, http.MethodGet, "/v1/pii/"+id, "", nil, "https://w3id.org/dpv#ServiceProvision"); code != http.StatusOK {
		t.Fatalf("bob reads: %d %s", code, body)
	}
	if code, body := do(bob, http.MethodGet, "/v1/pii/"+id, "", nil, "https://w3id.org/dpv#Marketing"); code != http.StatusForbidden {
		t.Fatalf("bob reads for marketing: %d %s", code, body)
	}
	// Wait for the runner to deliver the owner's notifications (use and
	// violation).
	for i := 0; ; i++ {
		_, body := do(alice, http.MethodGet, "/v1/notifications", "", nil, "")
		if strings.Count(body, `"pii":"`+id+`"`) >= 2 {
			break
		}
		if i > 100 {
			t.Fatalf("notifications not delivered: %s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}

	var export, errb bytes.Buffer
	cmd := exec.Command(stickyd, "log", "export", "--data", data, "--identities", id)
	cmd.Stdout, cmd.Stderr = &export, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("log export: %v: %s", err, errb.String())
	}
	logFile, policyFile := filepath.Join(dir, "log.jsonl"), filepath.Join(dir, "policy.xml")
	os.WriteFile(logFile, export.Bytes(), 0o600)
	os.WriteFile(policyFile, policy, 0o600)
	analyse := func(args ...string) (int, string) {
		out, err := exec.Command(analyser, args...).CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	if code, out := analyse("--log", logFile, "--policy", policyFile); code != 0 || !strings.HasPrefix(out, "record "+id+": compliant") {
		t.Fatalf("loganalyser --log: exit %d\n%s\nlog:\n%s", code, out, export.String())
	}
	if code, out := analyse("--data", data, id); code != 0 || !strings.Contains(out, ": compliant") {
		t.Fatalf("loganalyser --data: exit %d\n%s", code, out)
	}
	forged := strings.Replace(export.String(), "#Marketing", "#ServiceProvision", 1)
	os.WriteFile(logFile, []byte(forged), 0o600)
	if code, out := analyse("--log", logFile, "--policy", policyFile); code != 1 || !strings.Contains(out, "tampered") {
		t.Fatalf("forged log: exit %d\n%s", code, out)
	}
	if code, out := analyse("--data", data, "no-such-record"); code != 2 || !strings.Contains(out, "no record") {
		t.Fatalf("unknown record: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(data, "sticky.db")); err != nil {
		t.Fatal(err)
	}
}
