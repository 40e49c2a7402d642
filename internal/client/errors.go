package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinel errors that an *Error matches with errors.Is, by HTTP status.
var (
	ErrBadRequest       = errors.New("bad request")            // 400
	ErrUnauthorized     = errors.New("unauthorized")           // 401
	ErrForbidden        = errors.New("forbidden")              // 403
	ErrNotFound         = errors.New("not found")              // 404
	ErrConflict         = errors.New("conflict")               // 409
	ErrTooLarge         = errors.New("request too large")      // 413
	ErrUnsupportedMedia = errors.New("unsupported media type") // 415
	ErrServer           = errors.New("server error")           // 5xx
)

// Problem is one problem the server found in a policy document.
type Problem struct {
	Element   string `json:"element,omitempty"`
	Attribute string `json:"attribute,omitempty"`
	Value     string `json:"value,omitempty"`
	Line      int    `json:"line,omitempty"`
	Message   string `json:"message"`
}

// Mismatch is one way a controller's policy is more permissive than the data
// subject's preferences (a 409 on store).
type Mismatch struct {
	Element    string `json:"element"`
	Preference string `json:"preference"`
	Policy     string `json:"policy"`
	Message    string `json:"message"`
}

// Error is a non-2xx answer of the server.
type Error struct {
	Method string // the request's method
	Path   string // the request's path
	Status int    // the HTTP status code

	// Message is the server's "error" sentence, or a summary of the body when
	// the answer was not Sticky's JSON error.
	Message    string
	Decision   string // on 403: the decision (Deny, NotApplicable, ...)
	Reason     string // on 403: why
	Problems   []Problem
	Mismatches []Mismatch
	Body       []byte // the raw answer body (bounded)
}

// Error returns the server's message with the status.
func (e *Error) Error() string {
	return fmt.Sprintf("%s (HTTP %d)", e.Message, e.Status)
}

// Is matches the sentinel error of e's status.
func (e *Error) Is(target error) bool {
	return target == sentinel(e.Status)
}

func sentinel(status int) error {
	switch status {
	case http.StatusBadRequest:
		return ErrBadRequest
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusForbidden:
		return ErrForbidden
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusConflict:
		return ErrConflict
	case http.StatusRequestEntityTooLarge:
		return ErrTooLarge
	case http.StatusUnsupportedMediaType:
		return ErrUnsupportedMedia
	}
	if status >= 500 {
		return ErrServer
	}
	return nil
}

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// newError builds the *Error of an answer from its (bounded) body.
func newError(method, path string, status int, body []byte) *Error {
	e := &Error{Method: method, Path: path, Status: status, Body: body}
	var b struct {
		Error      string     `json:"error"`
		Decision   string     `json:"decision"`
		Reason     string     `json:"reason"`
		Problems   []Problem  `json:"problems"`
		Mismatches []Mismatch `json:"mismatches"`
	}
	if json.Unmarshal(body, &b) == nil && b.Error != "" {
		e.Message, e.Decision, e.Reason, e.Problems, e.Mismatches = b.Error, b.Decision, b.Reason, b.Problems, b.Mismatches
		return e
	}
	text := strings.TrimSpace(string(body))
	if len(text) > 200 {
		text = text[:200] + "..."
	}
	if text == "" {
		text = http.StatusText(status)
	}
	e.Message = fmt.Sprintf("%s %s: %s", method, path, text)
	return e
}
