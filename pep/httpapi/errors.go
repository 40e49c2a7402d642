package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

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
	Error      string         `json:"error"`
	Decision   string         `json:"decision,omitempty"`
	Reason     string         `json:"reason,omitempty"`
	Problems   []problemJSON  `json:"problems,omitempty"`
	Mismatches []pep.Mismatch `json:"mismatches,omitempty"`
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
		for _, p := range invalid.Problems {
			body.Problems = append(body.Problems, problemJSON{Element: p.Element, Attribute: p.Attribute, Value: p.Value, Line: p.Line, Message: p.Message})
		}
	}
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
