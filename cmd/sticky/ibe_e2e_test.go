package main

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stickypolicy/sticky/ibe"
	"github.com/stickypolicy/sticky/internal/client/clienttest"
	"github.com/stickypolicy/sticky/pep"
)

// TestIBEEndToEnd: the owner stores a file encrypted for bob; bob retrieves
// it by purpose, fetches his key in both formats and decrypts it with
// `sticky decrypt`; carol, not a delegate, is denied, and her key does not
// decrypt it. Everything goes through the sticky command and the real
// server, store, PKG and cryptography.
func TestIBEEndToEnd(t *testing.T) {
	pkg, err := ibe.LoadOrCreatePKG(filepath.Join(t.TempDir(), "pkg"), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srv := clienttest.Start(t, pep.WithIBE(pep.NewIBE(pkg, rand.Reader)))
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }

	// A file spanning several chunks, with a ragged end.
	plain := make([]byte, 3*ibe.DefaultChunkSize+123)
	rand.Read(plain)
	copy(plain, "alice's medical report\n")
	if err := os.WriteFile(path("report.bin"), plain, 0o600); err != nil {
		t.Fatal(err)
	}

	// alice stores it encrypted for bob.
	r := mustOK(t, cli(t, srv, "alice", "", "put", "--policy", "testdata/policy.xml", "--encrypt-for", "bob@example.org", path("report.bin")), "put --encrypt-for")
	var stored struct {
		ID        string
		Encrypted bool
	}
	if err := json.Unmarshal([]byte(r.stdout), &stored); err != nil || !stored.Encrypted || stored.ID == "" {
		t.Fatalf("put printed %s (%v), want encrypted true", r.stdout, err)
	}

	// bob retrieves it by purpose: ciphertext, not the plaintext.
	mustOK(t, cli(t, srv, "bob", "", "get", "--purpose", purposeService, "--out", path("report.ibe"), stored.ID), "bob get")
	ct, err := os.ReadFile(path("report.ibe"))
	if err != nil {
		t.Fatal(err)
	}
	if !ibe.IsCiphertext(ct) || bytes.Contains(ct, []byte("medical report")) || len(ct) <= len(plain) {
		t.Fatalf("bob got %d bytes that are not a ciphertext of the %d-byte file", len(ct), len(plain))
	}

	// The public parameters need no token.
	mustOK(t, runCLI(t, map[string]string{"STICKY_URL": srv.URL}, nil, "params", "--out", path("params.txt")), "params without a token")

	// bob's key in both formats; both verify against the parameters and decrypt.
	mustOK(t, cli(t, srv, "bob", "", "key", "--out", path("bob.key")), "bob key (string)")
	mustOK(t, cli(t, srv, "bob", "", "key", "--format", "x509", "--out", path("bob.pem")), "bob key (x509)")
	pemBytes, _ := os.ReadFile(path("bob.pem"))
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("the x509 key is not a PEM certificate: %.80q", pemBytes)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil || cert.Subject.CommonName != "bob@example.org" {
		t.Fatalf("certificate: %v, subject %v", err, cert.Subject)
	}
	for _, key := range []string{"bob.key", "bob.pem"} {
		t.Run("decrypt with "+key, func(t *testing.T) {
			mustOK(t, cli(t, srv, "", "", "key", "verify", "--params", path("params.txt"), "--key", path(key), "--identity", "bob@example.org"), "key verify")
			out := path(key + ".out")
			mustOK(t, cli(t, srv, "", "", "decrypt", "--key", path(key), "--in", path("report.ibe"), "--out", out), "decrypt")
			got, err := os.ReadFile(out)
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("decrypted %d bytes (%v), want the %d bytes alice stored", len(got), err, len(plain))
			}
		})
	}

	// x509 for a key-agreement key bob keeps to himself: the answer is the
	// certificate alone, and with his private key next to it, it decrypts.
	t.Run("x509 for bob's own public key", func(t *testing.T) {
		priv, err := ecdh.X25519().GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pubDER, _ := x509.MarshalPKIXPublicKey(priv.PublicKey())
		os.WriteFile(path("bob-pub.pem"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600)
		mustOK(t, cli(t, srv, "bob", "", "key", "--format", "x509", "--public-key", path("bob-pub.pem"), "--out", path("bob-cert.pem")), "key --public-key")
		certOnly, _ := os.ReadFile(path("bob-cert.pem"))
		if bytes.Contains(certOnly, []byte("PRIVATE KEY")) {
			t.Fatal("the server returned a private key although bob sent his public key")
		}
		privDER, _ := x509.MarshalPKCS8PrivateKey(priv)
		bundle := append(certOnly, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})...)
		os.WriteFile(path("bob-bundle.pem"), bundle, 0o600)
		mustOK(t, cli(t, srv, "", "", "decrypt", "--key", path("bob-bundle.pem"), "--in", path("report.ibe"), "--out", path("bundle.out")), "decrypt with bob's own key pair")
		if got, _ := os.ReadFile(path("bundle.out")); !bytes.Equal(got, plain) {
			t.Fatal("bob's own key pair did not decrypt the file")
		}
	})

	// carol is not a delegate: denied the record...
	mustFail(t, cli(t, srv, "carol", "", "get", "--purpose", purposeService, stored.ID), "carol get", "HTTP 403")
	// ...she gets only her own key...
	mustOK(t, cli(t, srv, "carol", "", "key", "--out", path("carol.key")), "carol key")
	r = cli(t, srv, "", "", "key", "verify", "--params", path("params.txt"), "--key", path("carol.key"), "--identity", "bob@example.org")
	if r.code == exitOK {
		t.Fatal("carol's key verified as bob's")
	}
	// ...and it does not decrypt bob's file (a clear error, no output file).
	r = cli(t, srv, "", "", "decrypt", "--key", path("carol.key"), "--in", path("report.ibe"), "--out", path("carol.out"))
	if r.code != exitFailure || r.stderr == "" {
		t.Fatalf("decrypt with carol's key: exit %d, stderr %q; want exit 1 and a message", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "not a recipient") || !strings.Contains(r.stderr, "carol@example.org") {
		t.Errorf("the error does not say why: %s", r.stderr)
	}
	if _, err := os.Stat(path("carol.out")); !os.IsNotExist(err) {
		t.Error("a failed decrypt left an output file")
	}
	// Without a token no key at all.
	mustFail(t, runCLI(t, map[string]string{"STICKY_URL": srv.URL}, nil, "key"), "key without a token", "HTTP 401")
}

