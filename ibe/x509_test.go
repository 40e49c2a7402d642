package ibe

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"
)

func pemBlocks(t *testing.T, data []byte) []*pem.Block {
	t.Helper()
	var out []*pem.Block
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return out
		}
		out = append(out, b)
	}
}

func publicPEM(t *testing.T, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func privatePEM(t *testing.T, priv any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func checkKeyCert(t *testing.T, p *PKG, cert *x509.Certificate, id string) {
	t.Helper()
	if cert.Subject.CommonName != id {
		t.Errorf("certificate CN %q, want %q", cert.Subject.CommonName, id)
	}
	if err := cert.CheckSignatureFrom(p.Params().CACertificate()); err != nil {
		t.Errorf("certificate not signed by the PKG CA: %v", err)
	}
	ext := findExtension(cert)
	if ext == nil {
		t.Fatal("no sealed key extension")
	}
	if ext.Critical {
		t.Error("sealed key extension is critical")
	}
	if cert.KeyUsage != x509.KeyUsageKeyAgreement || cert.IsCA {
		t.Errorf("key usage %v, IsCA %v", cert.KeyUsage, cert.IsCA)
	}
	// The sealed key must not be the raw key.
	k := mustExtract(t, p, id)
	if bytes.Contains(cert.Raw, k.d.BytesCompressed()) {
		t.Error("the identity key appears in the clear in the certificate")
	}
	// A standard verifier accepts the certificate chain.
	roots := x509.NewCertPool()
	roots.AddCert(p.Params().CACertificate())
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Errorf("x509 chain verification: %v", err)
	}
}

func TestKeyCertificateGeneratedKey(t *testing.T) {
	p := newTestPKG(t)
	for _, id := range []string{"bob@example.org", "bob@example.org;epoch=2026-11", "billing-service"} {
		t.Run(id, func(t *testing.T) {
			bundle, err := p.KeyCertificate(mustExtract(t, p, id))
			if err != nil {
				t.Fatal(err)
			}
			blocks := pemBlocks(t, bundle)
			if len(blocks) != 2 || blocks[0].Type != "CERTIFICATE" || blocks[1].Type != "PRIVATE KEY" {
				t.Fatalf("bundle has blocks %v, want CERTIFICATE + PRIVATE KEY", blockTypes(blocks))
			}
			cert, err := x509.ParseCertificate(blocks[0].Bytes)
			if err != nil {
				t.Fatal(err)
			}
			if pub, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
				t.Fatalf("certificate key is %T, want a P-256 key", cert.PublicKey)
			}
			checkKeyCert(t, p, cert, id)
			k, err := ParseKeyFile(bundle)
			if err != nil {
				t.Fatalf("ParseKeyFile: %v", err)
			}
			if k.Identity() != id || k.Certificate() == nil {
				t.Fatalf("identity %q, certificate %v", k.Identity(), k.Certificate() != nil)
			}
			if err := k.Verify(p.Params()); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got, err := decryptBytes(encryptBytes(t, p.Params(), []byte("secret"), []string{id}), k); err != nil || string(got) != "secret" {
				t.Fatalf("decrypt with the certificate's key: %q %v", got, err)
			}
			// Private key first works too.
			if _, err := ParseKeyFile(append(pem.EncodeToMemory(blocks[1]), pem.EncodeToMemory(blocks[0])...)); err != nil {
				t.Fatalf("key before certificate: %v", err)
			}
		})
	}
}

func blockTypes(bs []*pem.Block) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.Type)
	}
	return out
}

