package ibe

import (
	"bytes"
	"encoding/hex"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGoldenFormatV1 pins the v1 file format and key string byte for byte: a
// PKG and an encryption driven by fixed seeds must reproduce the files in
// testdata, and those files must keep decrypting. Run with -update after an
// intended format change (and bump the version).
func TestGoldenFormatV1(t *testing.T) {
	seeded := func(seed uint64) *rand.ChaCha8 { return rand.NewChaCha8(seedBytes(seed)) }
	p, err := LoadOrCreatePKG(t.TempDir(), seeded(1))
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte(strings.Repeat("Sticky golden plaintext. ", 6)) // 150 bytes: 2 full chunks + 22
	var ct bytes.Buffer
	if err := Encrypt(&ct, bytes.NewReader(plain), p.Params(), []string{"bob@example.org", "carol@example.org;epoch=2026-11"}, seeded(2), WithChunkSize(64)); err != nil {
		t.Fatal(err)
	}
	bob := mustExtract(t, p, "bob@example.org")
	files := map[string][]byte{
		"v1-mpk.hex":            []byte(hex.EncodeToString(p.Params().MasterPublicKey()) + "\n"),
		"v1-bob.key":            []byte(EncodeKey(bob) + "\n"),
		"v1-two-recipients.ibe": ct.Bytes(),
	}
	for name, got := range files {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestGoldenFormatV1 -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the golden file: the format or the derivation changed", name)
		}
	}
	// The stored ciphertext decrypts with the stored key.
	data, err := os.ReadFile(filepath.Join("testdata", "v1-two-recipients.ibe"))
	if err != nil {
		t.Fatal(err)
	}
	keyText, err := os.ReadFile(filepath.Join("testdata", "v1-bob.key"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKeyFile(keyText)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decryptBytes(data, k)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("golden ciphertext: %q, %v", got, err)
	}
}

// TestEveryByteFlipFails flips each byte of a small two-recipient ciphertext
// in turn: no modified ciphertext may decrypt.
func TestEveryByteFlipFails(t *testing.T) {
	if testing.Short() {
		t.Skip("one decryption per byte")
	}
	p := newTestPKG(t)
	bob := mustExtract(t, p, "bob@example.org")
	ct := encryptBytes(t, p.Params(), testData(40, 8), []string{"bob@example.org", "carol@example.org"}, WithChunkSize(16))
	for i := range ct {
		bad := bytes.Clone(ct)
		bad[i] ^= 0x01
		if out, err := decryptBytes(bad, bob); err == nil {
			t.Fatalf("flipping byte %d of %d: decrypted %d bytes without error", i, len(ct), len(out))
		}
	}
}
