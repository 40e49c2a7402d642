// Package client is a small Go client for Sticky's HTTP API (the /v1 endpoints
// of the server's contract): storing PII with a sticky policy, reading it for a
// declared purpose, managing its policy, disclosures, events, notifications,
// decisions, preferences, identity-based encryption keys and the data-subject
// rights of export and forget.
//
// Every call takes a context first. A non-2xx answer comes back as an *Error
// carrying the HTTP status and the server's own message; errors.Is matches it
// against the sentinel errors (ErrNotFound, ErrForbidden, ...).
package client
