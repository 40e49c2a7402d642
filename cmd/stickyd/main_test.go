package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

var tokenLine = regexp.MustCompile(`^sticky_[A-Za-z0-9_-]{43}\n$`)

func TestPrincipalAdd(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	code, out, errs := runCmd(t, "principal", "add", "--data", data, "--role", "subject", "--email", "alice@mail.example", "alice@example.org")
	if code != 0 || !tokenLine.MatchString(out) {
		t.Fatalf("principal add = %d, stdout %q, stderr %q", code, out, errs)
	}
	_, out2, _ := runCmd(t, "principal", "add", "--data", data, "--role", "controller", "bob@example.org")
	if out2 == out {
		t.Error("two principals got the same token")
	}
	// NAME may also come first or between the flags.
	for _, args := range [][]string{
		{"carol@example.org", "--data", data, "--role", "controller"},
		{"--data", data, "dave@example.org", "--role", "subject"},
	} {
		if code, out, errs := runCmd(t, append([]string{"principal", "add"}, args...)...); code != 0 || !tokenLine.MatchString(out) {
			t.Errorf("principal add %v = %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"duplicate", []string{"--data", data, "--role", "admin", "alice@example.org"}, 1, "already exists"},
		{"bad role", []string{"--data", data, "--role", "boss", "x@example.org"}, 2, "unknown role"},
		{"no role", []string{"--data", data, "x@example.org"}, 2, "--role is required"},
		{"no name", []string{"--data", data, "--role", "admin"}, 2, "exactly one NAME"},
		{"two names", []string{"--data", data, "--role", "admin", "a", "b"}, 2, "exactly one NAME"},
		{"bad name", []string{"--data", data, "--role", "admin", "has space"}, 2, "contains"},
		{"bad email", []string{"--data", data, "--role", "admin", "--email", "nope", "root"}, 2, "not an e-mail address"},
		{"unknown flag", []string{"--data", data, "--colour", "red", "root"}, 2, "colour"},
		{"data is a file", []string{"--data", "/dev/null", "--role", "admin", "root"}, 1, "stickyd principal add"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCmd(t, append([]string{"principal", "add"}, tc.args...)...)
			if code != tc.code || out != "" || !strings.Contains(errs, tc.msg) {
				t.Errorf("exit %d (want %d), stdout %q, stderr %q (want %q)", code, tc.code, out, errs, tc.msg)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"fly"}, {"principal", "remove"}} {
		code, _, errs := runCmd(t, args...)
		if code != 2 || !strings.Contains(errs, "usage: stickyd") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
	code, _, errs := runCmd(t, "serve", "--max-body", "0")
	if code != 2 || !strings.Contains(errs, "must be positive") {
		t.Errorf("serve --max-body 0: exit %d, %q", code, errs)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listening = regexp.MustCompile(`listening on http://(\S+)`)

// startServe runs `stickyd serve` on a free port and returns its address and
// a stop function that cancels it (as SIGTERM does) and returns its exit code.
func startServe(t *testing.T, data string, extra ...string) (string, func() (int, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan int, 1)
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--log-level", "warn"}, extra...)
	go func() { done <- run(ctx, args, io.Discard, &stderr) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := listening.FindStringSubmatch(stderr.String()); m != nil {
			stopped := false
			stop := func() (int, string) {
				if !stopped {
					stopped = true
					cancel()
				}
				return <-done, stderr.String()
			}
			t.Cleanup(func() {
				if !stopped {
					stop()
				}
			})
			return m[1], stop
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("serve exited %d: %s", code, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("serve did not start: %s", stderr.String())
	return "", nil
}

func TestServeEndToEnd(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	addr, stop := startServe(t, data)
	// principal add works while the server runs.
	code, tok, errs := runCmd(t, "principal", "add", "--data", data, "--role", "subject", "alice@example.org")
	if code != 0 {
		t.Fatalf("principal add while serving: %d %s", code, errs)
	}
	tok = strings.TrimSpace(tok)
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/pii", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("list with the new token: %v %v", resp, err)
	}
	resp.Body.Close()
	for _, f := range []string{"sticky.db", "ibe-master.pem"} {
		if _, err := os.Stat(filepath.Join(data, f)); err != nil {
			t.Errorf("data dir lacks %s: %v", f, err)
		}
	}
	if code, logs := stop(); code != 0 {
		t.Errorf("serve exit %d: %s", code, logs)
	}
}

// TestGracefulShutdown starts a request, stops the server while its body is
// still arriving, and checks the request is finished and answered.
func TestGracefulShutdown(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	addr, stop := startServe(t, data)
	_, tok, _ := runCmd(t, "principal", "add", "--data", data, "--role", "subject", "alice@example.org")
	tok = strings.TrimSpace(tok)
	policy, err := os.ReadFile("../../pep/httpapi/testdata/subject-policy.xml")
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	body.WriteString("--B\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\nin flight\r\n")
	body.WriteString("--B\r\nContent-Disposition: form-data; name=\"policy\"\r\n\r\n")
	body.Write(policy)
	body.WriteString("\r\n--B--\r\n")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/pii HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: %d\r\n\r\n",
		addr, tok, body.Len())
	half := body.Len() / 2
	conn.Write(body.Bytes()[:half])
	time.Sleep(100 * time.Millisecond) // the request is now in flight

	stopped := make(chan int, 1)
	go func() { code, _ := stop(); stopped <- code }()
	time.Sleep(200 * time.Millisecond)
	select {
	case <-stopped:
		t.Fatal("the server stopped before its in-flight request finished")
	default:
	}
	conn.Write(body.Bytes()[half:])
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("in-flight request: %d %s", resp.StatusCode, b)
	}
	select {
	case code := <-stopped:
		if code != 0 {
			t.Errorf("serve exit %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not stop after its last request")
	}
}
