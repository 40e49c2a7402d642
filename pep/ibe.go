package pep

import (
	"bytes"
	"context"
	"fmt"
)

// IBE is the identity-based encryption the server offers: the PKG's public
// parameters, key extraction for a caller's own identity, and encryption of
// stored data to identities. NewIBE adapts package ibe's PKG.
type IBE interface {
	// Params returns the public parameters in their text form.
	Params() ([]byte, error)
	// Key returns identity's private key in format "string" or "x509"
	// (publicKeyPEM, optional, is the key-agreement key to certify) and the
	// content type of the answer.
	Key(identity, format string, publicKeyPEM []byte) (key []byte, err error)
	// Encrypt encrypts plaintext to the identities.
	Encrypt(plaintext []byte, identities []string) ([]byte, error)
	// IsCiphertext reports whether data starts like an IBE ciphertext.
	IsCiphertext(data []byte) bool
}

func (s *Service) encrypt(data []byte, ids []string) ([]byte, error) {
	if s.ibe == nil {
		return nil, fmt.Errorf("%w: identity-based encryption is not configured on this server", ErrUnavailable)
	}
	for _, id := range ids {
		if err := ValidateName(id); err != nil {
			return nil, fmt.Errorf("encrypt_for: %w", err)
		}
	}
	return s.ibe.Encrypt(data, ids)
}

// IBEParams returns the PKG's public parameters.
func (s *Service) IBEParams(ctx context.Context) ([]byte, error) {
	if s.ibe == nil {
		return nil, fmt.Errorf("%w: identity-based encryption is not configured on this server", ErrUnavailable)
	}
	return s.ibe.Params()
}

// IBEKey returns the caller's own identity private key, as a string
// (format "string") or embedded in an X.509 certificate (format "x509").
func (s *Service) IBEKey(ctx context.Context, p Principal, format string, publicKeyPEM []byte) ([]byte, error) {
	if s.ibe == nil {
		return nil, fmt.Errorf("%w: identity-based encryption is not configured on this server", ErrUnavailable)
	}
	switch format {
	case "string", "x509":
	case "":
		return nil, fmt.Errorf("%w: the format is missing (\"string\" or \"x509\")", ErrInvalidInput)
	default:
		return nil, fmt.Errorf("%w: unknown key format %q (want \"string\" or \"x509\")", ErrInvalidInput, format)
	}
	if format == "string" && len(bytes.TrimSpace(publicKeyPEM)) > 0 {
		return nil, fmt.Errorf("%w: public_key is only used with format \"x509\"", ErrInvalidInput)
	}
	return s.ibe.Key(p.Name, format, publicKeyPEM)
}
