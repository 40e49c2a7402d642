package acceptance

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binDir holds the binaries built by TestMain; empty under -short.
var binDir string

// buildErr is why the binaries could not be built, if they could not.
var buildErr error

const skipReason = "acceptance suite: builds the real binaries and runs a real server; skipped under -short"

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "sticky-acceptance-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cmd := exec.Command("go", "build", "-o", dir+string(os.PathSeparator), "./cmd/stickyd", "./cmd/sticky", "./cmd/loganalyser")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		buildErr = fmt.Errorf("go build: %v\n%s", err, out)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// bin returns the path of a built binary, skipping the test under -short.
func bin(t *testing.T, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skip(skipReason)
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, name)
}

// result is what a finished command printed and its exit code.
type result struct {
	code           int
	stdout, stderr string
}

// runBin runs a binary with args (and extra environment entries) and waits
// for it.
func runBin(t *testing.T, name string, env []string, stdin io.Reader, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin(t, name), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%s %v: %v", name, args, err)
		}
		code = ee.ExitCode()
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is a running `stickyd serve`.
type server struct {
	t      *testing.T
	url    string
	data   string
	cmd    *exec.Cmd
	stderr *syncBuffer
	// secrets must never appear in the server's log (checked at the end).
	secrets []string
	done    chan struct{}
}

// startServer starts `stickyd serve --addr 127.0.0.1:0 --data DIR` with DIR
// a directory that does not exist yet, in a working directory of its own
// and with HOME and TMPDIR empty directories of their own, and stops it
// (SIGTERM) at the end of the test, checking then that nothing was written
// outside DIR and that its log holds none of s.secrets.
func startServer(t *testing.T, extra ...string) *server {
	t.Helper()
	root := t.TempDir()
	return launch(t, filepath.Join(root, "data", "nested"), root, extra...)
}

// restart stops s and starts a new server on the same data directory.
func (s *server) restart(extra ...string) *server {
	s.t.Helper()
	s.stop()
	n := launch(s.t, s.data, s.t.TempDir(), extra...)
	n.secrets = s.secrets
	return n
}

// launch starts stickyd serve on data with its working directory, HOME and
// TMPDIR fresh empty directories under root.
func launch(t *testing.T, data, root string, extra ...string) *server {
	t.Helper()
	path := bin(t, "stickyd")
	outside := map[string]string{}
	for _, d := range []string{"cwd", "home", "tmp"} {
		outside[d] = filepath.Join(root, d)
		if err := os.Mkdir(outside[d], 0o700); err != nil {
			t.Fatal(err)
		}
	}
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data}, extra...)
	cmd := exec.Command(path, args...)
	cmd.Dir = outside["cwd"]
	cmd.Env = append(os.Environ(), "HOME="+outside["home"], "TMPDIR="+outside["tmp"], "XDG_CONFIG_HOME=", "XDG_CACHE_HOME=")
	stderr := &syncBuffer{}
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	cmd.Stdout = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, data: data, cmd: cmd, stderr: stderr, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			stderr.Write([]byte(line + "\n"))
			if _, a, ok := strings.Cut(line, "listening on "); ok {
				a, _, _ = strings.Cut(a, " ")
				select {
				case addr <- a:
				default:
				}
			}
		}
		io.Copy(io.Discard, pr)
	}()
	go func() {
		cmd.Wait()
		pw.Close()
		close(s.done)
	}()
	select {
	case a := <-addr:
		s.url = a
	case <-s.done:
		t.Fatalf("stickyd serve exited before listening:\n%s", stderr.String())
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("stickyd serve did not start listening in 30s:\n%s", stderr.String())
	}
	t.Cleanup(func() {
		s.stop()
		for name, d := range outside {
			entries, err := os.ReadDir(d)
			if err != nil {
				t.Error(err)
			}
			for _, e := range entries {
				t.Errorf("stickyd serve created %q in its %s, outside its --data directory", e.Name(), name)
			}
		}
		log := stderr.String()
		for _, sec := range s.secrets {
			if strings.Contains(log, sec) {
				t.Errorf("the server log holds %q (PII or an identity):\n%s", sec, log)
			}
		}
		if strings.Contains(log, "goroutine ") || strings.Contains(log, "panic") {
			t.Errorf("the server log shows a panic or stack trace:\n%s", log)
		}
	})
	return s
}

// stop sends SIGTERM and waits for the server to exit.
func (s *server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		s.t.Errorf("stickyd serve did not stop within 30s of SIGTERM")
	}
}

