package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

//go:embed policy.xml
var policyXML []byte

const purpose = "https://w3id.org/dpv#ServiceProvision"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type options struct {
	stickyd     string
	duration    time.Duration
	warmup      time.Duration
	concurrency int
	readRecords int
	size        int
	keep        bool
	serveArgs   string
	only        string
	policy      string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.stickyd, "stickyd", "", "stickyd binary (default: go build ./cmd/stickyd into a temp dir)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time of each phase")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured warm-up before each phase")
	fs.IntVar(&o.concurrency, "concurrency", 16, "concurrent clients")
	fs.IntVar(&o.readRecords, "records", 1000, "records stored before the read phase and read at random")
	fs.IntVar(&o.size, "size", 256, "bytes per stored record")
	fs.BoolVar(&o.keep, "keep", false, "keep the data directory")
	fs.StringVar(&o.serveArgs, "serve-args", "", "extra arguments for stickyd serve (space separated), e.g. \"--synchronous FULL\"")
	fs.StringVar(&o.only, "only", "", `run only one phase: "stores" or "reads"`)
	fs.StringVar(&o.policy, "policy", "", "the sticky policy of the stored records (default: bench/load/policy.xml, embedded: bob may read for "+purpose+", alice is notified in her inbox at each read)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if o.concurrency <= 0 || o.readRecords <= 0 || o.size <= 0 || o.duration <= 0 {
		fmt.Fprintln(stderr, "load: -concurrency, -records, -size and -duration must be positive")
		return 2
	}
	if err := load(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "load: %v\n", err)
		return 1
	}
	return 0
}

func load(ctx context.Context, o options, stdout, stderr io.Writer) error {
	work, err := os.MkdirTemp("", "sticky-load-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintf(stderr, "load: keeping %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	bin := o.stickyd
	if bin == "" {
		bin = filepath.Join(work, "stickyd")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/stickyd")
		build.Stdout, build.Stderr = stderr, stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building stickyd (run from the repository root or pass -stickyd): %w", err)
		}
	}
	data := filepath.Join(work, "data")
	tokens := map[string]string{}
	for _, p := range []struct{ name, role string }{{"alice@example.org", "subject"}, {"bob@example.org", "controller"}} {
		out, err := exec.CommandContext(ctx, bin, "principal", "add", "--data", data, "--role", p.role, p.name).Output()
		if err != nil {
			return fmt.Errorf("stickyd principal add %s: %w", p.name, exitErr(err))
		}
		tokens[p.name] = strings.TrimSpace(string(out))
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	serveArgs := append([]string{"serve", "--addr", addr, "--data", data, "--log-level", "warn"}, strings.Fields(o.serveArgs)...)
	srv := exec.Command(bin, serveArgs...)
	var srvLog bytes.Buffer
	srv.Stdout, srv.Stderr = &srvLog, &srvLog
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() {
		srv.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { srv.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			srv.Process.Kill()
		}
	}()
	base := "http://" + addr
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: 4 * o.concurrency, MaxIdleConnsPerHost: 4 * o.concurrency, IdleConnTimeout: time.Minute}, Timeout: 30 * time.Second}
	if err := waitHealthy(ctx, hc, base, 20*time.Second); err != nil {
		return fmt.Errorf("%w\nserver output:\n%s", err, srvLog.String())
	}
	pol := policyXML
	if o.policy != "" {
		if pol, err = os.ReadFile(o.policy); err != nil {
			return err
		}
	}
	l := &loader{hc: hc, base: base, tokens: tokens, size: o.size, policy: pol, pid: srv.Process.Pid}

	polName := "bench/load/policy.xml"
	if o.policy != "" {
		polName = o.policy
	}
	fmt.Fprintf(stdout, "stickyd serve %s on %s (pid %d), %d concurrent clients, %s per phase (after %s warm-up), %d-byte records, policy %s\n",
		strings.Join(strings.Fields(o.serveArgs), " "), addr, srv.Process.Pid, o.concurrency, o.duration, o.warmup, o.size, polName)

	// Records for the read phase.
	ids := make([]string, 0, o.readRecords)
	for len(ids) < o.readRecords {
		id, err := l.store(ctx)
		if err != nil {
			return fmt.Errorf("storing the records to read: %w", err)
		}
		ids = append(ids, id)
	}

	if o.only == "" || o.only == "stores" {
		res := l.phase(ctx, o, func(ctx context.Context, worker int, n uint64) error {
			_, err := l.store(ctx)
			return err
		})
		res.print(stdout, "stores")
	}
	if o.only == "" || o.only == "reads" {
		reads := make([]atomic.Int64, len(ids))
		res := l.phase(ctx, o, func(ctx context.Context, worker int, n uint64) error {
			i := int((uint64(worker)*7919 + n*104729) % uint64(len(ids)))
			if err := l.read(ctx, ids[i]); err != nil {
				return err
			}
			reads[i].Add(1) // warm-up reads count too: they were logged as well
			return nil
		})
		res.print(stdout, "permitted reads")
		// Every successful read (warm-up included) must have left its event.
		var want int64
		for i := range reads {
			want += reads[i].Load()
		}
		got, err := l.countAccessed(ctx, ids)
		if err != nil {
			return fmt.Errorf("counting events: %w", err)
		}
		if got != want {
			return fmt.Errorf("the records have %d accessed events, but %d reads succeeded", got, want)
		}
		fmt.Fprintf(stdout, "events: all %d successful reads are in the records' event logs\n", want)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

func exitErr(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)))
	}
	return err
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitHealthy(ctx context.Context, hc *http.Client, base string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("the server did not answer /healthz within %s", limit)
}

