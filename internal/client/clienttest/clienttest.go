package clienttest

import (
	"context"
	"crypto/rand"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stickypolicy/sticky/internal/store"
	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/pep"
	"github.com/stickypolicy/sticky/pep/httpapi"
)

// Principals of every Server: name and role.
var Principals = []struct {
	Name string
	Role pep.Role
}{
	{"alice@example.org", pep.RoleSubject},
	{"dave@example.org", pep.RoleSubject},
	{"bob@example.org", pep.RoleController},
	{"carol@example.org", pep.RoleController},
	{"erin@example.org", pep.RoleController},
	{"admin@example.org", pep.RoleAdmin},
}

// Server is a running test server.
type Server struct {
	URL    string
	Dir    string // the data directory
	Store  *store.Store
	tokens map[string]string
}

// Token returns the bearer token of a principal by its full name
// (alice@example.org) or its local part (alice).
func (s *Server) Token(name string) string {
	if tok, ok := s.tokens[name]; ok {
		return tok
	}
	return s.tokens[name+"@example.org"]
}

// Start starts a server on a fresh data directory, wired like stickyd serve:
// the obligations runner delivers inbox notifications and runs retention
// deletions. It stops with the test. Extra service options (e.g.
// pep.WithIBE) are passed to pep.New.
func Start(t testing.TB, opts ...pep.Option) *Server {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatalf("opening the store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	s := &Server{Dir: dir, Store: st, tokens: map[string]string{}}
	for _, p := range Principals {
		tok, hash, err := pep.NewToken(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddPrincipal(context.Background(), pep.Principal{Name: p.Name, Role: p.Role}, hash); err != nil {
			t.Fatalf("adding %s: %v", p.Name, err)
		}
		s.tokens[p.Name] = tok
	}
	var runner atomic.Pointer[obligations.Runner]
	kick := func() {
		if r := runner.Load(); r != nil {
			r.Kick()
		}
	}
	svc := pep.New(st, append([]pep.Option{pep.WithKick(kick)}, opts...)...)
	r := obligations.NewRunner(st, obligations.Performers{Deleter: svc, Addresses: st}, obligations.SystemClock{})
	runner.Store(r)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	srv := httptest.NewServer(httpapi.New(svc))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}
