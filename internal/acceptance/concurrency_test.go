package acceptance

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentUse: stores, reads, policy updates, disclosures-free reads
// and deletes from many clients at once never give a 5xx, and every
// acknowledged store is readable afterwards.
func TestConcurrentUse(t *testing.T) {
	s := startServer(t)
	alice := s.principal("subject", "alice@example.org")
	bob := s.principal("controller", "bob@example.org")
	policy := readTestdata(t, "subject-policy.xml")
	marketing := strings.ReplaceAll(policy, purposeService, purposeMarketing)
	const workers, each = 6, 15
	var mu sync.Mutex
	var kept []string
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				data := fmt.Sprintf("w%d-i%d", w, i)
				body, ct := multipartBody(t, part{name: "data", contentType: "text/plain", body: []byte(data)}, part{name: "policy", body: []byte(policy)})
				r := s.do("POST", "/v1/pii", alice, body, "Content-Type", ct)
				if r.status != http.StatusCreated {
					t.Errorf("store: %s", r)
					return
				}
				id := decodeStored(t, r).ID
				path := "/v1/pii/" + id
				steps := []resp{
					s.do("GET", path, bob, nil, "X-Purpose", purposeService),
					s.do("GET", path, alice, nil),
					s.postJSON("/v1/decision", bob, map[string]string{"pii": id, "purpose": purposeService}),
					s.do("GET", "/v1/pii", bob, nil),
					s.do("GET", "/v1/notifications", alice, nil),
				}
				switch i % 3 {
				case 0:
					steps = append(steps, s.do("DELETE", path, alice, nil))
				case 1:
					steps = append(steps, s.do("PUT", path+"/policy", alice, strings.NewReader(marketing), "Content-Type", "application/xml"))
				default:
					mu.Lock()
					kept = append(kept, id+" "+data)
					mu.Unlock()
				}
				for _, r := range steps {
					if r.status >= 500 {
						t.Errorf("concurrent use: %s", r)
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, k := range kept {
		id, data, _ := strings.Cut(k, " ")
		if r := s.do("GET", "/v1/pii/"+id, bob, nil, "X-Purpose", purposeService); r.status != http.StatusOK || string(r.body) != data {
			t.Errorf("acknowledged store %s: %s", id, r)
		}
	}
}
