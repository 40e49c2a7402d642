package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/internal/store"
	"github.com/stickypolicy/sticky/pep"
	"github.com/stickypolicy/sticky/pep/httpapi"
)

const (
	purposeService   = "https://w3id.org/dpv#ServiceProvision"
	purposeMarketing = "https://w3id.org/dpv#Marketing"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a real server (httptest) over a real store on t.TempDir().
type env struct {
	t      testing.TB
	srv    *httptest.Server
	st     *store.Store
	svc    *pep.Service
	clock  *fakeClock
	tokens map[string]string
}

var principals = []struct {
	name string
	role pep.Role
}{
	{"alice@example.org", pep.RoleSubject},
	{"dave@example.org", pep.RoleSubject},
	{"bob@example.org", pep.RoleController},
	{"carol@example.org", pep.RoleController},
	{"erin@example.org", pep.RoleController},
	{"root@example.org", pep.RoleAdmin},
}

func newEnv(t testing.TB, apiOpts ...httpapi.Option) *env {
	t.Helper()
	return newEnvWith(t, nil, apiOpts...)
}

// newEnvWith is newEnv with extra service options (svcOpts may use the
// env's clock through the returned env only after creation, so pass
// options that need no clock).
func newEnvWith(t testing.TB, svcOpts []pep.Option, apiOpts ...httpapi.Option) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, st: st, clock: &fakeClock{t: time.Now().UTC().Truncate(time.Second)}, tokens: map[string]string{}}
	for _, p := range principals {
		tok, hash, err := pep.NewToken(strings.NewReader(strings.Repeat(p.name, 8)))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddPrincipal(context.Background(), pep.Principal{Name: p.name, Role: p.role}, hash); err != nil {
			t.Fatal(err)
		}
		e.tokens[strings.TrimSuffix(p.name, "@example.org")] = tok
	}
	svc := pep.New(st, append([]pep.Option{pep.WithClock(e.clock)}, svcOpts...)...)
	e.svc = svc
	e.srv = httptest.NewServer(httpapi.New(svc, apiOpts...))
	t.Cleanup(e.srv.Close)
	return e
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("answer %d is not JSON: %v: %s", r.status, err, r.body)
	}
}

// errorBody decodes an error answer.
func (r response) errorBody(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.json(t, &m)
	if _, ok := m["error"].(string); !ok {
		t.Fatalf("error answer without an error sentence: %s", r.body)
	}
	return m
}

// do sends a request as who ("" = no Authorization header).
func (e *env) do(method, path, who string, body io.Reader, header map[string]string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if who != "" {
		tok, ok := e.tokens[who]
		if !ok {
			tok = who // a literal token
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// part is one multipart part.
type part struct {
	name, contentType string
	value             []byte
}

func multipartBody(t testing.TB, parts ...part) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="`+p.name+`"`)
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		pw, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		pw.Write(p.value)
	}
	w.Close()
	return &buf, w.FormDataContentType()
}

// post stores a record as who and returns the answer.
func (e *env) post(who string, parts ...part) response {
	e.t.Helper()
	body, ct := multipartBody(e.t, parts...)
	return e.do(http.MethodPost, "/v1/pii", who, body, map[string]string{"Content-Type": ct})
}

// put stores data under a testdata policy as who and returns the new id.
func (e *env) put(who, data, policyFile string, extra ...part) string {
	e.t.Helper()
	parts := append([]part{{name: "data", contentType: "text/plain", value: []byte(data)},
		{name: "policy", value: readTestdata(e.t, policyFile)}}, extra...)
	r := e.post(who, parts...)
	if r.status != http.StatusCreated {
		e.t.Fatalf("storing as %s: %d %s", who, r.status, r.body)
	}
	var c struct {
		ID string `json:"id"`
	}
	r.json(e.t, &c)
	return c.ID
}

func (e *env) get(id, who, purpose string) response {
	e.t.Helper()
	h := map[string]string{}
	if purpose != "" {
		h["X-Purpose"] = purpose
	}
	return e.do(http.MethodGet, "/v1/pii/"+id, who, nil, h)
}

func (e *env) jsonReq(method, path, who string, v any) response {
	e.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(method, path, who, bytes.NewReader(b), map[string]string{"Content-Type": "application/json"})
}

type eventOut struct {
	Seq       int64  `json:"seq"`
	Time      string `json:"time"`
	Type      string `json:"type"`
	Principal string `json:"principal"`
	Purpose   string `json:"purpose"`
	Recipient string `json:"recipient"`
	Decision  string `json:"decision"`
	Reason    string `json:"reason"`
	Prev      string `json:"prev"`
	Hash      string `json:"hash"`
}

func (e *env) events(id, who string) []eventOut {
	e.t.Helper()
	r := e.do(http.MethodGet, "/v1/pii/"+id+"/events", who, nil, nil)
	if r.status != http.StatusOK {
		e.t.Fatalf("events: %d %s", r.status, r.body)
	}
	var evs []eventOut
	r.json(e.t, &evs)
	return evs
}

func wantStatus(t testing.TB, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
}

// wantError checks an error answer's status and that its sentence contains
// each of the fragments.
func wantError(t testing.TB, r response, status int, fragments ...string) map[string]any {
	t.Helper()
	wantStatus(t, r, status)
	m := r.errorBody(t)
	msg := m["error"].(string)
	for _, f := range fragments {
		if !strings.Contains(msg, f) {
			t.Errorf("error %q does not contain %q", msg, f)
		}
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type %q", ct)
	}
	return m
}

// wantDenied checks a 403 with decision Deny and a reason containing fragment.
func wantDenied(t testing.TB, r response, fragment string) {
	t.Helper()
	m := wantError(t, r, http.StatusForbidden)
	if m["decision"] != "Deny" {
		t.Errorf("decision = %v, want Deny", m["decision"])
	}
	reason, _ := m["reason"].(string)
	if !strings.Contains(strings.ToLower(reason), strings.ToLower(fragment)) {
		t.Errorf("reason %q does not contain %q", reason, fragment)
	}
}
