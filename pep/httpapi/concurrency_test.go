package httpapi_test

import (
	"bytes"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
)

// TestConcurrentReadsAndPolicyUpdate runs parallel permitted reads while the
// owner withdraws the reader's access: every read before the update's answer
// may go either way, every read started after it must be denied, and every
// decision is in the log exactly once.
func TestConcurrentReadsAndPolicyUpdate(t *testing.T) {
	e := newEnv(t)
	id := e.put("alice", "payload", "subject-policy.xml")
	const readers, perReader = 8, 25
	var permitted, denied atomic.Int64
	var updated atomic.Bool
	var afterUpdatePermitted atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan string, readers*perReader)
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perReader {
				startedAfter := updated.Load()
				r := e.get(id, "bob", purposeService)
				switch r.status {
				case http.StatusOK:
					permitted.Add(1)
					if startedAfter {
						afterUpdatePermitted.Add(1)
					}
					if string(r.body) != "payload" {
						errs <- "wrong bytes: " + string(r.body)
					}
				case http.StatusForbidden:
					denied.Add(1)
				default:
					errs <- string(r.body)
				}
			}
		}()
	}
	nobody := readTestdata(t, "subject-policy-nobody.xml")
	r := e.do(http.MethodPut, "/v1/pii/"+id+"/policy", "alice", bytes.NewReader(nobody), map[string]string{"Content-Type": "application/xml"})
	updated.Store(true)
	wantStatus(t, r, http.StatusOK)
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
	if n := afterUpdatePermitted.Load(); n != 0 {
		t.Errorf("%d reads started after the policy update were permitted", n)
	}
	if denied.Load() == 0 {
		t.Error("no read was denied after the update")
	}
	var accessed, deniedEvents int64
	for _, ev := range e.events(id, "alice") {
		switch ev.Type {
		case "accessed":
			accessed++
		case "denied":
			deniedEvents++
		}
	}
	if accessed != permitted.Load() || deniedEvents != denied.Load() {
		t.Errorf("events: %d accessed / %d denied, answers: %d permitted / %d denied", accessed, deniedEvents, permitted.Load(), denied.Load())
	}
}
