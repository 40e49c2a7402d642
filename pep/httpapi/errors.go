package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/stickypolicy/sticky/pep"
	"github.com/stickypolicy/sticky/policies"
)

// Errors of the HTTP layer itself.
var (
	errUnsupportedMediaType = errors.New("unsupported media type")
	errMethodNotAllowed     = errors.New("method not allowed")
)

// statusOf maps an error to its HTTP status: the ONE place where errors meet
// statuses.
func statusOf(err error) int {
	var maxBytes *http.MaxBytesError
	switch {
	case errors.As(err, &maxBytes), errors.Is(err, pep.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errUnsupportedMediaType):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, errMethodNotAllowed):
		return http.StatusMethodNotAllowed
	case errors.Is(err, pep.ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, pep.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, pep.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, pep.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, pep.ErrInvalidInput), errors.Is(err, policies.ErrInvalid), errors.Is(err, policies.ErrHostileXML):
		return http.StatusBadRequest
	case errors.Is(err, pep.ErrUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// errorBody is the JSON of every error answer.
type errorBody struct {
	Error    string        `json:"error"`
	Decision string        `json:"decision,omitempty"`
	Reason   string        `json:"reason,omitempty"`
	Problems []problemJSON `json:"problems,omitempty"`
	// ProblemsTotal is the number of problems when more than the listed
	// ones were found.
	ProblemsTotal int            `json:"problems_total,omitempty"`
	Mismatches    []pep.Mismatch `json:"mismatches,omitempty"`
}

// Bounds on what an error answer echoes of the request.
const (
	maxProblems = 20       // problems listed (problems_total gives the count)
	maxValue    = 200      // bytes of a faulty value shown
	maxSentence = 16 << 10 // bytes of the "error" sentence
)

// clip shortens s to at most n bytes (on a rune boundary), marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

type problemJSON struct {
	Element   string `json:"element,omitempty"`
	Attribute string `json:"attribute,omitempty"`
	Value     string `json:"value,omitempty"`
	Line      int    `json:"line,omitempty"`
	Message   string `json:"message"`
}

// sentinelPrefixes are the texts of the sentinel errors, stripped from the
// front of messages so that the answer reads as a sentence.
var sentinelPrefixes = []error{pep.ErrInvalidInput, pep.ErrUnauthenticated, pep.ErrForbidden, pep.ErrNotFound,
	pep.ErrConflict, pep.ErrTooLarge, pep.ErrUnavailable, errUnsupportedMediaType, errMethodNotAllowed}

func message(err error) string {
	msg := err.Error()
	for _, s := range sentinelPrefixes {
		if rest, ok := strings.CutPrefix(msg, s.Error()+": "); ok {
			return rest
		}
	}
	return msg
}

// writeError answers with err's status and a JSON body a person understands.
// Internal errors are logged, never shown.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	body := errorBody{Error: message(err)}
	var maxBytes *http.MaxBytesError
	var denied *pep.DeniedError
	var invalid *policies.ValidationError
	var mismatch *pep.MismatchError
	switch {
	case status == http.StatusInternalServerError:
		a.log.ErrorContext(r.Context(), "internal error", "method", r.Method, "route", routeOf(r), "err", err.Error())
		body.Error = "internal error: the request could not be completed"
	case errors.As(err, &maxBytes):
		body.Error = "the request body is too large: the limit is " + formatBytes(maxBytes.Limit)
	case errors.As(err, &denied):
		body.Error = "denied: " + denied.Reason
		body.Decision = denied.Decision.String()
		body.Reason = denied.Reason
	case errors.As(err, &mismatch):
		body.Error = mismatch.Error()
		body.Mismatches = mismatch.Mismatches
	}
	if status == http.StatusForbidden && body.Decision == "" {
		body.Decision = "Deny"
		body.Reason = body.Error
	}
	if errors.As(err, &invalid) {
		shown := invalid.Problems
		if len(shown) > maxProblems {
			shown = shown[:maxProblems]
			body.ProblemsTotal = len(invalid.Problems)
		}
		parts := make([]string, len(shown))
		for i, p := range shown {
			p.Value = clip(p.Value, maxValue)
			parts[i] = p.String()
			body.Problems = append(body.Problems, problemJSON{Element: p.Element, Attribute: p.Attribute, Value: p.Value, Line: p.Line, Message: p.Message})
		}
		// The sentence names the first problems only: a document with
		// thousands of faults (or a huge faulty value) must not come
		// back as an answer larger than itself.
		if full := invalid.Error(); len(invalid.Problems) > maxProblems || len(full) > maxSentence {
			if i := strings.Index(body.Error, full); i >= 0 {
				summary := strings.Join(parts, "; ")
				if len(invalid.Problems) > 1 {
					summary = fmt.Sprintf("%d problems", len(invalid.Problems))
					if len(shown) < len(invalid.Problems) {
						summary += fmt.Sprintf(", the first %d", len(shown))
					}
					summary += ": " + strings.Join(parts, "; ")
				}
				body.Error = body.Error[:i] + summary + body.Error[i+len(full):]
			}
		}
	}
	body.Error = clip(body.Error, maxSentence)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sticky"`)
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
