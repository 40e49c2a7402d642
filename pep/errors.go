package pep

import (
	"errors"
	"fmt"

	"github.com/stickypolicy/sticky/pdp"
)

// Sentinel errors callers branch on with errors.Is. pep/httpapi maps them to
// HTTP statuses in one place.
var (
	// ErrInvalidInput: the request is malformed or incomplete (400).
	ErrInvalidInput = errors.New("invalid input")
	// ErrUnauthenticated: no token, or a token that is unknown or revoked (401).
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrForbidden: the decision or the caller's role refuses the request (403).
	// It is wrapped by *DeniedError, which carries the decision and reason.
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound: no such record (unknown or deleted), principal or preferences (404).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the request conflicts with the state, e.g. a principal that
	// already exists or preferences that do not match a policy (409).
	ErrConflict = errors.New("conflict")
	// ErrTooLarge: a document or body is over its limit (413).
	ErrTooLarge = errors.New("too large")
	// ErrUnavailable: a facility the request needs is not configured (e.g. IBE) (503).
	ErrUnavailable = errors.New("unavailable")
)

// DeniedError is a refusal: the decision that was reached (Deny,
// NotApplicable or Indeterminate) and a sentence saying why.
type DeniedError struct {
	Decision pdp.Decision
	Reason   string
}

func (e *DeniedError) Error() string { return "denied: " + e.Reason }

// Unwrap makes errors.Is(err, ErrForbidden) succeed.
func (e *DeniedError) Unwrap() error { return ErrForbidden }

// deny returns a *DeniedError with decision Deny.
func deny(format string, args ...any) error {
	return &DeniedError{Decision: pdp.Deny, Reason: fmt.Sprintf(format, args...)}
}

// Mismatch is one way a controller's DataHandlingPolicy is more permissive
// than the subject's registered preferences.
type Mismatch struct {
	Element    string `json:"element"`
	Preference string `json:"preference"`
	Policy     string `json:"policy"`
	Message    string `json:"message"`
}

// MismatchError is returned when a controller stores data whose policy does
// not match the subject's preferences; nothing was stored.
type MismatchError struct {
	Subject    string
	Mismatches []Mismatch
}

func (e *MismatchError) Error() string {
	n := "1 mismatch"
	if len(e.Mismatches) != 1 {
		n = fmt.Sprintf("%d mismatches", len(e.Mismatches))
	}
	return fmt.Sprintf("the policy does not match the data handling preferences of %s (%s)", e.Subject, n)
}

// Unwrap makes errors.Is(err, ErrConflict) succeed.
func (e *MismatchError) Unwrap() error { return ErrConflict }