type loader struct {
	hc     *http.Client
	base   string
	tokens map[string]string
	size   int
	policy []byte
	pid    int // the server's process
}

// store stores one record as alice and returns its id.
func (l *loader) store(ctx context.Context) (string, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="policy"`)
	h.Set("Content-Type", "application/xml")
	pw, _ := mw.CreatePart(h)
	pw.Write(l.policy)
	h = textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="data"; filename="record.txt"`)
	h.Set("Content-Type", "text/plain")
	dw, _ := mw.CreatePart(h)
	dw.Write(bytes.Repeat([]byte("x"), l.size))
	mw.Close()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, l.base+"/v1/pii", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+l.tokens["alice@example.org"])
	resp, err := l.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("store: HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	var out struct{ ID string }
	if err := json.Unmarshal(body, &out); err != nil || out.ID == "" {
		return "", fmt.Errorf("store: bad answer %s", body)
	}
	return out.ID, nil
}

// read reads a record as bob for an allowed purpose.
func (l *loader) read(ctx context.Context, id string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, l.base+"/v1/pii/"+id, nil)
	req.Header.Set("X-Purpose", purpose)
	req.Header.Set("Authorization", "Bearer "+l.tokens["bob@example.org"])
	resp, err := l.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, _ := io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("read: HTTP %d", resp.StatusCode)
	}
	if int(n) != l.size {
		return fmt.Errorf("read: %d bytes, want %d", n, l.size)
	}
	return nil
}

// countAccessed sums the accessed events of the records (as their owner).
func (l *loader) countAccessed(ctx context.Context, ids []string) (int64, error) {
	var total int64
	for _, id := range ids {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, l.base+"/v1/pii/"+id+"/events", nil)
		req.Header.Set("Authorization", "Bearer "+l.tokens["alice@example.org"])
		resp, err := l.hc.Do(req)
		if err != nil {
			return 0, err
		}
		var evs []struct {
			Type      string `json:"type"`
			Principal string `json:"principal"`
		}
		err = json.NewDecoder(resp.Body).Decode(&evs)
		resp.Body.Close()
		if err != nil {
			return 0, fmt.Errorf("events of %s: %w", id, err)
		}
		for _, e := range evs {
			if e.Type == "accessed" && e.Principal == "bob@example.org" {
				total++
			}
		}
	}
	return total, nil
}

type result struct {
	serverCPU   time.Duration // CPU time the server used in the measured time
	selfCPU     time.Duration // CPU time the load generator used
	ops, errors int
	elapsed     time.Duration
	lat         []time.Duration
	firstErr    error
}

// phase runs op on every worker for the warm-up (unmeasured) and then for
// the duration (measured).
func (l *loader) phase(ctx context.Context, o options, op func(ctx context.Context, worker int, n uint64) error) result {
	var before cpuTimes
	var seq atomic.Uint64
	runFor := func(d time.Duration, record bool) result {
		var mu sync.Mutex
		var res result
		var wg sync.WaitGroup
		start := time.Now()
		stopAt := start.Add(d)
		for w := range o.concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				lat := make([]time.Duration, 0, 4096)
				var errs int
				var first error
				for time.Now().Before(stopAt) && ctx.Err() == nil {
					t0 := time.Now()
					err := op(ctx, w, seq.Add(1))
					if err != nil {
						errs++
						if first == nil {
							first = err
						}
						continue
					}
					lat = append(lat, time.Since(t0))
				}
				if record {
					mu.Lock()
					res.lat = append(res.lat, lat...)
					res.errors += errs
					if res.firstErr == nil {
						res.firstErr = first
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		res.elapsed = time.Since(start)
		res.ops = len(res.lat)
		return res
	}
	if o.warmup > 0 {
		runFor(o.warmup, false)
	}
	before = readCPU(l.pid)
	res := runFor(o.duration, true)
	after := readCPU(l.pid)
	if before.ok && after.ok {
		res.serverCPU, res.selfCPU = after.server-before.server, after.self-before.self
	}
	return res
}

func (r result) print(w io.Writer, name string) {
	slices.Sort(r.lat)
	pct := func(p float64) time.Duration {
		if len(r.lat) == 0 {
			return 0
		}
		return r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))]
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }
	fmt.Fprintf(w, "%-16s %8.0f/s  (%d ok, %d errors in %.1fs)  p50 %s  p90 %s  p99 %s  max %s\n",
		name, float64(r.ops)/r.elapsed.Seconds(), r.ops, r.errors, r.elapsed.Seconds(), ms(pct(0.50)), ms(pct(0.90)), ms(pct(0.99)), ms(pct(1)))
	if r.serverCPU > 0 && r.ops > 0 {
		perOp := r.serverCPU / time.Duration(r.ops)
		fmt.Fprintf(w, "  server CPU %.2fs (%.0f%% of one core), %s per op = %.0f ops per server CPU-second; load generator CPU %.2fs\n",
			r.serverCPU.Seconds(), 100*r.serverCPU.Seconds()/r.elapsed.Seconds(), perOp.Round(time.Microsecond), float64(r.ops)/r.serverCPU.Seconds(), r.selfCPU.Seconds())
	}
	if r.firstErr != nil {
		fmt.Fprintf(w, "  first error: %v\n", r.firstErr)
	}
}
