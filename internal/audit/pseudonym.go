package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// PseudonymPrefix starts every pseudonym, so that a pseudonym is never
// mistaken for an identity.
const PseudonymPrefix = "ps:"

// SubjectKeySize is the length in bytes of a subject's pseudonym key.
const SubjectKeySize = 32

// pseudonymDomain separates pseudonym MACs from any other use of the key.
const pseudonymDomain = "sticky-pseudonym-v1"

// Pseudonym returns identity's pseudonym under a subject's key:
// "ps:" followed by the hex HMAC-SHA256 over "sticky-pseudonym-v1", a zero
// byte and the identity. The empty identity (no principal, e.g. the system)
// has the empty pseudonym.
func Pseudonym(key []byte, identity string) string {
	if identity == "" {
		return ""
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(pseudonymDomain))
	m.Write([]byte{0})
	m.Write([]byte(identity))
	return PseudonymPrefix + hex.EncodeToString(m.Sum(nil))
}

// IsPseudonym reports whether s has the form of a pseudonym.
func IsPseudonym(s string) bool {
	rest, ok := strings.CutPrefix(s, PseudonymPrefix)
	if !ok || len(rest) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(rest)
	return err == nil
}

// NewSubjectKey draws a fresh SubjectKeySize-byte pseudonym key from rand.
func NewSubjectKey(rand io.Reader) ([]byte, error) {
	key := make([]byte, SubjectKeySize)
	if _, err := io.ReadFull(rand, key); err != nil {
		return nil, fmt.Errorf("audit: drawing a subject key: %w", err)
	}
	return key, nil
}
