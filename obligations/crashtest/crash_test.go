package crashtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/obligations"
)

const (
	purpose = "https://w3id.org/dpv#ServiceProvision"
	secret  = "crash-test-webhook-secret"
	// shortRetention is the retention of half the records: their
	// deadlines fall while the server runs, and while it is down.
	shortRetention = 2 * time.Second
)

// policy is alice's sticky policy: bob may use the data for service
// provision; it is deleted after the retention; alice is told of each use
// in her inbox and by webhook.
func policy(retention, webhook string) []byte {
	return []byte(`<ppl:Policy xmlns="urn:oasis:names:tc:xacml:2.0:policy:schema:os" xmlns:ppl="http://www.primelife.eu/ppl"
    xmlns:ob="http://www.primelife.eu/ppl/obligation" PolicyId="crash"
    RuleCombiningAlgId="urn:oasis:names:tc:xacml:1.0:rule-combining-algorithm:permit-overrides">
  <Target/>
  <Rule RuleId="bob" Effect="Permit">
    <Target><Subjects><Subject>
      <SubjectMatch MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal">
        <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">bob@example.org</AttributeValue>
        <SubjectAttributeDesignator DataType="http://www.w3.org/2001/XMLSchema#string"
            AttributeId="urn:oasis:names:tc:xacml:1.0:subject:subject-id"/>
      </SubjectMatch>
    </Subject></Subjects></Target>
  </Rule>
  <ppl:DataHandlingPreferences>
    <ppl:AuthorizationsSet>
      <ppl:AuthzUseForPurpose><ppl:Purpose>` + purpose + `</ppl:Purpose></ppl:AuthzUseForPurpose>
      <ppl:AuthzDownstreamUsage allowed="false"/>
    </ppl:AuthorizationsSet>
    <ob:ObligationsSet>
      <ob:Obligation>
        <ob:TriggersSet><ob:TriggerAtTime><ob:Start><ob:StartNow/></ob:Start>
          <ob:MaxDelay><ob:Duration>` + retention + `</ob:Duration></ob:MaxDelay></ob:TriggerAtTime></ob:TriggersSet>
        <ob:ActionDeletePersonalData/>
      </ob:Obligation>
      <ob:Obligation>
        <ob:TriggersSet><ob:TriggerPersonalDataAccessedForPurpose>
          <ob:MaxDelay><ob:Duration>PT1M</ob:Duration></ob:MaxDelay></ob:TriggerPersonalDataAccessedForPurpose></ob:TriggersSet>
        <ob:ActionNotifyDataSubject><ob:Media>inbox</ob:Media><ob:Address>alice@example.org</ob:Address></ob:ActionNotifyDataSubject>
      </ob:Obligation>
      <ob:Obligation>
        <ob:TriggersSet><ob:TriggerPersonalDataAccessedForPurpose>
          <ob:MaxDelay><ob:Duration>PT1M</ob:Duration></ob:MaxDelay></ob:TriggerPersonalDataAccessedForPurpose></ob:TriggersSet>
        <ob:ActionNotifyDataSubject><ob:Media>webhook</ob:Media><ob:Address>` + webhook + `</ob:Address></ob:ActionNotifyDataSubject>
      </ob:Obligation>
    </ob:ObligationsSet>
  </ppl:DataHandlingPreferences>
</ppl:Policy>`)
}

// receiver is alice's webhook endpoint: it checks every signature, fails
// one delivery in four (so retries happen), and counts deliveries per
// idempotency key.
type receiver struct {
	mu   sync.Mutex
	keys map[string]int    // idempotency key -> deliveries answered 2xx
	pii  map[string]string // idempotency key -> record
	bad  []string
	n    int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err := obligations.VerifyWebhook([]byte(secret), r.Header.Get(obligations.HeaderTimestamp), r.Header.Get(obligations.HeaderSignature),
		body, time.Now(), 5*time.Minute); err != nil {
		rc.bad = append(rc.bad, err.Error())
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	rc.n++
	if rc.n%4 == 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var p obligations.WebhookPayload
	if err := json.Unmarshal(body, &p); err != nil || p.ID != r.Header.Get(obligations.HeaderIdempotencyKey) {
		rc.bad = append(rc.bad, fmt.Sprintf("payload %s does not match its key: %v", body, err))
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	rc.keys[p.ID]++
	rc.pii[p.ID] = p.PII
	w.WriteHeader(http.StatusNoContent)
}

// perRecord returns how many distinct notifications each record's webhook
// received.
func (rc *receiver) perRecord() map[string]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string]int{}
	for k := range rc.keys {
		out[rc.pii[k]]++
	}
	return out
}

