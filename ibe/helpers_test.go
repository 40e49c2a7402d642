package ibe

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// newTestPKG creates a PKG in a fresh temporary data directory.
func newTestPKG(t testing.TB) *PKG {
	t.Helper()
	p, err := LoadOrCreatePKG(t.TempDir(), nil)
	if err != nil {
		t.Fatalf("LoadOrCreatePKG: %v", err)
	}
	return p
}

func mustExtract(t testing.TB, p *PKG, id string) *PrivateKey {
	t.Helper()
	k, err := p.Extract(id)
	if err != nil {
		t.Fatalf("Extract(%q): %v", id, err)
	}
	return k
}

// testData returns n deterministic pseudo-random bytes.
func testData(n int, seed uint64) []byte {
	b := make([]byte, n)
	rand.NewChaCha8(seedBytes(seed)).Read(b)
	return b
}

func seedBytes(seed uint64) [32]byte {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return s
}

func encryptBytes(t testing.TB, params *Params, plain []byte, ids []string, opts ...EncryptOption) []byte {
	t.Helper()
	var ct bytes.Buffer
	if err := Encrypt(&ct, bytes.NewReader(plain), params, ids, nil, opts...); err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	return ct.Bytes()
}

func decryptBytes(ct []byte, k *PrivateKey) ([]byte, error) {
	var out bytes.Buffer
	err := Decrypt(&out, bytes.NewReader(ct), k)
	return out.Bytes(), err
}
