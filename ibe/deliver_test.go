package ibe

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"
)

func TestDeliverKey(t *testing.T) {
	p := newTestPKG(t)
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub := publicPEM(t, &priv.PublicKey)
	tests := []struct {
		name, id, format string
		pub              []byte
		blocks           int // PEM blocks; 0 for the string form
		withPriv         bool
	}{
		{"string", "Bob@Example.org", KeyFormatString, nil, 0, false},
		{"x509 generated", "bob@example.org", KeyFormatX509, nil, 2, false},
		{"x509 own key", "bob@example.org;epoch=2026-11", KeyFormatX509, pub, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := p.DeliverKey(tt.id, tt.format, tt.pub)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(pemBlocks(t, out)); got != tt.blocks {
				t.Fatalf("%d PEM blocks, want %d", got, tt.blocks)
			}
			if tt.withPriv {
				out = append(out, privatePEM(t, priv)...)
			}
			k, err := ParseKeyFile(out)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := CanonicalIdentity(tt.id)
			if k.Identity() != want {
				t.Fatalf("identity %q, want %q", k.Identity(), want)
			}
			if err := k.Verify(p.Params()); err != nil {
				t.Fatal(err)
			}
		})
	}
	bad := []struct {
		name, id, format string
		pub              []byte
		want             error
	}{
		{"unknown format", "bob@example.org", "pgp", nil, ErrFormat},
		{"empty format", "bob@example.org", "", nil, ErrFormat},
		{"public key with string", "bob@example.org", KeyFormatString, pub, ErrFormat},
		{"bad public key", "bob@example.org", KeyFormatX509, []byte("nope"), ErrFormat},
		{"bad identity", "bob smith", KeyFormatString, nil, ErrInvalidIdentity},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.DeliverKey(tt.id, tt.format, tt.pub)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}
