package ibe

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/cloudflare/circl/ecc/bls12381"
)

// keyStringPrefix starts the string form of an identity private key.
const keyStringPrefix = "sticky-ibe-key-v1:"

// maxKeyFile bounds what ParseKeyFile reads.
const maxKeyFile = 64 << 10

// PrivateKey is an identity private key d_id = s·H1(id) in G1, extracted by
// the PKG for one canonical identity.
type PrivateKey struct {
	id Identity
	d  bls12381.G1
	// cert is the X.509 certificate the key came in, if any.
	cert *x509.Certificate
}

// Identity returns the canonical string form of the key's identity, e.g.
// "bob@example.org" or "bob@example.org;epoch=2026-11".
func (k *PrivateKey) Identity() string { return k.id.String() }

// Certificate returns the X.509 certificate the key was delivered in, or nil
// for a key read from its string form.
func (k *PrivateKey) Certificate() *x509.Certificate { return k.cert }

// Verify checks the key against the public parameters with the pairing
// equation e(d_id, g2) = e(H1(id), mpk), so a delegate can make sure a key it
// received really is the PKG's key for its identity. When the key came in a
// certificate and the parameters carry the PKG's CA certificate, the
// certificate's signature is checked too. Errors wrap ErrInvalidKey.
func (k *PrivateKey) Verify(p *Params) error {
	if k == nil || !p.valid() {
		return fmt.Errorf("%w: missing key or invalid parameters", ErrInvalidKey)
	}
	if k.d.IsIdentity() {
		return fmt.Errorf("%w: the key is the identity point", ErrInvalidKey)
	}
	q := stickySuite().hashID(k.id.h1Input())
	g2 := bls12381.G2Generator()
	// e(d, g2) · e(H1(id), mpk)^-1 == 1
	e := bls12381.ProdPairFrac([]*bls12381.G1{&k.d, q}, []*bls12381.G2{g2, &p.mpk}, []int{1, -1})
	if !e.IsIdentity() {
		return fmt.Errorf("%w: the key for %s was not issued by the PKG with fingerprint %s", ErrInvalidKey, k.id, p.Fingerprint()[:16])
	}
	if k.cert != nil && p.ca != nil {
		if err := k.cert.CheckSignatureFrom(p.ca); err != nil {
			return fmt.Errorf("%w: the certificate is not signed by the PKG's CA: %v", ErrInvalidKey, err)
		}
	}
	return nil
}

// EncodeKey returns the string form of k:
// "sticky-ibe-key-v1:" identity ":" base64(compressed d_id), e.g.
// "sticky-ibe-key-v1:bob@example.org;epoch=2026-11:qZkG...". The string is a
// secret: whoever holds it decrypts what is encrypted to the identity.
func EncodeKey(k *PrivateKey) string {
	return keyStringPrefix + k.id.String() + ":" + base64.StdEncoding.EncodeToString(k.d.BytesCompressed())
}

// ParseKeyFile reads an identity private key in any delivery format: the
// string form written by EncodeKey, or a PEM bundle with the X.509 key
// certificate and the key-agreement private key it is sealed to (PKCS#8
// "PRIVATE KEY", or SEC 1 "EC PRIVATE KEY" for P-256), as returned by
// (*PKG).KeyCertificate. Surrounding white space is ignored. Errors wrap
// ErrFormat, or ErrWrongKey when the private key does not open the sealed
// identity key.
func ParseKeyFile(data []byte) (*PrivateKey, error) {
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("%w: key file is larger than %d bytes", ErrFormat, maxKeyFile)
	}
	data = bytes.TrimSpace(data)
	if bytes.HasPrefix(data, []byte(keyStringPrefix)) {
		return parseKeyString(string(data))
	}
	if bytes.Contains(data, []byte("-----BEGIN ")) {
		return parseKeyPEM(data)
	}
	return nil, fmt.Errorf("%w: not a Sticky IBE key (expected %q... or a PEM certificate bundle)", ErrFormat, keyStringPrefix)
}

func parseKeyString(s string) (*PrivateKey, error) {
	rest := strings.TrimPrefix(s, keyStringPrefix)
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return nil, fmt.Errorf("%w: key string has no \":\" between identity and key", ErrFormat)
	}
	id, err := ParseIdentity(rest[:i])
	if err != nil {
		return nil, fmt.Errorf("%w: key string: %w", ErrFormat, err)
	}
	if id.String() != rest[:i] {
		return nil, fmt.Errorf("%w: key string identity %q is not in canonical form (%q)", ErrFormat, rest[:i], id.String())
	}
	raw, err := base64.StdEncoding.DecodeString(rest[i+1:])
	if err != nil {
		return nil, fmt.Errorf("%w: key string: the key is not base64", ErrFormat)
	}
	return newPrivateKey(id, raw)
}

func newPrivateKey(id Identity, raw []byte) (*PrivateKey, error) {
	if len(raw) != IdentityKeySize {
		return nil, fmt.Errorf("%w: identity key is %d bytes, want %d", ErrFormat, len(raw), IdentityKeySize)
	}
	k := &PrivateKey{id: id}
	if err := k.d.SetBytes(raw); err != nil {
		return nil, fmt.Errorf("%w: identity key is not a point of G1", ErrFormat)
	}
	if k.d.IsIdentity() {
		return nil, fmt.Errorf("%w: identity key is the identity point", ErrFormat)
	}
	return k, nil
}
