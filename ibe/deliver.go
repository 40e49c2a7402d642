package ibe

import (
	"bytes"
	"fmt"
)

// Key delivery formats accepted by DeliverKey (the "format" of POST
// /v1/ibe/key).
const (
	// KeyFormatString delivers the key as its string form (EncodeKey) and a
	// newline.
	KeyFormatString = "string"
	// KeyFormatX509 delivers the key sealed in an X.509 certificate (PEM; see
	// KeyCertificate).
	KeyFormatX509 = "x509"
)

// DeliverKey extracts the key for identity and encodes it in format:
// KeyFormatString, or KeyFormatX509 (with the caller's PEM public key, or
// none to have a key pair generated; see KeyCertificate). It is what a server
// answers once it has established that the caller owns identity. Errors wrap
// ErrInvalidIdentity, or ErrFormat for an unknown format, a public key with
// the string format, or a bad public key.
func (p *PKG) DeliverKey(identity, format string, publicKeyPEM []byte) ([]byte, error) {
	hasPub := len(bytes.TrimSpace(publicKeyPEM)) > 0
	switch format {
	case KeyFormatString:
		if hasPub {
			return nil, fmt.Errorf("%w: a public key is only used with the %q format", ErrFormat, KeyFormatX509)
		}
	case KeyFormatX509:
	default:
		return nil, fmt.Errorf("%w: unknown key format %q (want %q or %q)", ErrFormat, format, KeyFormatString, KeyFormatX509)
	}
	k, err := p.Extract(identity)
	if err != nil {
		return nil, err
	}
	if format == KeyFormatString {
		return []byte(EncodeKey(k) + "\n"), nil
	}
	return p.KeyCertificate(k, WithPublicKeyPEM(publicKeyPEM))
}
