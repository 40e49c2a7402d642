package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
)

// BenchmarkPermittedRead measures GET /v1/pii/{id} through the real HTTP
// stack and store, each read logging its event durably (WAL) before the
// answer.
func BenchmarkPermittedRead(b *testing.B) {
	e := newEnv(b)
	id := e.put("alice", "benchmark payload", "subject-policy.xml")
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/v1/pii/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens["bob"])
	req.Header.Set("X-Purpose", purposeService)
	client := e.srv.Client()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// BenchmarkPermittedReadParallel is BenchmarkPermittedRead from GOMAXPROCS
// clients at once.
func BenchmarkPermittedReadParallel(b *testing.B) {
	e := newEnv(b)
	id := e.put("alice", "benchmark payload", "subject-policy.xml")
	client := e.srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/v1/pii/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+e.tokens["bob"])
		req.Header.Set("X-Purpose", purposeService)
		for pb.Next() {
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}

// BenchmarkStore measures POST /v1/pii (multipart, policy parse and compile,
// record + event + retention job in one transaction).
func BenchmarkStore(b *testing.B) {
	e := newEnv(b)
	body, ct := multipartBody(b, part{name: "data", value: []byte("benchmark payload")},
		part{name: "policy", value: readTestdata(b, "subject-policy.xml")})
	raw, _ := io.ReadAll(body)
	client := e.srv.Client()
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/pii", bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+e.tokens["alice"])
		req.Header.Set("Content-Type", ct)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// BenchmarkRetrieve measures pep.Service.Retrieve without HTTP: token
// lookup, record read, cached decision, and the event + jobs transaction.
func BenchmarkRetrieve(b *testing.B) {
	for _, policy := range []string{"subject-policy.xml", "subject-policy-nonotify.xml"} {
		b.Run("policy="+policy, func(b *testing.B) {
			e := newEnv(b)
			id := e.put("alice", "benchmark payload", policy)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				p, err := e.svc.Authenticate(ctx, e.tokens["bob"])
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := e.svc.Retrieve(ctx, p, id, purposeService); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