type server struct {
	t    *testing.T
	bin  string
	data string
	addr string
	cmd  *exec.Cmd
	log  *bytes.Buffer
}

func (s *server) start() {
	s.t.Helper()
	s.log = &bytes.Buffer{}
	s.cmd = exec.Command(s.bin, "serve", "--addr", s.addr, "--data", s.data,
		"--obligation-backoff", "50ms", "--obligation-backoff-max", "400ms", "--log-level", "warn")
	s.cmd.Env = append(os.Environ(), obligations.EnvWebhookSecret+"="+secret)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	end := time.Now().Add(20 * time.Second)
	for time.Now().Before(end) {
		resp, err := http.Get("http://" + s.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("stickyd did not become healthy:\n%s", s.log)
}

func (s *server) kill() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		s.t.Fatal(err)
	}
	_ = s.cmd.Wait()
}

type client struct {
	base  string
	token string
	http  *http.Client
}

func (c client) do(method, path string, body io.Reader, header map[string]string) (int, []byte, error) {
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func (c client) store(data, pol []byte) (id string, deleteAt time.Time, err error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("data", "data.txt")
	fw.Write(data)
	pw, _ := mw.CreateFormField("policy")
	pw.Write(pol)
	mw.Close()
	code, body, err := c.do(http.MethodPost, "/v1/pii", &buf, map[string]string{"Content-Type": mw.FormDataContentType()})
	if err != nil {
		return "", time.Time{}, err
	}
	if code != http.StatusCreated {
		return "", time.Time{}, fmt.Errorf("store: %d %s", code, body)
	}
	var out struct {
		ID       string  `json:"id"`
		DeleteAt *string `json:"delete_at"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return "", time.Time{}, err
	}
	if out.DeleteAt != nil {
		deleteAt, _ = time.Parse(time.RFC3339Nano, *out.DeleteAt)
	}
	return out.ID, deleteAt, nil
}

type event struct {
	Type      string    `json:"type"`
	Time      time.Time `json:"time"`
	Principal string    `json:"principal"`
}

type notification struct {
	PII   string `json:"pii"`
	Event string `json:"event"`
	Text  string `json:"text"`
}

func principal(t *testing.T, bin, data, role, name string) string {
	t.Helper()
	out, err := exec.Command(bin, "principal", "add", "--data", data, "--role", role, name).Output()
	if err != nil {
		t.Fatalf("principal add %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type stored struct {
	id       string
	data     []byte
	deleteAt time.Time
	short    bool
}

// workload stores and reads until stop is closed, recording what the
// server acknowledged.
type workload struct {
	mu       sync.Mutex
	stores   []stored
	long     []string
	reads    map[string]int // acknowledged reads per record
	seq      int
	attempts int // reads tried
}

// maxReads bounds the reads of the whole test.
const maxReads = 3000

func (w *workload) run(alice, bob client, hook string, stop <-chan struct{}, wg *sync.WaitGroup) {
	wg.Add(2)
	go func() { // alice stores, half with the short retention
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			w.mu.Lock()
			w.seq++
			n := w.seq
			w.mu.Unlock()
			short := n%2 == 0
			ret := "P1D"
			if short {
				ret = fmt.Sprintf("PT%dS", int(shortRetention.Seconds()))
			}
			data := []byte(fmt.Sprintf("record %d", n))
			id, deleteAt, err := alice.store(data, policy(ret, hook))
			if err != nil {
				continue // not acknowledged (the server died mid-request)
			}
			w.mu.Lock()
			w.stores = append(w.stores, stored{id: id, data: data, deleteAt: deleteAt, short: short})
			if !short {
				w.long = append(w.long, id)
			}
			w.mu.Unlock()
		}
	}()
	go func() { // bob reads the long-lived records for service provision
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			w.mu.Lock()
			if w.attempts >= maxReads {
				// Enough uses to check (the inbox lists at most
				// store.MaxNotifications).
				w.mu.Unlock()
				time.Sleep(5 * time.Millisecond)
				continue
			}
			w.attempts++
			if len(w.long) == 0 {
				w.mu.Unlock()
				time.Sleep(5 * time.Millisecond)
				continue
			}
			id := w.long[rand.IntN(len(w.long))]
			w.mu.Unlock()
			code, _, err := bob.do(http.MethodGet, "/v1/pii/"+id, nil, map[string]string{"X-Purpose": purpose})
			if err == nil && code == http.StatusOK {
				w.mu.Lock()
				w.reads[id]++
				w.mu.Unlock()
			}
		}
	}()
}

// TestCrashRecovery kills stickyd twice with SIGKILL while stores, reads,
// deletions and notifications are under way, and checks after the last
// restart that every acknowledged store is there (or was deleted at its
// deadline), every due deletion happened, and every notification owed was
// delivered exactly once to the inbox and at least once to the webhook.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real stickyd for about 20 seconds")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go tool is needed to build stickyd")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "stickyd")
	if out, err := exec.Command(goTool, "build", "-o", bin, "github.com/stickypolicy/sticky/cmd/stickyd").CombinedOutput(); err != nil {
		t.Fatalf("building stickyd: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	aliceToken := principal(t, bin, data, "subject", "alice@example.org")
	bobToken := principal(t, bin, data, "controller", "bob@example.org")

	rc := &receiver{keys: map[string]int{}, pii: map[string]string{}}
	hook := httptest.NewServer(rc)
	defer hook.Close()

	srv := &server{t: t, bin: bin, data: data, addr: freeAddr(t)}
	hc := &http.Client{Timeout: 5 * time.Second}
	alice := client{base: "http://" + srv.addr, token: aliceToken, http: hc}
	bob := client{base: "http://" + srv.addr, token: bobToken, http: hc}
	w := &workload{reads: map[string]int{}}

	for round := range 2 {
		srv.start()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		w.run(alice, bob, hook.URL+"/alice", stop, &wg)
		time.Sleep(1500 * time.Millisecond)
		srv.kill() // mid-request: the workload is still running
		close(stop)
		wg.Wait()
		t.Logf("round %d: %d stores acknowledged so far", round+1, len(w.stores))
		time.Sleep(shortRetention) // deadlines fall while the server is down
	}
	srv.start()
	restarted := time.Now()
	defer srv.kill()
	// After the restart, records whose deadlines fall while the server runs.
	for i := range 20 {
		data := []byte(fmt.Sprintf("late record %d", i))
		id, deleteAt, err := alice.store(data, policy(fmt.Sprintf("PT%dS", int(shortRetention.Seconds())), hook.URL+"/alice"))
		if err != nil {
			t.Fatal(err)
		}
		w.stores = append(w.stores, stored{id: id, data: data, deleteAt: deleteAt, short: true})
		time.Sleep(50 * time.Millisecond)
	}

	if len(w.stores) < 10 {
		t.Fatalf("only %d stores were acknowledged; the test did not exercise anything", len(w.stores))
	}

	// Every due deletion happens: those due while the server was down at
	// start, the others within a second of their deadline.
	var last time.Time
	var backlog int
	var maxBacklog, maxLate time.Duration
	for _, s := range w.stores {
		if s.short && s.deleteAt.After(last) {
			last = s.deleteAt.Add(time.Second) // delete_at is truncated to the second
		}
	}
	time.Sleep(max(time.Until(last), 0) + 1500*time.Millisecond)
	for _, s := range w.stores {
		code, body, err := alice.do(http.MethodGet, "/v1/pii/"+s.id, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !s.short {
			if code != http.StatusOK || !bytes.Equal(body, s.data) {
				t.Errorf("acknowledged store %s: %d %q; want 200 %q", s.id, code, body, s.data)
			}
			continue
		}
		if code != http.StatusNotFound {
			t.Errorf("record %s past its deadline %s: %d; want 404 (deleted)", s.id, s.deleteAt, code)
			continue
		}
		evs := events(t, alice, s.id)
		var deleted *event
		for i := range evs {
			if evs[i].Type == "deleted" {
				deleted = &evs[i]
			}
		}
		if len(evs) == 0 || evs[0].Type != "stored" || deleted == nil {
			t.Errorf("record %s: events %+v; want stored ... deleted", s.id, evs)
			continue
		}
		// delete_at is given to the second; the exact deadline is the
		// storage time (the stored event's) plus the retention.
		deadline := evs[0].Time.Add(shortRetention)
		if deadline.Truncate(time.Second) != s.deleteAt.Truncate(time.Second) {
			t.Errorf("record %s: delete_at %s, but stored at %s with %s retention", s.id, s.deleteAt, evs[0].Time, shortRetention)
		}
		if deleted.Time.Before(deadline) {
			t.Errorf("record %s deleted at %s, before its deadline %s", s.id, deleted.Time, deadline)
		}
		if deadline.Before(restarted) {
			// It fell due while the server was down: deleted at start-up,
			// the backlog first.
			backlog++
			if late := deleted.Time.Sub(restarted); late > maxBacklog {
				maxBacklog = late
			}
			continue
		}
		late := deleted.Time.Sub(deadline)
		if late > time.Second {
			t.Errorf("record %s deleted %s after its deadline; want within 1s", s.id, late)
		}
		maxLate = max(maxLate, late)
	}
	t.Logf("deadlines that fell while the server ran: deleted at most %s after them", maxLate)
	t.Logf("%d deletions were overdue at the restart; the last was done %s after the server was ready", backlog, maxBacklog)
	if maxBacklog > 10*time.Second {
		t.Errorf("the deletions overdue at start took %s; want them first thing", maxBacklog)
	}

	// Every notification owed is delivered: one per committed use, exactly
	// once in the inbox, at least once by webhook.
	accessed := map[string]int{}
	for _, s := range w.stores {
		if s.short {
			continue
		}
		for _, e := range events(t, alice, s.id) {
			if e.Type == "accessed" {
				accessed[s.id]++
			}
		}
	}
	total := 0
	for id, n := range accessed {
		total += n
		if n < w.reads[id] {
			t.Errorf("record %s: %d accessed events for %d acknowledged reads", id, n, w.reads[id])
		}
	}
	if total == 0 {
		t.Fatal("no reads were committed; the test did not exercise notifications")
	}
	end := time.Now().Add(15 * time.Second)
	var inbox map[string]int
	for {
		inbox = map[string]int{}
		var ns []notification
		code, body, err := alice.do(http.MethodGet, "/v1/notifications", nil, nil)
		if err != nil || code != http.StatusOK || json.Unmarshal(body, &ns) != nil {
			t.Fatalf("notifications: %d %s %v", code, body, err)
		}
		for _, n := range ns {
			if n.Event == "accessed" {
				inbox[n.PII]++
			}
		}
		hooks := rc.perRecord()
		if mapsEqual(inbox, accessed) && mapsEqual(hooks, accessed) || time.Now().After(end) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for id, n := range accessed {
		if inbox[id] != n {
			t.Errorf("record %s: %d inbox notifications for %d committed uses; want exactly one each", id, inbox[id], n)
		}
	}
	hooks := rc.perRecord()
	for id, n := range accessed {
		if hooks[id] != n {
			t.Errorf("record %s: webhook got %d distinct notifications for %d committed uses", id, hooks[id], n)
		}
	}
	rc.mu.Lock()
	if len(rc.bad) > 0 {
		t.Errorf("bad webhook deliveries: %v", rc.bad)
	}
	rc.mu.Unlock()
	t.Logf("%d stores, %d committed uses, webhook deliveries %d", len(w.stores), total, rc.n)
}

func events(t *testing.T, c client, id string) []event {
	t.Helper()
	code, body, err := c.do(http.MethodGet, "/v1/pii/"+id+"/events", nil, nil)
	if err != nil || code != http.StatusOK {
		t.Fatalf("events of %s: %d %s %v", id, code, body, err)
	}
	var evs []event
	if err := json.Unmarshal(body, &evs); err != nil {
		t.Fatal(err)
	}
	return evs
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
