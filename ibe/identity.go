package ibe

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// Identity limits.
const (
	// MaxIdentityLen is the longest identity name, in bytes, after
	// canonicalisation.
	MaxIdentityLen = 254
	// MaxEpochLen is the longest epoch label, in bytes.
	MaxEpochLen = 32
	// epochSep separates an identity name from its epoch in the string form.
	epochSep = ";epoch="
)

// identityPrefix starts every Sticky H1 input; it versions the identity
// encoding and keeps it apart from any other use of the same hash.
const identityPrefix = "sticky-ibe-v1\x00"

// Identity is a canonical Sticky IBE identity: a name (normally an e-mail
// address) and an optional validity epoch. A key extracted for an identity
// with an epoch opens only ciphertexts encrypted to that same name and epoch,
// so a delegate's access lapses when the PKG stops issuing keys for new epochs.
type Identity struct {
	// Name is the canonical name: trimmed and lower-cased.
	Name string
	// Epoch is the canonical epoch label, e.g. "2026-11", or "" for a key that
	// does not lapse.
	Epoch string
}

// ParseIdentity canonicalises s, which is a name ("bob@example.org") or a name
// with an epoch ("bob@example.org;epoch=2026-11"). Surrounding spaces are
// trimmed and ASCII letters lower-cased. A name with an "@" must be an e-mail
// address (local part of letters, digits, dots and !#$%&'*+/=?^_`{|}~-, a
// domain of dot-separated labels of letters, digits and hyphens); a name
// without one may use letters, digits and ._+-. Non-ASCII characters,
// spaces, control characters and ",:;<>()[]\"" are rejected. Errors wrap
// ErrInvalidIdentity.
func ParseIdentity(s string) (Identity, error) {
	name, epoch := s, ""
	if i := strings.Index(asciiLower(s), epochSep); i >= 0 {
		name, epoch = s[:i], s[i+len(epochSep):]
		if strings.TrimSpace(epoch) == "" {
			return Identity{}, fmt.Errorf("%w: %q has an empty epoch", ErrInvalidIdentity, s)
		}
	}
	return NewIdentity(name, epoch)
}

// NewIdentity canonicalises a name and an optional epoch (see ParseIdentity).
// An epoch is 1 to MaxEpochLen characters among letters, digits and ._-,
// lower-cased; its meaning (a month such as "2026-11", a week, a contract
// number) is up to the PKG operator. Errors wrap ErrInvalidIdentity.
func NewIdentity(name, epoch string) (Identity, error) {
	n, err := canonicalName(name)
	if err != nil {
		return Identity{}, err
	}
	e := asciiLower(strings.TrimSpace(epoch))
	if len(e) > MaxEpochLen {
		return Identity{}, fmt.Errorf("%w: epoch %q is longer than %d characters", ErrInvalidIdentity, truncateForError(e), MaxEpochLen)
	}
	for i := 0; i < len(e); i++ {
		c := e[i]
		if !(isLowerAlnum(c) || c == '.' || c == '_' || c == '-') {
			return Identity{}, fmt.Errorf("%w: epoch %q may only contain letters, digits and ._-", ErrInvalidIdentity, e)
		}
	}
	return Identity{Name: n, Epoch: e}, nil
}

// CanonicalIdentity returns the canonical string form of s (see
// ParseIdentity): the form keys are issued for and ciphertexts list.
func CanonicalIdentity(s string) (string, error) {
	id, err := ParseIdentity(s)
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

// WithEpoch returns the canonical string form of identity name under epoch,
// e.g. WithEpoch("Bob@Example.org", "2026-11") = "bob@example.org;epoch=2026-11".
func WithEpoch(name, epoch string) (string, error) {
	id, err := NewIdentity(name, epoch)
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

// MonthEpoch returns the monthly epoch label of t in UTC, e.g. "2026-11".
func MonthEpoch(t time.Time) string {
	return t.UTC().Format("2006-01")
}

// String returns the canonical string form: the name, followed by
// ";epoch=" and the epoch when there is one.
func (id Identity) String() string {
	if id.Epoch == "" {
		return id.Name
	}
	return id.Name + epochSep + id.Epoch
}

// h1Input is the byte string hashed to G1 for id in Sticky mode:
// "sticky-ibe-v1" 0x00 ‖ u16be(len(name)) ‖ name ‖ u16be(len(epoch)) ‖ epoch.
func (id Identity) h1Input() []byte {
	b := make([]byte, 0, len(identityPrefix)+4+len(id.Name)+len(id.Epoch))
	b = append(b, identityPrefix...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(id.Name)))
	b = append(b, id.Name...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(id.Epoch)))
	b = append(b, id.Epoch...)
	return b
}

func canonicalName(s string) (string, error) {
	n := strings.TrimSpace(s)
	if n == "" {
		return "", fmt.Errorf("%w: the identity is empty", ErrInvalidIdentity)
	}
	if len(n) > MaxIdentityLen {
		return "", fmt.Errorf("%w: identity %q is longer than %d bytes", ErrInvalidIdentity, truncateForError(n), MaxIdentityLen)
	}
	for i := 0; i < len(n); i++ {
		if c := n[i]; c >= 0x80 || c < 0x20 || c == 0x7f {
			return "", fmt.Errorf("%w: identity %q contains non-ASCII or control characters (only ASCII names and addresses are supported)", ErrInvalidIdentity, truncateForError(n))
		}
	}
	n = asciiLower(n)
	at := strings.IndexByte(n, '@')
	if at < 0 {
		for i := 0; i < len(n); i++ {
			c := n[i]
			if !(isLowerAlnum(c) || c == '.' || c == '_' || c == '+' || c == '-') {
				return "", fmt.Errorf("%w: identity %q: a name without @ may only contain letters, digits and ._+- (found %q)", ErrInvalidIdentity, n, string(c))
			}
		}
		return n, nil
	}
	local, domain := n[:at], n[at+1:]
	if strings.IndexByte(domain, '@') >= 0 {
		return "", fmt.Errorf("%w: identity %q has more than one @", ErrInvalidIdentity, n)
	}
	if local == "" || len(local) > 64 {
		return "", fmt.Errorf("%w: identity %q: the part before @ must be 1 to 64 characters", ErrInvalidIdentity, n)
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return "", fmt.Errorf("%w: identity %q: misplaced dot before @", ErrInvalidIdentity, n)
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !(isLowerAlnum(c) || c == '.' || strings.IndexByte("!#$%&'*+/=?^_`{|}~-", c) >= 0) {
			return "", fmt.Errorf("%w: identity %q: character %q is not allowed before @", ErrInvalidIdentity, n, string(c))
		}
	}
	if domain == "" {
		return "", fmt.Errorf("%w: identity %q has no domain after @", ErrInvalidIdentity, n)
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" || len(label) > 63 {
			return "", fmt.Errorf("%w: identity %q: domain labels must be 1 to 63 characters", ErrInvalidIdentity, n)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return "", fmt.Errorf("%w: identity %q: a domain label may not start or end with -", ErrInvalidIdentity, n)
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !(isLowerAlnum(c) || c == '-') {
				return "", fmt.Errorf("%w: identity %q: character %q is not allowed in a domain", ErrInvalidIdentity, n, string(c))
			}
		}
	}
	return n, nil
}

// asciiLower lower-cases ASCII letters only, so byte offsets are preserved.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

func isLowerAlnum(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') }

func truncateForError(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
