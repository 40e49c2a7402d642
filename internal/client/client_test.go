package client_test

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stickypolicy/sticky/internal/client"
)

// These tests check what the client sends and how it reads answers, against
// an httptest handler that inspects each request. The tests against the real
// server are in server_test.go.

func TestNewRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"ftp://x", "127.0.0.1:8080", "http://", "http://[::1"} {
		t.Run(u, func(t *testing.T) {
			if _, err := client.New(u, "t"); !errors.Is(err, client.ErrBadURL) {
				t.Fatalf("New(%q) = %v, want ErrBadURL", u, err)
			}
		})
	}
	c, err := client.New("", "t")
	if err != nil || c.URL() != client.DefaultURL {
		t.Fatalf("New(\"\") = %v, %v; want the default URL", c, err)
	}
}

func TestErrorsCarryTheServersMessage(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		sentinel error
		message  string
		decision string
	}{
		{"json 403", 403, `{"error":"denied: purpose not allowed","decision":"Deny","reason":"purpose not allowed"}`, client.ErrForbidden, "denied: purpose not allowed", "Deny"},
		{"json 404", 404, `{"error":"no such record"}`, client.ErrNotFound, "no such record", ""},
		{"json 400", 400, `{"error":"bad policy","problems":[{"element":"ppl:Purpose","message":"empty"}]}`, client.ErrBadRequest, "bad policy", ""},
		{"json 401", 401, `{"error":"unknown or revoked token"}`, client.ErrUnauthorized, "unknown or revoked token", ""},
		{"json 409", 409, `{"error":"mismatch","mismatches":[{"element":"ppl:Purpose","preference":"a","policy":"b","message":"m"}]}`, client.ErrConflict, "mismatch", ""},
		{"json 413", 413, `{"error":"too large"}`, client.ErrTooLarge, "too large", ""},
		{"json 415", 415, `{"error":"wrong type"}`, client.ErrUnsupportedMedia, "wrong type", ""},
		{"plain 502", 502, "bad gateway from a proxy", client.ErrServer, "bad gateway from a proxy", ""},
		{"empty 500", 500, "", client.ErrServer, "Internal Server Error", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			c, err := client.New(srv.URL, "tok")
			if err != nil {
				t.Fatal(err)
			}
			err = c.Delete(context.Background(), "abc")
			var ce *client.Error
			if !errors.As(err, &ce) {
				t.Fatalf("Delete = %v, want a *client.Error", err)
			}
			if ce.Status != tt.status || !errors.Is(err, tt.sentinel) {
				t.Errorf("status %d, Is(%v) = %v", ce.Status, tt.sentinel, errors.Is(err, tt.sentinel))
			}
			if !strings.Contains(ce.Message, tt.message) || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("message %q / %q, want it to contain %q", ce.Message, err.Error(), tt.message)
			}
			if ce.Decision != tt.decision {
				t.Errorf("decision %q, want %q", ce.Decision, tt.decision)
			}
			if tt.status == 400 && (len(ce.Problems) != 1 || ce.Problems[0].Element != "ppl:Purpose") {
				t.Errorf("problems %+v", ce.Problems)
			}
			if tt.status == 409 && (len(ce.Mismatches) != 1 || ce.Mismatches[0].Policy != "b") {
				t.Errorf("mismatches %+v", ce.Mismatches)
			}
		})
	}
}

func TestUnreachableServer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, _ := client.New(url, "t")
	if _, err := c.List(context.Background()); !errors.Is(err, client.ErrUnreachable) {
		t.Fatalf("List on a closed server = %v, want ErrUnreachable", err)
	}
}

func TestStoreSendsMultipart(t *testing.T) {
	type seen struct {
		auth, policy, subject, encryptFor, data, dataType, filename string
		order                                                       []string
	}
	var got seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/pii" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		got.auth = r.Header.Get("Authorization")
		mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/form-data" {
			t.Errorf("content type %q", r.Header.Get("Content-Type"))
			return
		}
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Error(err)
				return
			}
			b, _ := io.ReadAll(p)
			got.order = append(got.order, p.FormName())
			switch p.FormName() {
			case "policy":
				got.policy = string(b)
			case "subject":
				got.subject = string(b)
			case "encrypt_for":
				got.encryptFor = string(b)
			case "data":
				got.data, got.dataType, got.filename = string(b), p.Header.Get("Content-Type"), p.FileName()
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":"r1","subject":"alice@example.org","delete_at":"2030-01-02T03:04:05Z","encrypted":true}`)
	}))
	defer srv.Close()
	c, _ := client.New(srv.URL+"/", "tok123")
	st, err := c.Store(context.Background(), client.StoreRequest{
		Data: strings.NewReader("hello"), Filename: "dir/x\".txt", ContentType: "text/plain",
		Policy: []byte("<ppl:Policy/>"), Subject: "alice@example.org", EncryptFor: []string{"bob@example.org", "carol@example.org"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.ID != "r1" || st.Subject != "alice@example.org" || !st.Encrypted || st.DeleteAt == nil || st.DeleteAt.Year() != 2030 || len(st.Raw) == 0 {
		t.Errorf("answer %+v", st)
	}
	want := seen{auth: "Bearer tok123", policy: "<ppl:Policy/>", subject: "alice@example.org", encryptFor: "bob@example.org,carol@example.org",
		data: "hello", dataType: "text/plain", filename: "x_.txt"}
	if got.auth != want.auth || got.policy != want.policy || got.subject != want.subject || got.encryptFor != want.encryptFor ||
		got.data != want.data || got.dataType != want.dataType || got.filename != want.filename {
		t.Errorf("server saw %+v, want %+v", got, want)
	}
	if strings.Join(got.order, ",") != "policy,subject,encrypt_for,data" {
		t.Errorf("part order %v, want the data last", got.order)
	}
}

func TestStoreNeedsDataAndPolicy(t *testing.T) {
	c, _ := client.New("http://127.0.0.1:1", "t")
	if _, err := c.Store(context.Background(), client.StoreRequest{Policy: []byte("x")}); !errors.Is(err, client.ErrMissing) {
		t.Errorf("no data: %v", err)
	}
	if _, err := c.Store(context.Background(), client.StoreRequest{Data: strings.NewReader("x")}); !errors.Is(err, client.ErrMissing) {
		t.Errorf("no policy: %v", err)
	}
}

func TestRequestsEscapeIDsAndSendPurpose(t *testing.T) {
	var path, purpose, query string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, purpose, query = r.URL.EscapedPath(), r.Header.Get("X-Purpose"), r.URL.RawQuery
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "data")
	}))
	defer srv.Close()
	c, _ := client.New(srv.URL, "t")
	obj, err := c.Get(context.Background(), "a/b?c", "https://w3id.org/dpv#ServiceProvision")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if path != "/v1/pii/a%2Fb%3Fc" || purpose != "https://w3id.org/dpv#ServiceProvision" || string(b) != "data" || obj.ContentType != "text/plain" {
		t.Errorf("path %q purpose %q body %q type %q", path, purpose, b, obj.ContentType)
	}
	if _, err := c.Forget(context.Background(), "alice@example.org", true); err == nil {
		// "data" is not JSON: Forget must say so rather than succeed.
		t.Errorf("Forget accepted a non-JSON answer")
	}
	if path != "/v1/subjects/alice@example.org/forget" || query != "dry_run=true" {
		t.Errorf("forget path %q query %q", path, query)
	}
}