func TestKeyCertificateOwnKey(t *testing.T) {
	p := newTestPKG(t)
	x, _ := ecdh.X25519().GenerateKey(rand.Reader)
	pe, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalECPrivateKey(pe)
	tests := []struct {
		name    string
		pub     []byte
		privPEM []byte
		certKey string
	}{
		{"X25519", publicPEM(t, x.PublicKey()), privatePEM(t, x), "*ecdh.PublicKey"},
		{"P-256 PKCS#8", publicPEM(t, &pe.PublicKey), privatePEM(t, pe), "*ecdsa.PublicKey"},
		{"P-256 SEC1", publicPEM(t, &pe.PublicKey), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER}), "*ecdsa.PublicKey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certPEM, err := p.KeyCertificate(mustExtract(t, p, "carol@example.org"), WithPublicKeyPEM(tt.pub), WithValidity(30*24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			blocks := pemBlocks(t, certPEM)
			if len(blocks) != 1 || blocks[0].Type != "CERTIFICATE" {
				t.Fatalf("answer has blocks %v, want the certificate only", blockTypes(blocks))
			}
			cert, err := x509.ParseCertificate(blocks[0].Bytes)
			if err != nil {
				t.Fatal(err)
			}
			pub, err := certAgreementKey(cert)
			if err != nil {
				t.Fatal(err)
			}
			if got := typeName(cert.PublicKey); got != tt.certKey && !(tt.certKey == "*ecdh.PublicKey" && cert.PublicKey == nil && pub.Curve() == ecdh.X25519()) {
				t.Fatalf("certificate key type %s, want %s", got, tt.certKey)
			}
			if d := cert.NotAfter.Sub(cert.NotBefore); d < 29*24*time.Hour || d > 31*24*time.Hour {
				t.Fatalf("validity %v, want about 30 days", d)
			}
			checkKeyCert(t, p, cert, "carol@example.org")
			t.Run("certificate alone", func(t *testing.T) {
				_, err := ParseKeyFile(certPEM)
				if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "no private key") {
					t.Fatalf("err = %v, want ErrFormat saying the private key is missing", err)
				}
			})
			t.Run("with own private key", func(t *testing.T) {
				k, err := ParseKeyFile(append(bytes.Clone(certPEM), tt.privPEM...))
				if err != nil {
					t.Fatal(err)
				}
				if err := k.Verify(p.Params()); err != nil {
					t.Fatal(err)
				}
			})
			t.Run("with another private key", func(t *testing.T) {
				o, _ := ecdh.X25519().GenerateKey(rand.Reader)
				if _, err := ParseKeyFile(append(bytes.Clone(certPEM), privatePEM(t, o)...)); !errors.Is(err, ErrWrongKey) {
					t.Fatalf("err = %v, want ErrWrongKey", err)
				}
			})
		})
	}
}

func typeName(v any) string {
	switch v.(type) {
	case *ecdh.PublicKey:
		return "*ecdh.PublicKey"
	case *ecdsa.PublicKey:
		return "*ecdsa.PublicKey"
	}
	return "other"
}

func TestKeyCertificateRejectsPublicKeys(t *testing.T) {
	p := newTestPKG(t)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	tests := []struct {
		name string
		pem  []byte
	}{
		{"not PEM", []byte("hello")},
		{"wrong block", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}})},
		{"garbage DER", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1, 2, 3}})},
		{"RSA", publicPEM(t, &rk.PublicKey)},
		{"Ed25519", publicPEM(t, edPub)},
		{"P-384", publicPEM(t, &p384.PublicKey)},
		{"P-521", publicPEM(t, &p521.PublicKey)},
	}
	bob := mustExtract(t, p, "bob@example.org")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := p.KeyCertificate(bob, WithPublicKeyPEM(tt.pem)); !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v, want ErrFormat", err)
			}
		})
	}
}

// TestKeyCertificateTampered checks that a certificate from another CA, or
// with a modified sealed key, is refused.
func TestKeyCertificateTampered(t *testing.T) {
	p := newTestPKG(t)
	other := newTestPKG(t)
	t.Run("other PKG's certificate fails Verify", func(t *testing.T) {
		bundle, err := other.KeyCertificate(mustExtract(t, other, "bob@example.org"))
		if err != nil {
			t.Fatal(err)
		}
		k, err := ParseKeyFile(bundle)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Verify(p.Params()); !errors.Is(err, ErrInvalidKey) {
			t.Fatalf("err = %v, want ErrInvalidKey", err)
		}
	})
	t.Run("modified sealed key", func(t *testing.T) {
		bundle, err := p.KeyCertificate(mustExtract(t, p, "bob@example.org"))
		if err != nil {
			t.Fatal(err)
		}
		blocks := pemBlocks(t, bundle)
		cert, _ := x509.ParseCertificate(blocks[0].Bytes)
		var v sealedIdentityKey
		if _, err := asn1.Unmarshal(findExtension(cert).Value, &v); err != nil {
			t.Fatal(err)
		}
		// Replace the sealed bytes in the DER (same length) and reparse.
		mod := bytes.Clone(v.Sealed)
		mod[0] ^= 1
		der := bytes.Replace(bytes.Clone(blocks[0].Bytes), v.Sealed, mod, 1)
		bad := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(blocks[1])...)
		if _, err := ParseKeyFile(bad); !errors.Is(err, ErrWrongKey) {
			t.Fatalf("err = %v, want ErrWrongKey", err)
		}
	})
}
