package acceptance

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIBE: public parameters without auth, server-side encrypt_for, keys in
// both formats, offline decrypt and encrypt with the sticky client, and a
// wrong key failing clearly.
func TestIBE(t *testing.T) {
	s := startServer(t, "--log-level", "debug")
	alice := s.principal("subject", "alice@example.org")
	bob := s.principal("controller", "bob@example.org")
	carol := s.principal("controller", "carol@example.org")
	dir := t.TempDir()
	plain := "IBE-MARKER-c0ffee: alice's medical note"
	s.secrets = append(s.secrets, plain)

	params := s.do("GET", "/v1/ibe/params", "", nil)
	if params.status != http.StatusOK || len(params.body) == 0 {
		t.Fatalf("GET /v1/ibe/params: %s", params)
	}
	paramsFile := writeFile(t, dir, "params", params.body)
	key := func(tok, format string) string {
		t.Helper()
		r := s.postJSON("/v1/ibe/key", tok, map[string]string{"format": format})
		if r.status != http.StatusOK || len(r.body) == 0 {
			t.Fatalf("POST /v1/ibe/key %s: %s", format, r)
		}
		return writeFile(t, dir, tok[:8]+"-"+format+".key", r.body)
	}
	bobString, bobX509, carolString := key(bob, "string"), key(bob, "x509"), key(carol, "string")
	if b, _ := os.ReadFile(bobX509); !bytes.Contains(b, []byte("-----BEGIN CERTIFICATE-----")) {
		t.Errorf("x509 key is not a PEM certificate: %.200s", b)
	}
	if b1, _ := os.ReadFile(bobString); bytes.Equal(b1, mustRead(t, carolString)) {
		t.Errorf("bob and carol got the same key")
	}

	decrypt := func(t *testing.T, keyFile string, ct []byte) result {
		t.Helper()
		in := writeFile(t, t.TempDir(), "ct", ct)
		out := filepath.Join(t.TempDir(), "pt")
		r := runBin(t, "sticky", nil, nil, "decrypt", "--key", keyFile, "--in", in, "--out", out)
		if r.code == 0 {
			r.stdout = string(mustRead(t, out))
		}
		return r
	}

	t.Run("server encrypts for bob", func(t *testing.T) {
		rec := s.store(alice, []byte(plain), "text/plain", readTestdata(t, "subject-policy.xml"),
			part{name: "encrypt_for", body: []byte("bob@example.org")})
		if !rec.Encrypted {
			t.Fatalf("encrypted false with encrypt_for")
		}
		r := s.do("GET", "/v1/pii/"+rec.ID, bob, nil, "X-Purpose", purposeService)
		if r.status != http.StatusOK {
			t.Fatalf("bob reads: %s", r)
		}
		if bytes.Contains(r.body, []byte(plain)) {
			t.Fatalf("encrypted record served in the clear")
		}
		if ct := r.header.Get("Content-Type"); ct != "text/plain" {
			t.Errorf("Content-Type %q of the encrypted record, want the stored text/plain", ct)
		}
		for _, k := range []string{bobString, bobX509} {
			d := decrypt(t, k, r.body)
			if d.code != 0 || d.stdout != plain {
				t.Errorf("sticky decrypt --key %s: exit %d, %q, stderr %s", filepath.Base(k), d.code, d.stdout, d.stderr)
			}
		}
		d := decrypt(t, carolString, r.body)
		if d.code == 0 || strings.Contains(d.stdout, plain) || len(strings.TrimSpace(d.stderr)) < 10 {
			t.Errorf("carol's key: exit %d, out %q, stderr %q; want a failure with a clear message", d.code, d.stdout, d.stderr)
		}
		// carol is not a delegate either.
		wantError(t, s.do("GET", "/v1/pii/"+rec.ID, carol, nil, "X-Purpose", purposeService), http.StatusForbidden, "decision", "reason")
		assertNotOnDisk(t, s.data, plain)
	})

	t.Run("owner encrypts offline", func(t *testing.T) {
		in := writeFile(t, t.TempDir(), "plain", []byte(plain))
		ctFile := filepath.Join(t.TempDir(), "ct")
		r := runBin(t, "sticky", nil, nil, "encrypt", "--params", paramsFile, "--to", "bob@example.org", "--in", in, "--out", ctFile)
		if r.code != 0 {
			t.Fatalf("sticky encrypt: exit %d: %s", r.code, r.stderr)
		}
		ct := mustRead(t, ctFile)
		if bytes.Contains(ct, []byte(plain)) {
			t.Fatal("ciphertext holds the plaintext")
		}
		rec := s.store(alice, ct, "application/octet-stream", readTestdata(t, "subject-policy.xml"))
		if !rec.Encrypted {
			t.Errorf("an offline IBE ciphertext stored with encrypted false")
		}
		got := s.do("GET", "/v1/pii/"+rec.ID, bob, nil, "X-Purpose", purposeService)
		if got.status != http.StatusOK || !bytes.Equal(got.body, ct) {
			t.Fatalf("bob reads the stored ciphertext: %d, equal %v", got.status, bytes.Equal(got.body, ct))
		}
		if d := decrypt(t, bobX509, got.body); d.code != 0 || d.stdout != plain {
			t.Errorf("sticky decrypt: exit %d, %q, %s", d.code, d.stdout, d.stderr)
		}
		assertNotOnDisk(t, s.data, plain)
		// Through stdin/stdout too.
		r = runBin(t, "sticky", nil, bytes.NewReader(ct), "decrypt", "--key", bobString)
		if r.code != 0 || r.stdout != plain {
			t.Errorf("sticky decrypt on stdin: exit %d, %q, %s", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("several recipients", func(t *testing.T) {
		// Server side, with a space after the comma.
		rec := s.store(alice, []byte(plain), "text/plain", readTestdata(t, "subject-policy.xml"),
			part{name: "encrypt_for", body: []byte("bob@example.org, carol@example.org")})
		if !rec.Encrypted {
			t.Fatal("encrypted false")
		}
		// Bob may read it; carol may not read it from the server, but the
		// ciphertext is made for both.
		r := s.do("GET", "/v1/pii/"+rec.ID, bob, nil, "X-Purpose", purposeService)
		for _, k := range []string{bobString, carolString} {
			if d := decrypt(t, k, r.body); d.code != 0 || d.stdout != plain {
				t.Errorf("server-side, key %s: exit %d, %q, %s", filepath.Base(k), d.code, d.stdout, d.stderr)
			}
		}
		// Offline.
		in := writeFile(t, t.TempDir(), "plain", []byte(plain))
		enc := runBin(t, "sticky", nil, nil, "encrypt", "--params", paramsFile, "--to", "bob@example.org,carol@example.org", "--in", in)
		if enc.code != 0 {
			t.Fatalf("sticky encrypt to two: exit %d: %s", enc.code, enc.stderr)
		}
		for _, k := range []string{bobString, carolString} {
			if d := decrypt(t, k, []byte(enc.stdout)); d.code != 0 || d.stdout != plain {
				t.Errorf("offline, key %s: exit %d, %q, %s", filepath.Base(k), d.code, d.stdout, d.stderr)
			}
		}
		aliceKey := key(alice, "string")
		if d := decrypt(t, aliceKey, []byte(enc.stdout)); d.code == 0 {
			t.Errorf("alice's key opened a ciphertext made for bob and carol")
		}
	})
	t.Run("identities are canonical", func(t *testing.T) {
		rec := s.store(alice, []byte(plain), "text/plain", readTestdata(t, "subject-policy.xml"),
			part{name: "encrypt_for", body: []byte("Bob@Example.ORG")})
		r := s.do("GET", "/v1/pii/"+rec.ID, bob, nil, "X-Purpose", purposeService)
		if d := decrypt(t, bobString, r.body); d.code != 0 || d.stdout != plain {
			t.Errorf("encrypt_for Bob@Example.ORG, bob's key: exit %d, %s", d.code, d.stderr)
		}
		in := writeFile(t, t.TempDir(), "plain", []byte(plain))
		enc := runBin(t, "sticky", nil, nil, "encrypt", "--params", paramsFile, "--to", "BOB@example.org", "--in", in)
		if d := decrypt(t, bobX509, []byte(enc.stdout)); enc.code != 0 || d.code != 0 || d.stdout != plain {
			t.Errorf("sticky encrypt --to BOB@example.org, bob's key: exit %d/%d, %s%s", enc.code, d.code, enc.stderr, d.stderr)
		}
	})
	t.Run("key verify", func(t *testing.T) {
		if r := runBin(t, "sticky", nil, nil, "key", "verify", "--params", paramsFile, "--key", bobString, "--identity", "bob@example.org"); r.code != 0 {
			t.Errorf("sticky key verify bob's key as bob: exit %d: %s", r.code, r.stderr)
		}
		if r := runBin(t, "sticky", nil, nil, "key", "verify", "--params", paramsFile, "--key", bobString, "--identity", "carol@example.org"); r.code == 0 {
			t.Errorf("bob's key verified as carol's")
		}
	})

	t.Run("bad usage", func(t *testing.T) {
		if r := runBin(t, "sticky", nil, nil, "decrypt", "--key", filepath.Join(dir, "nope")); r.code == 0 || r.stderr == "" {
			t.Errorf("decrypt with a missing key file: exit %d, %q", r.code, r.stderr)
		}
		if r := runBin(t, "sticky", nil, strings.NewReader("not a ciphertext"), "decrypt", "--key", bobString); r.code == 0 || r.stderr == "" || r.stdout != "" {
			t.Errorf("decrypt of garbage: exit %d, out %q, err %q", r.code, r.stdout, r.stderr)
		}
		if r := runBin(t, "sticky", nil, strings.NewReader("x"), "encrypt", "--params", paramsFile); r.code != 2 {
			t.Errorf("encrypt without --to: exit %d, want 2", r.code)
		}
	})
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
