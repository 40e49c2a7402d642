package acceptance

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOwnerAlwaysReads: the data subject may always read its own data,
// whatever its policy says and whatever purpose it declares.
func TestOwnerAlwaysReads(t *testing.T) {
	s := startServer(t)
	alice := s.principal("subject", "alice@example.org")
	rec := s.store(alice, []byte("private"), "text/plain", readTestdata(t, "subject-policy-nobody.xml"))
	for _, p := range []string{"", purposeService, purposeMarketing} {
		var hdr []string
		if p != "" {
			hdr = []string{"X-Purpose", p}
		}
		if r := s.do("GET", "/v1/pii/"+rec.ID, alice, nil, hdr...); r.status != http.StatusOK || string(r.body) != "private" {
			t.Errorf("owner read with purpose %q: %s", p, r)
		}
	}
}

// TestBinaryRoundTrip: arbitrary bytes come back exactly, with their
// content type, as a file part and as a value part.
func TestBinaryRoundTrip(t *testing.T) {
	s := startServer(t)
	alice := s.principal("subject", "alice@example.org")
	policy := readTestdata(t, "subject-policy.xml")
	blob := make([]byte, 1<<20+7)
	rand.Read(blob)
	for _, c := range []struct{ name, ct, filename string }{
		{"file", "image/png", "scan.png"},
		{"value with type", "application/json", ""},
		{"no content type", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := s.storeRaw(alice, part{name: "data", contentType: c.ct, filename: c.filename, body: blob}, part{name: "policy", body: []byte(policy)})
			if r.status != http.StatusCreated {
				t.Fatalf("store: %s", r)
			}
			st := decodeStored(t, r)
			if loc := r.header.Get("Location"); loc != "" && loc != "/v1/pii/"+st.ID {
				t.Errorf("Location %q", loc)
			}
			g := s.do("GET", "/v1/pii/"+st.ID, alice, nil)
			if g.status != http.StatusOK || !bytes.Equal(g.body, blob) {
				t.Fatalf("read back: %d, %d bytes, equal %v", g.status, len(g.body), bytes.Equal(g.body, blob))
			}
			want := c.ct
			if want == "" {
				want = "application/octet-stream"
			}
			if got := g.header.Get("Content-Type"); got != want {
				t.Errorf("Content-Type %q, want %q", got, want)
			}
		})
	}
}

// TestRestartKeepsEverything: after a restart on the same --data the
// records, tokens, events and IBE parameters are all still there, and the
// master key file is private.
func TestRestartKeepsEverything(t *testing.T) {
	s := startServer(t)
	alice := s.principal("subject", "alice@example.org")
	bob := s.principal("controller", "bob@example.org")
	rec := s.store(alice, []byte("durable"), "text/plain", readTestdata(t, "subject-policy.xml"))
	s.do("GET", "/v1/pii/"+rec.ID, bob, nil, "X-Purpose", purposeService)
	params := s.do("GET", "/v1/ibe/params", "", nil).body
	events := len(decodeArray(t, s.do("GET", "/v1/pii/"+rec.ID+"/events", alice, nil)))

	s2 := s.restart()
	if r := s2.do("GET", "/v1/pii/"+rec.ID, bob, nil, "X-Purpose", purposeService); r.status != http.StatusOK || string(r.body) != "durable" {
		t.Errorf("after restart: %s", r)
	}
	if p := s2.do("GET", "/v1/ibe/params", "", nil).body; !bytes.Equal(p, params) {
		t.Errorf("IBE parameters changed across a restart (master key not kept in --data)")
	}
	if n := len(decodeArray(t, s2.do("GET", "/v1/pii/"+rec.ID+"/events", alice, nil))); n <= events {
		t.Errorf("%d events after restart and a read, %d before", n, events)
	}
	filepath.WalkDir(s.data, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil && info.Mode().Perm()&0o077 != 0 && strings.Contains(strings.ToLower(d.Name()), "master") {
			t.Errorf("%s is readable by others: %v", p, info.Mode())
		}
		return nil
	})
}

