package httpapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/stickypolicy/sticky/pep"
)

// DefaultMaxBodyBytes is the default request body limit (32 MiB).
const DefaultMaxBodyBytes = 32 << 20

// API is Sticky's HTTP API (CONTRACT.md) over a pep.Service. It is an
// http.Handler.
type API struct {
	svc     *pep.Service
	router  *mux.Router
	log     *slog.Logger
	maxBody int64
	health  func(ctx context.Context) error
}

// Option configures New.
type Option func(*API)

// WithMaxBodyBytes sets the request body limit; larger bodies get 413.
func WithMaxBodyBytes(n int64) Option {
	return func(a *API) {
		if n > 0 {
			a.maxBody = n
		}
	}
}

// WithLogger sets the access and error logger. Only the method, the route
// template, the status and the duration of a request are logged: never ids,
// identities, purposes or data.
func WithLogger(l *slog.Logger) Option { return func(a *API) { a.log = l } }

// WithHealth sets the check behind GET /healthz (e.g. a database ping).
func WithHealth(f func(ctx context.Context) error) Option { return func(a *API) { a.health = f } }

// New returns the API over svc.
func New(svc *pep.Service, opts ...Option) *API {
	a := &API{svc: svc, maxBody: DefaultMaxBodyBytes, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		o(a)
	}
	r := mux.NewRouter()
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		a.writeError(w, req, fmt.Errorf("%w: no such endpoint: %s %s", pep.ErrNotFound, req.Method, req.URL.Path))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		a.writeError(w, req, fmt.Errorf("%w: %s is not allowed on %s", errMethodNotAllowed, req.Method, req.URL.Path))
	})
	r.HandleFunc("/healthz", a.healthz).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/v1/ibe/params", a.ibeParams).Methods(http.MethodGet)

	auth := func(h authed) http.HandlerFunc { return a.authenticate(h) }
	r.HandleFunc("/v1/ibe/key", auth(a.ibeKey)).Methods(http.MethodPost)
	r.HandleFunc("/v1/pii", auth(a.createPII)).Methods(http.MethodPost)
	r.HandleFunc("/v1/pii", auth(a.listPII)).Methods(http.MethodGet)
	r.HandleFunc("/v1/pii/{id}", auth(a.getPII)).Methods(http.MethodGet)
	r.HandleFunc("/v1/pii/{id}", auth(a.deletePII)).Methods(http.MethodDelete)
	r.HandleFunc("/v1/pii/{id}/policy", auth(a.getPolicy)).Methods(http.MethodGet)
	r.HandleFunc("/v1/pii/{id}/policy", auth(a.putPolicy)).Methods(http.MethodPut)
	r.HandleFunc("/v1/pii/{id}/disclosures", auth(a.disclose)).Methods(http.MethodPost)
	r.HandleFunc("/v1/pii/{id}/events", auth(a.events)).Methods(http.MethodGet)
	r.HandleFunc("/v1/notifications", auth(a.notifications)).Methods(http.MethodGet)
	r.HandleFunc("/v1/decision", auth(a.decision)).Methods(http.MethodPost)
	r.HandleFunc("/v1/subjects/me/preferences", auth(a.putPreferences)).Methods(http.MethodPut)
	r.HandleFunc("/v1/subjects/me/preferences", auth(a.getPreferences)).Methods(http.MethodGet)
	a.registerRights(r) // data-subject rights (rights.go)
	r.Use(recordRoute)
	a.router = r
	return a
}

// Router returns the router, so that other parts (e.g. the data-subject
// rights endpoints) can add routes with Handle and the same authentication.
func (a *API) Router() *mux.Router { return a.router }

// Authed wraps a handler that needs the caller's principal, for routes added
// through Router.
func (a *API) Authed(h func(w http.ResponseWriter, r *http.Request, p pep.Principal)) http.HandlerFunc {
	return a.authenticate(h)
}

// WriteError answers with err mapped to its status, for routes added through
// Router.
func (a *API) WriteError(w http.ResponseWriter, r *http.Request, err error) { a.writeError(w, r, err) }

// ServeHTTP implements http.Handler: body limit, panic recovery and the
// access log around the router.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rw := &statusWriter{ResponseWriter: w}
	if r.ContentLength > a.maxBody {
		// Declared too large: answer at once, without reading the body.
		a.writeError(rw, r, &http.MaxBytesError{Limit: a.maxBody})
		a.log.Info("request", "method", r.Method, "route", "unmatched", "status", rw.status, "duration", time.Since(start))
		return
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(rw, r.Body, a.maxBody)
	}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			a.log.Error("panic", "method", r.Method, "route", rw.route, "panic", fmt.Sprint(v))
			if !rw.wrote {
				a.writeError(rw, r, fmt.Errorf("panic"))
			}
		}
		route := rw.route
		if route == "" {
			route = "unmatched"
		}
		a.log.Info("request", "method", r.Method, "route", route, "status", rw.status, "duration", time.Since(start))
	}()
	a.router.ServeHTTP(rw, r)
}

// routeOf returns the matched route's template (e.g. /v1/pii/{id}), never the
// concrete path, which carries ids.
func routeOf(r *http.Request) string {
	if rt := mux.CurrentRoute(r); rt != nil {
		if t, err := rt.GetPathTemplate(); err == nil {
			return t
		}
	}
	return "unmatched"
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
	route  string // the matched route template, for the access log
}

// recordRoute notes the matched route's template for the access log.
func recordRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sw, ok := w.(*statusWriter); ok {
			sw.route = routeOf(r)
		}
		next.ServeHTTP(w, r)
	})
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type authed func(w http.ResponseWriter, r *http.Request, p pep.Principal)

// authenticate resolves the bearer token to a principal (401 otherwise).
func (a *API) authenticate(h authed) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hdr := r.Header.Get("Authorization")
		if hdr == "" {
			a.writeError(w, r, fmt.Errorf("%w: authentication required: send Authorization: Bearer TOKEN", pep.ErrUnauthenticated))
			return
		}
		scheme, token, ok := strings.Cut(hdr, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			a.writeError(w, r, fmt.Errorf("%w: the Authorization header must be \"Bearer TOKEN\"", pep.ErrUnauthenticated))
			return
		}
		p, err := a.svc.Authenticate(r.Context(), strings.TrimSpace(token))
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		h(w, r, p)
	}
}

func (a *API) healthz(w http.ResponseWriter, r *http.Request) {
	if a.health != nil {
		if err := a.health(r.Context()); err != nil {
			a.log.Error("health check failed", "err", err.Error())
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "the database does not answer"})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
