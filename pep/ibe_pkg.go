package pep

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/stickypolicy/sticky/ibe"
)

// NewIBE adapts the server's PKG (ibe.LoadOrCreatePKG on the data
// directory) to IBE; rand is the randomness of encryption (crypto/rand in
// production).
func NewIBE(pkg *ibe.PKG, rand io.Reader) IBE { return &pkgIBE{pkg: pkg, rand: rand} }

type pkgIBE struct {
	pkg  *ibe.PKG
	rand io.Reader
}

func (p *pkgIBE) Params() ([]byte, error) { return p.pkg.Params().MarshalText() }

func (p *pkgIBE) Key(identity, format string, publicKeyPEM []byte) ([]byte, error) {
	k, err := p.pkg.Extract(identity)
	if err != nil {
		return nil, ibeInput(err)
	}
	if format == "x509" {
		b, err := p.pkg.KeyCertificate(k, ibe.WithPublicKeyPEM(publicKeyPEM))
		if err != nil {
			return nil, ibeInput(err)
		}
		return b, nil
	}
	return []byte(ibe.EncodeKey(k) + "\n"), nil
}

func (p *pkgIBE) Encrypt(plaintext []byte, identities []string) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(plaintext) + 1024)
	if err := ibe.Encrypt(&buf, bytes.NewReader(plaintext), p.pkg.Params(), identities, p.rand); err != nil {
		return nil, ibeInput(err)
	}
	return buf.Bytes(), nil
}

func (p *pkgIBE) IsCiphertext(data []byte) bool { return ibe.IsCiphertext(data) }

// ibeInput classifies the ibe errors a caller causes as bad input.
func ibeInput(err error) error {
	if errors.Is(err, ibe.ErrInvalidIdentity) || errors.Is(err, ibe.ErrFormat) {
		return fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	return err
}
