package ibe

import (
	"encoding/asn1"
	"errors"
	"fmt"
	"time"
)

// OIDSealedIdentityKey identifies the non-critical X.509 extension that
// carries an identity private key sealed to the certificate's key-agreement
// key (see docs/ibe.md). It sits under the IANA private enterprise arc
// 1.3.6.1.4.1 with an UNREGISTERED enterprise number (99999): a deployment
// that needs a globally unique OID must register a PEN and change it.
var OIDSealedIdentityKey = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1, 1}

// CertOption configures KeyCertificate.
type CertOption func(*certConfig)

type certConfig struct {
	publicKeyPEM []byte
	validity     time.Duration
}

// WithPublicKeyPEM certifies the caller's own key-agreement public key (PEM
// "PUBLIC KEY", X25519 or P-256) instead of generating a key pair.
func WithPublicKeyPEM(pemBytes []byte) CertOption {
	return func(c *certConfig) { c.publicKeyPEM = pemBytes }
}

// WithValidity sets how long the certificate is valid from now (default one
// year).
func WithValidity(d time.Duration) CertOption { return func(c *certConfig) { c.validity = d } }

// KeyCertificate delivers identity key k in an X.509 certificate signed by
// the PKG's CA. The certificate's public key is the delegate's key-agreement
// key, and k is sealed to it (ephemeral ECDH, HKDF-SHA256, AES-256-GCM) in
// the non-critical extension OIDSealedIdentityKey. With WithPublicKeyPEM the
// result is the certificate alone (PEM); without it the PKG generates an
// X25519 key pair and returns the certificate followed by the PKCS#8 private
// key in one PEM bundle. Errors wrap ErrFormat for a bad public key.
func (p *PKG) KeyCertificate(k *PrivateKey, opts ...CertOption) ([]byte, error) {
	return nil, errors.New("ibe: KeyCertificate not implemented yet")
}

func parseKeyPEM(data []byte) (*PrivateKey, error) {
	return nil, fmt.Errorf("%w: PEM key files not implemented yet", ErrFormat)
}
