package ibe

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// BenchmarkExtract measures d_id = s·H1(id): one hash to G1 and one G1
// scalar multiplication.
func BenchmarkExtract(b *testing.B) {
	p := newTestPKG(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Extract("bob@example.org;epoch=2026-11"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWrap measures wrapping one 32-byte data key to one identity
// (BF-FullIdent encryption: H1, a pairing, a G1 and a G2 multiplication).
func BenchmarkWrap(b *testing.B) {
	p := newTestPKG(b)
	id, _ := ParseIdentity("bob@example.org")
	key := testData(dataKeySize, 1)
	s := stickySuite()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.encrypt(&p.params.mpk, s.hashID(id.h1Input()), key, cryptoRand()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnwrap measures unwrapping the data key (a pairing, H2..H4 and the
// Fujisaki–Okamoto check U = r·g2).
func BenchmarkUnwrap(b *testing.B) {
	p := newTestPKG(b)
	k := mustExtract(b, p, "bob@example.org")
	s := stickySuite()
	c, err := s.encrypt(&p.params.mpk, s.hashID(k.id.h1Input()), testData(dataKeySize, 1), cryptoRand())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.decrypt(&k.d, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncryptRecipients measures Encrypt of a small message to n
// identities: the cost grows with one wrap per identity.
func BenchmarkEncryptRecipients(b *testing.B) {
	p := newTestPKG(b)
	for _, n := range []int{1, 10} {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("delegate%d@example.org", i)
		}
		b.Run(fmt.Sprintf("recipients=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := Encrypt(io.Discard, bytes.NewReader([]byte("hello")), p.Params(), ids, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecryptSmall measures Decrypt of a small file: one unwrap plus the
// header MAC and one chunk.
func BenchmarkDecryptSmall(b *testing.B) {
	p := newTestPKG(b)
	k := mustExtract(b, p, "bob@example.org")
	ct := encryptBytes(b, p.Params(), []byte("hello"), []string{"bob@example.org"})
	b.ReportAllocs()
	for b.Loop() {
		if err := Decrypt(io.Discard, bytes.NewReader(ct), k); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFileThroughput measures Encrypt and Decrypt of a 64 MiB stream
// (b.SetBytes): the AEAD, not IBE, should bound it.
func BenchmarkFileThroughput(b *testing.B) {
	const size = 64 << 20
	p := newTestPKG(b)
	k := mustExtract(b, p, "bob@example.org")
	plain := testData(size, 5)
	ct := encryptBytes(b, p.Params(), plain, []string{"bob@example.org"})
	b.Run("op=encrypt/size=64MiB", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			if err := Encrypt(io.Discard, bytes.NewReader(plain), p.Params(), []string{"bob@example.org"}, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("op=decrypt/size=64MiB", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			if err := Decrypt(io.Discard, bytes.NewReader(ct), k); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerifyKey measures (*PrivateKey).Verify: a product of two pairings.
func BenchmarkVerifyKey(b *testing.B) {
	p := newTestPKG(b)
	k := mustExtract(b, p, "bob@example.org")
	b.ReportAllocs()
	for b.Loop() {
		if err := k.Verify(p.Params()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKeyCertificate measures issuing an X.509 key certificate with a
// freshly generated key-agreement key.
func BenchmarkKeyCertificate(b *testing.B) {
	p := newTestPKG(b)
	k := mustExtract(b, p, "bob@example.org")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.KeyCertificate(k); err != nil {
			b.Fatal(err)
		}
	}
}