// principal creates a principal with `stickyd principal add` (while the
// server runs) and returns its token, checking that the token is the only
// line on stdout. The name is added to the server's secrets.
func (s *server) principal(role, name string) string {
	s.t.Helper()
	r := runBin(s.t, "stickyd", nil, nil, "principal", "add", "--data", s.data, "--role", role, name)
	if r.code != 0 {
		s.t.Fatalf("stickyd principal add %s %s: exit %d: %s", role, name, r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	if len(lines) != 1 || lines[0] == "" || strings.ContainsAny(lines[0], " \t") || !strings.HasSuffix(r.stdout, "\n") {
		s.t.Fatalf("stickyd principal add: stdout must be the token as its only line, got %q", r.stdout)
	}
	s.secrets = append(s.secrets, name)
	return lines[0]
}

// resp is a finished HTTP exchange.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// do sends a request to the server with token (none when empty).
func (s *server) do(method, path, token string, body io.Reader, hdr ...string) resp {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url+path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// postJSON sends v (or, when v is a string, the raw text) as JSON.
func (s *server) postJSON(path, token string, v any) resp {
	s.t.Helper()
	var b []byte
	if str, ok := v.(string); ok {
		b = []byte(str)
	} else {
		var err error
		if b, err = json.Marshal(v); err != nil {
			s.t.Fatal(err)
		}
	}
	return s.do(http.MethodPost, path, token, bytes.NewReader(b), "Content-Type", "application/json")
}

// part is one part of a multipart body.
type part struct {
	name, contentType, filename string
	body                        []byte
}

// multipartBody builds a multipart/form-data body.
func multipartBody(t *testing.T, parts ...part) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		disp := fmt.Sprintf(`form-data; name=%q`, p.name)
		if p.filename != "" {
			disp += fmt.Sprintf(`; filename=%q`, p.filename)
		}
		h.Set("Content-Disposition", disp)
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		pw, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		pw.Write(p.body)
	}
	w.Close()
	return &buf, w.FormDataContentType()
}

// storeRaw posts parts to /v1/pii.
func (s *server) storeRaw(token string, parts ...part) resp {
	s.t.Helper()
	body, ct := multipartBody(s.t, parts...)
	return s.do(http.MethodPost, "/v1/pii", token, body, "Content-Type", ct)
}

// stored is the 201 answer of POST /v1/pii.
type stored struct {
	ID        string  `json:"id"`
	Subject   string  `json:"subject"`
	DeleteAt  *string `json:"delete_at"`
	Encrypted bool    `json:"encrypted"`
}

// store stores data (content type ct) under policy and wants 201 with the
// contract's fields.
func (s *server) store(token string, data []byte, ct, policy string, more ...part) stored {
	s.t.Helper()
	parts := append([]part{{name: "data", contentType: ct, filename: "data", body: data}, {name: "policy", contentType: "application/xml", body: []byte(policy)}}, more...)
	r := s.storeRaw(token, parts...)
	if r.status != http.StatusCreated {
		s.t.Fatalf("POST /v1/pii: %s, want 201", r)
	}
	return decodeStored(s.t, r)
}

func decodeStored(t *testing.T, r resp) stored {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatalf("201 body is not a JSON object: %v: %s", err, r.body)
	}
	for _, k := range []string{"id", "subject", "delete_at", "encrypted"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("201 body lacks %q: %s", k, r.body)
		}
	}
	var st stored
	if err := json.Unmarshal(r.body, &st); err != nil {
		t.Fatalf("201 body has wrong field types: %v: %s", err, r.body)
	}
	if st.ID == "" || st.Subject == "" {
		t.Errorf("201 body with an empty id or subject: %s", r.body)
	}
	if st.DeleteAt != nil {
		if _, err := time.Parse(time.RFC3339, *st.DeleteAt); err != nil {
			t.Errorf("delete_at %q is not RFC 3339: %v", *st.DeleteAt, err)
		}
	}
	return st
}

// wantError checks that r has the given status and a JSON body with a
// non-empty "error" sentence (and the named extra fields), and returns
// the decoded body.
func wantError(t *testing.T, r resp, status int, fields ...string) map[string]any {
	t.Helper()
	if r.status != status {
		t.Errorf("status %s, want %d", r, status)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type %q, want application/json (body %s)", ct, r.body)
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Errorf("error body is not a JSON object: %v: %q", err, r.body)
		return nil
	}
	msg, _ := m["error"].(string)
	if len(strings.TrimSpace(msg)) < 5 {
		t.Errorf("error body without a sentence in \"error\": %s", r.body)
	}
	for _, leak := range []string{"goroutine", ".go:", "Go value", "Go struct", "struct {", "runtime error"} {
		if strings.Contains(msg, leak) {
			t.Errorf("error body shows program internals (%q): %s", leak, r.body)
		}
	}
	for _, f := range fields {
		if v, ok := m[f]; !ok || v == nil || v == "" {
			t.Errorf("error body lacks %q: %s", f, r.body)
		}
	}
	return m
}

// decodeArray decodes a JSON array of objects, wanting 200.
func decodeArray(t *testing.T, r resp) []map[string]any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %s, want 200", r)
	}
	var a []map[string]any
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatalf("not a JSON array of objects: %v: %s", err, r.body)
	}
	return a
}

// readTestdata returns testdata/name.
func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// writeFile writes b to a new file in dir and returns its path.
func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