// TestMiscHTTP: details of the HTTP contract and its documented extensions.
func TestMiscHTTP(t *testing.T) {
	s := startServer(t, "--max-body", "4096")
	alice := s.principal("subject", "alice@example.org")
	admin := s.principal("admin", "root@example.org")
	bob := s.principal("controller", "bob@example.org")
	policy := readTestdata(t, "subject-policy.xml")
	rec := s.store(alice, []byte("a"), "text/plain", policy)

	t.Run("401 names the scheme", func(t *testing.T) {
		r := s.do("GET", "/v1/pii", "", nil)
		if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("401 without WWW-Authenticate: Bearer: %v", r.header)
		}
	})
	t.Run("--max-body", func(t *testing.T) {
		wantError(t, s.storeRaw(alice, part{name: "data", body: bytes.Repeat([]byte("x"), 5000)}, part{name: "policy", body: []byte("<x/>")}), http.StatusRequestEntityTooLarge)
		wantError(t, s.do("PUT", "/v1/pii/"+rec.ID+"/policy", alice, strings.NewReader(policy+strings.Repeat(" ", 5000)), "Content-Type", "application/xml"), http.StatusRequestEntityTooLarge)
	})
	t.Run("wrong method", func(t *testing.T) {
		r := s.do("PATCH", "/v1/pii/"+rec.ID, alice, nil)
		if r.status != http.StatusMethodNotAllowed {
			t.Errorf("PATCH: %s, want 405", r)
		}
		wantError(t, r, r.status)
	})
	t.Run("policy is XML", func(t *testing.T) {
		r := s.do("GET", "/v1/pii/"+rec.ID+"/policy", alice, nil)
		if ct := r.header.Get("Content-Type"); !strings.Contains(ct, "xml") {
			t.Errorf("policy Content-Type %q", ct)
		}
	})
	t.Run("admin lists metadata only", func(t *testing.T) {
		r := s.do("GET", "/v1/pii", admin, nil)
		if len(decodeArray(t, r)) != 1 {
			t.Errorf("admin lists %s", r.body)
		}
	})
	t.Run("admin and controller cannot store as subject", func(t *testing.T) {
		for _, tok := range []string{admin, bob} {
			r := s.storeRaw(tok, part{name: "data", body: []byte("x")}, part{name: "policy", body: []byte(policy)})
			if r.status != http.StatusBadRequest && r.status != http.StatusForbidden {
				t.Errorf("store without subject: %s", r)
			}
		}
	})
	t.Run("events of an unknown record", func(t *testing.T) {
		wantError(t, s.do("GET", "/v1/pii/NOSUCHRECORD0000000000000/events", alice, nil), http.StatusNotFound)
	})
	t.Run("decision defaults to read", func(t *testing.T) {
		r := s.postJSON("/v1/decision", bob, map[string]string{"pii": rec.ID, "purpose": purposeService})
		if r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`"Permit"`)) {
			t.Errorf("decision without action: %s", r)
		}
	})
	t.Run("repeated and unknown parts", func(t *testing.T) {
		wantError(t, s.storeRaw(alice, part{name: "data", body: []byte("x")}, part{name: "data", body: []byte("y")}, part{name: "policy", body: []byte(policy)}), http.StatusBadRequest)
		wantError(t, s.storeRaw(alice, part{name: "data", body: []byte("x")}, part{name: "policy", body: []byte(policy)}, part{name: "colour", body: []byte("blue")}), http.StatusBadRequest)
	})
}

