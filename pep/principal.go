package pep

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Role is what a principal is to Sticky.
type Role string

// The three roles.
const (
	RoleSubject    Role = "subject"    // a data subject, owner of its records
	RoleController Role = "controller" // an application or delegate using data for declared purposes
	RoleAdmin      Role = "admin"      // an operator
)

// ParseRole returns the role named s, or an error naming the accepted roles.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleSubject, RoleController, RoleAdmin:
		return r, nil
	}
	return "", fmt.Errorf("%w: unknown role %q (want subject, controller or admin)", ErrInvalidInput, s)
}

// Principal is an authenticated caller: its identity (also its IBE identity
// and XACML subject-id), its role and an optional e-mail address.
type Principal struct {
	Name    string
	Role    Role
	Email   string
	Created time.Time
}

// MaxNameLength bounds a principal's name.
const MaxNameLength = 256

// ValidateName checks that name can identify a principal: non-empty, at most
// MaxNameLength bytes of valid UTF-8, no spaces, control characters or commas
// (commas separate identities in encrypt_for).
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: the principal name is empty", ErrInvalidInput)
	case len(name) > MaxNameLength:
		return fmt.Errorf("%w: the principal name is longer than %d bytes", ErrInvalidInput, MaxNameLength)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: the principal name is not valid UTF-8", ErrInvalidInput)
	}
	for _, r := range name {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == ',' {
			return fmt.Errorf("%w: the principal name %q contains %q (no spaces, control characters or commas)", ErrInvalidInput, name, r)
		}
	}
	return nil
}

// TokenPrefix starts every bearer token, so that a leaked token is easy to
// recognise.
const TokenPrefix = "sticky_"

// TokenHash is the SHA-256 of a bearer token: the only form a token is
// stored in.
type TokenHash [sha256.Size]byte

// NewToken draws a bearer token from 32 bytes of rand (crypto/rand.Reader in
// production) and returns it with its hash.
func NewToken(rand io.Reader) (string, TokenHash, error) {
	var b [32]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return "", TokenHash{}, fmt.Errorf("drawing a token: %w", err)
	}
	tok := TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return tok, HashToken(tok), nil
}

// HashToken returns the SHA-256 of a bearer token.
func HashToken(token string) TokenHash {
	return sha256.Sum256([]byte(token))
}

// wellFormedToken reports whether token looks like a token NewToken made;
// other strings are refused without a database lookup.
func wellFormedToken(token string) bool {
	rest, ok := strings.CutPrefix(token, TokenPrefix)
	return ok && len(rest) == base64.RawURLEncoding.EncodedLen(32)
}

// ValidateEmail checks that addr looks like an e-mail address
// (local@domain, no spaces or angle brackets).
func ValidateEmail(addr string) error {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(addr, " \t\r\n<>,;") || strings.Contains(domain, "@") || len(addr) > MaxNameLength {
		return fmt.Errorf("%w: %q is not an e-mail address", ErrInvalidInput, addr)
	}
	return nil
}
