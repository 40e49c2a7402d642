package ibe

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLoadOrCreatePKG(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	p1, err := LoadOrCreatePKG(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]os.FileMode{MasterKeyFile: 0o600, CAKeyFile: 0o600, CACertFile: 0o644, ".": 0o700} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s has mode %04o, want %04o", name, st.Mode().Perm(), want)
		}
	}
	p2, err := LoadOrCreatePKG(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p1.Params().Fingerprint() != p2.Params().Fingerprint() {
		t.Fatal("reloading the PKG changed its master public key")
	}
	if !p1.Params().CACertificate().Equal(p2.Params().CACertificate()) {
		t.Fatal("reloading the PKG changed its CA certificate")
	}
	k1, k2 := mustExtract(t, p1, "bob@example.org"), mustExtract(t, p2, "bob@example.org")
	if EncodeKey(k1) != EncodeKey(k2) {
		t.Fatal("reloaded PKG extracts a different key")
	}
	if p3 := newTestPKG(t); p3.Params().Fingerprint() == p1.Params().Fingerprint() {
		t.Fatal("two PKGs share a master key")
	}
}

func TestLoadOrCreatePKGRefusesExposedSecrets(t *testing.T) {
	for _, file := range []string{MasterKeyFile, CAKeyFile} {
		for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
			t.Run(fmt.Sprintf("%s/%04o", file, mode), func(t *testing.T) {
				dir := t.TempDir()
				if _, err := LoadOrCreatePKG(dir, nil); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(filepath.Join(dir, file), mode); err != nil {
					t.Fatal(err)
				}
				_, err := LoadOrCreatePKG(dir, nil)
				if !errors.Is(err, ErrInsecureKeyFile) {
					t.Fatalf("err = %v, want ErrInsecureKeyFile", err)
				}
				if !strings.Contains(err.Error(), "chmod 600") {
					t.Fatalf("error %q does not say how to fix it", err)
				}
			})
		}
	}
}

func TestLoadOrCreatePKGRejectsCorruptFiles(t *testing.T) {
	tests := []struct{ file, content string }{
		{MasterKeyFile, "not a key"},
		{MasterKeyFile, "-----BEGIN STICKY IBE MASTER KEY-----\nAAAA\n-----END STICKY IBE MASTER KEY-----\n"},
		{CAKeyFile, "garbage"},
		{CACertFile, "garbage"},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.content[:4], func(t *testing.T) {
			dir := t.TempDir()
			if _, err := LoadOrCreatePKG(dir, nil); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, tt.file), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadOrCreatePKG(dir, nil); !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v, want ErrFormat", err)
			}
		})
	}
}

