package ibe

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
)

var (
	fuzzOnce sync.Once
	fuzzPKG  *PKG
	fuzzErr  error
)

// fuzzFixture returns one PKG shared by the fuzz targets (created in a
// directory of its own under the system temp dir for the process).
func fuzzFixture(f *testing.F) *PKG {
	fuzzOnce.Do(func() {
		fuzzPKG, fuzzErr = LoadOrCreatePKG(f.TempDir(), nil)
	})
	if fuzzErr != nil {
		f.Fatal(fuzzErr)
	}
	return fuzzPKG
}

func knownErr(err error) bool {
	for _, e := range []error{ErrFormat, ErrTruncated, ErrNotRecipient, ErrWrongKey, ErrAuthentication, ErrTrailingData} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// FuzzDecrypt feeds arbitrary ciphertexts to Decrypt: it must fail with one
// of the package's sentinel errors, never panic, and never succeed on
// anything but the ciphertexts it was given.
func FuzzDecrypt(f *testing.F) {
	p := fuzzFixture(f)
	bob, _ := p.Extract("bob@example.org")
	for _, n := range []int{0, 1, 17, 100} {
		f.Add(encryptBytes(f, p.Params(), testData(n, uint64(n)), []string{"bob@example.org", "carol@example.org"}, WithChunkSize(MinChunkSize)))
	}
	f.Add([]byte(Magic + "\x01\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		err := Decrypt(&out, bytes.NewReader(data), bob)
		if err == nil {
			// Only a genuine ciphertext decrypts: its header MAC and every
			// chunk authenticated under a data key wrapped for bob.
			if _, herr := ParseHeader(bytes.NewReader(data)); herr != nil {
				t.Fatalf("Decrypt accepted input ParseHeader refuses: %v", herr)
			}
			return
		}
		if !knownErr(err) {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}

// FuzzParseHeader checks that ParseHeader never panics, returns sentinel
// errors, and that a parsed header lists canonical recipients.
func FuzzParseHeader(f *testing.F) {
	p := fuzzFixture(f)
	f.Add(encryptBytes(f, p.Params(), []byte("x"), []string{"bob@example.org"}))
	f.Add(encryptBytes(f, p.Params(), nil, []string{"a", "b;epoch=1", "c@d.e"}))
	f.Add([]byte(Magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseHeader(bytes.NewReader(data))
		if err != nil {
			if !knownErr(err) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if len(h.Recipients) == 0 || h.ChunkSize < MinChunkSize || h.ChunkSize > MaxChunkSize {
			t.Fatalf("accepted header %+v", h)
		}
		for _, r := range h.Recipients {
			if c, err := CanonicalIdentity(r); err != nil || c != r {
				t.Fatalf("recipient %q is not canonical", r)
			}
		}
		if !IsCiphertext(data) {
			t.Fatal("ParseHeader accepted data IsCiphertext refuses")
		}
	})
}

// FuzzParseKeyFile checks that ParseKeyFile never panics and that what it
// accepts re-encodes to a key that parses to the same identity.
func FuzzParseKeyFile(f *testing.F) {
	p := fuzzFixture(f)
	bob, _ := p.Extract("bob@example.org;epoch=2026-11")
	f.Add([]byte(EncodeKey(bob)))
	bundle, err := p.KeyCertificate(bob)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(bundle)
	f.Add([]byte("sticky-ibe-key-v1:bob@example.org:"))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParseKeyFile(data)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrWrongKey) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		k2, err := ParseKeyFile([]byte(EncodeKey(k)))
		if err != nil || k2.Identity() != k.Identity() || !k2.d.IsEqual(&k.d) {
			t.Fatalf("accepted key does not round-trip: %v", err)
		}
	})
}

// FuzzParseIdentity checks canonicalisation is idempotent and never yields
// characters that would break the key string or the --to list.
func FuzzParseIdentity(f *testing.F) {
	for _, s := range []string{"bob@example.org", " Bob@Example.org;epoch=2026-11 ", "x", "a@b@c", ";epoch=", "ß@x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := CanonicalIdentity(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidIdentity) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if again, err := CanonicalIdentity(c); err != nil || again != c {
			t.Fatalf("CanonicalIdentity(%q) = %q is not stable: %q, %v", s, c, again, err)
		}
		if strings.ContainsAny(c, ", :\t\n") {
			t.Fatalf("canonical identity %q contains a separator", c)
		}
	})
}

// FuzzParseParams checks that parameter parsing never panics.
func FuzzParseParams(f *testing.F) {
	text, _ := fuzzFixture(f).Params().MarshalText()
	f.Add(text)
	f.Add([]byte(`{"version":"sticky-ibe-v1","master_public_key":""}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseParams(data)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if err := Encrypt(io.Discard, strings.NewReader("x"), p, []string{"bob"}, nil); err != nil {
			t.Fatalf("parsed params do not encrypt: %v", err)
		}
	})
}