// TestServeBadArguments: stickyd serve refuses bad flags and unusable
// places with a message and a non-zero exit.
func TestServeBadArguments(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "file", []byte("x"))
	for name, args := range map[string][]string{
		"data is a file":   {"serve", "--addr", "127.0.0.1:0", "--data", file},
		"data under file":  {"serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(file, "sub")},
		"bad address":      {"serve", "--addr", "not-an-address", "--data", filepath.Join(dir, "d1")},
		"unknown flag":     {"serve", "--bogus"},
		"extra argument":   {"serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "d2"), "extra"},
		"negative maxbody": {"serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "d3"), "--max-body", "-1"},
	} {
		r := runBin(t, "stickyd", nil, nil, args...)
		if r.code == 0 || strings.TrimSpace(r.stderr) == "" || strings.Contains(r.stderr, "goroutine") {
			t.Errorf("%s: exit %d, stderr %q", name, r.code, r.stderr)
		}
	}
}

// TestPurposesAndXACML3: a policy in XACML 3.0 syntax; a purpose is allowed
// when it is, or descends from, an allowed one (DPV); PPL's "any" allows
// every purpose; a broader purpose is not allowed.
func TestPurposesAndXACML3(t *testing.T) {
	s := startServer(t)
	alice := s.principal("subject", "alice@example.org")
	bob := s.principal("controller", "bob@example.org")
	carol := s.principal("controller", "carol@example.org")
	policy := readTestdata(t, "subject-policy-xacml3.xml")
	rec := s.store(alice, []byte("x3"), "text/plain", policy)
	anyRec := s.store(alice, []byte("any"), "text/plain", strings.Replace(policy, purposeService, "http://www.primelife.eu/purposes/any", 1))
	tests := []struct {
		name, id, tok, purpose string
		status                 int
	}{
		{"allowed", rec.ID, bob, purposeService, 200},
		{"grandchild of allowed", rec.ID, bob, "https://w3id.org/dpv#DeliveryOfGoods", 200},
		{"child of allowed", rec.ID, bob, "https://w3id.org/dpv#PaymentManagement", 200},
		{"broader", rec.ID, bob, "https://w3id.org/dpv#Purpose", 403},
		{"sibling", rec.ID, bob, purposeMarketing, 403},
		{"unknown IRI", rec.ID, bob, "urn:example:purpose", 403},
		{"not permitted by XACML", rec.ID, carol, purposeService, 403},
		{"any: DPV purpose", anyRec.ID, bob, purposeMarketing, 200},
		{"any: unknown IRI", anyRec.ID, bob, "urn:example:purpose", 200},
		{"any: still XACML", anyRec.ID, carol, purposeMarketing, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do("GET", "/v1/pii/"+tc.id, tc.tok, nil, "X-Purpose", tc.purpose)
			if r.status != tc.status {
				t.Errorf("%s", r)
			}
			if tc.status == 403 {
				wantError(t, r, 403, "decision", "reason")
			}
		})
	}
}

// TestGracefulShutdown: SIGTERM lets an in-flight store finish (201), then
// the server exits 0, and the record is there after a restart.
func TestGracefulShutdown(t *testing.T) {
	s := startServer(t)
	alice := s.principal("subject", "alice@example.org")
	body, ct := multipartBody(t, part{name: "data", contentType: "text/plain", body: bytes.Repeat([]byte("z"), 256<<10)},
		part{name: "policy", body: []byte(readTestdata(t, "subject-policy.xml"))})
	full, _ := io.ReadAll(body)
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", s.url+"/v1/pii", pr)
	req.Header.Set("Authorization", "Bearer "+alice)
	req.Header.Set("Content-Type", ct)
	req.ContentLength = int64(len(full))
	type answer struct {
		status int
		body   []byte
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- answer{err: err}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		done <- answer{status: res.StatusCode, body: b}
	}()
	half := len(full) / 2
	if _, err := pw.Write(full[:half]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the request is in the handler
	s.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(300 * time.Millisecond)
	if _, err := pw.Write(full[half:]); err != nil {
		t.Fatalf("the server dropped the in-flight request on SIGTERM: %v", err)
	}
	pw.Close()
	a := <-done
	if a.err != nil || a.status != http.StatusCreated {
		t.Fatalf("in-flight store during shutdown: %d %s %v", a.status, a.body, a.err)
	}
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not exit after SIGTERM")
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0", code)
	}
	var st stored
	json.Unmarshal(a.body, &st)
	s2 := s.restart()
	if r := s2.do("GET", "/v1/pii/"+st.ID, alice, nil); r.status != http.StatusOK || len(r.body) != 256<<10 {
		t.Errorf("the store acknowledged during shutdown is missing after restart: %d, %d bytes", r.status, len(r.body))
	}
}

// TestDefaultDataDir: without --data, stickyd serve keeps everything in
// ./sticky-data of its working directory.
func TestDefaultDataDir(t *testing.T) {
	path := bin(t, "stickyd")
	cwd := t.TempDir()
	cmd := exec.Command(path, "serve")
	cmd.Dir = cwd
	cmd.Env = append(os.Environ(), "STICKY_ADDR=127.0.0.1:0", "STICKY_DATA=")
	errb := &syncBuffer{}
	cmd.Stderr = errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	for end := time.Now().Add(30 * time.Second); !strings.Contains(errb.String(), "listening on"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("no listening line:\n%s", errb.String())
		}
	}
	entries, _ := os.ReadDir(cwd)
	if len(entries) != 1 || entries[0].Name() != "sticky-data" || !entries[0].IsDir() {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("working directory holds %v, want only sticky-data/", names)
	}
}

// TestDataFilesArePrivate: whatever the umask and even when DIR already
// exists and is open to others, the files stickyd keeps (database, WAL,
// keys) are readable by their owner only: they hold personal data.
func TestDataFilesArePrivate(t *testing.T) {
	root := t.TempDir()
	data := filepath.Join(root, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(data, 0o755)
	// principal add first (it may create the database), then the server.
	r := runBin(t, "stickyd", nil, nil, "principal", "add", "--data", data, "--role", "subject", "alice@example.org")
	if r.code != 0 {
		t.Fatalf("principal add: %s", r.stderr)
	}
	s := launch(t, data, root)
	s.store(strings.TrimSpace(r.stdout), []byte("private bytes"), "text/plain", readTestdata(t, "subject-policy.xml"))
	filepath.WalkDir(data, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == data || d.Name() == "ibe-ca.pem" { // the CA certificate is public
			return nil
		}
		if info, err := d.Info(); err == nil && info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v: readable by others", p, info.Mode().Perm())
		}
		return nil
	})
}

// TestLaxDatabaseFilesAreTightened: a database left readable by others (an
// older stickyd, a lax umask) is made private when the server starts.
func TestLaxDatabaseFilesAreTightened(t *testing.T) {
	s := startServer(t)
	s.principal("subject", "alice@example.org")
	s.stop()
	db := filepath.Join(s.data, "sticky.db")
	if err := os.Chmod(db, 0o644); err != nil {
		t.Fatal(err)
	}
	s.restart()
	if info, err := os.Stat(db); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("sticky.db after a restart: %v %v, want mode 0600", info.Mode().Perm(), err)
	}
}