// TestMasterSecretNeverShown checks that the secret does not leak through
// formatting or the public parameters.
func TestMasterSecretNeverShown(t *testing.T) {
	dir := t.TempDir()
	p, err := LoadOrCreatePKG(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := p.s.MarshalBinary()
	secretHex := fmt.Sprintf("%x", raw)
	params, _ := p.Params().MarshalText()
	for name, s := range map[string]string{
		"%v": fmt.Sprintf("%v", p), "%+v": fmt.Sprintf("%+v", p), "%#v": fmt.Sprintf("%#v", p),
		"%s": fmt.Sprintf("%s", p), "params": string(params),
	} {
		if strings.Contains(strings.ToLower(s), secretHex) || strings.Contains(s, p.s.String()) {
			t.Errorf("%s shows the master secret", name)
		}
	}
	if !strings.Contains(fmt.Sprintf("%v", p), p.Params().Fingerprint()) {
		t.Error("String does not name the PKG by fingerprint")
	}
}

func TestParamsText(t *testing.T) {
	p := newTestPKG(t)
	text, err := p.Params().MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	q, err := ParseParams(text)
	if err != nil {
		t.Fatalf("ParseParams: %v", err)
	}
	if !bytes.Equal(q.MasterPublicKey(), p.Params().MasterPublicKey()) || q.CACertificate() == nil {
		t.Fatal("params do not round-trip")
	}
	// A key verifies against parsed params, and data encrypted with parsed
	// params decrypts.
	bob := mustExtract(t, p, "bob@example.org")
	if err := bob.Verify(q); err != nil {
		t.Fatal(err)
	}
	if got, err := decryptBytes(encryptBytes(t, q, []byte("hi"), []string{"bob@example.org"}), bob); err != nil || string(got) != "hi" {
		t.Fatalf("round trip through parsed params: %q, %v", got, err)
	}

	bad := []struct{ name, text string }{
		{"not json", "{"},
		{"empty", "{}"},
		{"other version", strings.Replace(string(text), ParamsVersion, "sticky-ibe-v9", 1)},
		{"other dst", strings.Replace(string(text), StickyH1DST, KyberH1DST, 1)},
		{"bad hex", strings.Replace(string(text), `"master_public_key": "`, `"master_public_key": "zz`, 1)},
		{"short key", strings.Replace(string(text), `"master_public_key": "`, `"master_public_key": "00`, 1)},
		{"not on curve", strings.Replace(string(text), `"master_public_key": "`+fmt.Sprintf("%x", q.MasterPublicKey()[:2]), `"master_public_key": "bfff`, 1)},
		{"wrong fingerprint", strings.Replace(string(text), p.Params().Fingerprint(), strings.Repeat("0", 64), 1)},
		{"bad ca", strings.Replace(string(text), "MII", "XXX", 1)},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseParams([]byte(tt.text)); !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v, want ErrFormat", err)
			}
		})
	}
}

func TestVerifyKey(t *testing.T) {
	p := newTestPKG(t)
	other := newTestPKG(t)
	bob := mustExtract(t, p, "bob@example.org")
	carol := mustExtract(t, p, "carol@example.org")
	tests := []struct {
		name string
		key  *PrivateKey
		ok   bool
	}{
		{"own key", bob, true},
		{"epoch key", mustExtract(t, p, "bob@example.org;epoch=2026-11"), true},
		{"key of another PKG", mustExtract(t, other, "bob@example.org"), false},
		{"carol's point labelled bob", &PrivateKey{id: bob.id, d: carol.d}, false},
		{"bob's key labelled with an epoch", &PrivateKey{id: Identity{Name: "bob@example.org", Epoch: "2026-11"}, d: bob.d}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.key.Verify(p.Params())
			if tt.ok && err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("Verify err = %v, want ErrInvalidKey", err)
			}
		})
	}
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

func TestPKGClock(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	p, err := LoadOrCreatePKG(t.TempDir(), nil, WithClock(fixedClock{now}))
	if err != nil {
		t.Fatal(err)
	}
	if ca := p.Params().CACertificate(); !ca.NotBefore.Equal(now.Add(-time.Hour)) || !ca.NotAfter.Equal(now.AddDate(20, 0, 0)) {
		t.Fatalf("CA validity %v .. %v", ca.NotBefore, ca.NotAfter)
	}
	bundle, err := p.KeyCertificate(mustExtract(t, p, "bob@example.org"), WithValidity(31*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKeyFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if c := k.Certificate(); !c.NotBefore.Equal(now.Add(-5*time.Minute)) || !c.NotAfter.Equal(now.Add(31*24*time.Hour)) {
		t.Fatalf("key certificate validity %v .. %v", c.NotBefore, c.NotAfter)
	}
}

// TestConcurrentFirstStart starts several PKGs on one empty directory at
// once: they must all end up with the same master key.
func TestConcurrentFirstStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	const n = 6
	fps := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := LoadOrCreatePKG(dir, nil)
			if err != nil {
				errs[i] = err
				return
			}
			fps[i] = p.Params().Fingerprint() + p.Params().CACertificate().SerialNumber.String()
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("start %d: %v", i, errs[i])
		}
		if fps[i] != fps[0] {
			t.Fatalf("start %d got another master key or CA than start 0", i)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".tmp-*"))
	if len(leftovers) != 0 {
		t.Fatalf("temporary files left behind: %v", leftovers)
	}
}