// TestIBEOfflineEncryptThenStore: an owner encrypts offline with the public
// parameters, so the server never sees the plaintext; two delegates can open
// the one ciphertext.
func TestIBEOfflineEncryptThenStore(t *testing.T) {
	pkg, err := ibe.LoadOrCreatePKG(filepath.Join(t.TempDir(), "pkg"), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srv := clienttest.Start(t, pep.WithIBE(pep.NewIBE(pkg, rand.Reader)))
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	os.WriteFile(path("note.txt"), []byte("never seen by the server"), 0o600)

	mustOK(t, cli(t, srv, "alice", "", "params", "--out", path("params.txt")), "params")
	mustOK(t, cli(t, srv, "", "", "encrypt", "--params", path("params.txt"), "--to", "bob@example.org,erin@example.org", "--in", path("note.txt"), "--out", path("note.ibe")), "encrypt")
	r := mustOK(t, cli(t, srv, "alice", "", "put", "--policy", "testdata/policy.xml", "--content-type", "application/octet-stream", path("note.ibe")), "put ciphertext")
	var stored struct{ ID string }
	json.Unmarshal([]byte(r.stdout), &stored)
	mustOK(t, cli(t, srv, "bob", "", "get", "--purpose", purposeService, "--out", path("got.ibe"), stored.ID), "bob get")
	mustOK(t, cli(t, srv, "bob", "", "key", "--out", path("bob.key")), "bob key")
	r = mustOK(t, cli(t, srv, "", "", "decrypt", "--key", path("bob.key"), "--in", path("got.ibe")), "bob decrypts")
	if r.stdout != "never seen by the server" {
		t.Fatalf("bob decrypted %q", r.stdout)
	}
	// erin is a recipient of the ciphertext but not allowed by the policy:
	// the server does not hand her the record.
	mustFail(t, cli(t, srv, "erin", "", "get", "--purpose", purposeService, stored.ID), "erin get", "HTTP 403")
	// With the file (obtained elsewhere) her own key opens it: the ciphertext
	// was made for her too.
	mustOK(t, cli(t, srv, "erin", "", "key", "--out", path("erin.key")), "erin key")
	r = mustOK(t, cli(t, srv, "", "", "decrypt", "--key", path("erin.key"), "--in", path("note.ibe")), "erin decrypts")
	if r.stdout != "never seen by the server" {
		t.Fatalf("erin decrypted %q", r.stdout)
	}
}
