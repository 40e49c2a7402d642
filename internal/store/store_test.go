package store_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/internal/store"
	"github.com/stickypolicy/sticky/pep"
	"github.com/stickypolicy/sticky/pep/peptest"
)

func open(t testing.TB, dir string, opts ...store.Option) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	peptest.Exercise(t, func(t *testing.T) pep.Store { return open(t, t.TempDir()) })
}

func TestPragmas(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "data"))
	ctx := context.Background()
	for pragma, want := range map[string]string{
		"journal_mode":  "wal",
		"secure_delete": "1",
		"foreign_keys":  "1",
		"synchronous":   "2", // FULL
	} {
		var got string
		// The writer pool has one connection: this query runs on it.
		if err := s.DB().QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
	if st, err := os.Stat(filepath.Join(filepath.Dir(s.Path()))); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode = %v, %v", st.Mode(), err)
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	dir := t.TempDir()
	s1 := open(t, dir)
	v1, err := s1.SchemaVersion(context.Background())
	if err != nil || v1 < 1 {
		t.Fatalf("schema version = %d, %v", v1, err)
	}
	s1.Close()
	s2 := open(t, dir) // reopening applies nothing twice
	v2, err := s2.SchemaVersion(context.Background())
	if err != nil || v2 != v1 {
		t.Errorf("schema version after reopen = %d, %v; want %d", v2, err, v1)
	}
	ms, err := store.Migrations()
	if err != nil || len(ms) == 0 || ms[0].Version != 1 || ms[0].Name != "init" {
		t.Errorf("Migrations = %+v, %v", ms, err)
	}
}

func TestPrincipals(t *testing.T) {
	s := open(t, t.TempDir())
	ctx := context.Background()
	tok, hash, err := pep.NewToken(bytes.NewReader(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddPrincipal(ctx, pep.Principal{Name: "alice@example.org", Role: pep.RoleSubject, Email: "a@x"}, hash); err != nil {
		t.Fatal(err)
	}
	p, err := s.PrincipalByToken(ctx, pep.HashToken(tok))
	if err != nil || p.Name != "alice@example.org" || p.Role != pep.RoleSubject || p.Email != "a@x" {
		t.Errorf("PrincipalByToken = %+v, %v", p, err)
	}
	err = s.AddPrincipal(ctx, pep.Principal{Name: "alice@example.org", Role: pep.RoleAdmin}, pep.HashToken("other"))
	if !errors.Is(err, pep.ErrConflict) {
		t.Errorf("duplicate principal: %v, want ErrConflict", err)
	}
	if err := s.AddPrincipal(ctx, pep.Principal{Name: "x", Role: "boss"}, pep.HashToken("t")); !errors.Is(err, pep.ErrInvalidInput) {
		t.Errorf("bad role: %v, want ErrInvalidInput", err)
	}
	if err := s.AddPrincipal(ctx, pep.Principal{Name: "a b", Role: pep.RoleAdmin}, pep.HashToken("t")); !errors.Is(err, pep.ErrInvalidInput) {
		t.Errorf("bad name: %v, want ErrInvalidInput", err)
	}
	// The token is stored only as its hash.
	raw, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(s.Path() + "-wal")
	if bytes.Contains(append(raw, wal...), []byte(tok)) {
		t.Error("the token is in the database in the clear")
	}
	n, err := s.RevokeTokens(ctx, "alice@example.org", time.Now())
	if err != nil || n != 1 {
		t.Errorf("RevokeTokens = %d, %v", n, err)
	}
	if _, err := s.PrincipalByToken(ctx, pep.HashToken(tok)); !errors.Is(err, pep.ErrNotFound) {
		t.Errorf("revoked token still works: %v", err)
	}
}

// TestTwoProcessesStyle opens a second store on the same directory while the
// first one is writing, as `stickyd principal add` does while the server runs.
func TestConcurrentOpen(t *testing.T) {
	dir := t.TempDir()
	s1 := open(t, dir)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 50 {
			err := s1.Write(ctx, func(tx pep.Tx) error {
				return tx.SetPreferences(ctx, "alice", []byte{byte(i)}, time.Now())
			})
			if err != nil {
				errs <- err
			}
		}
	}()
	s2 := open(t, dir)
	for i := range 10 {
		_, h, _ := pep.NewToken(bytes.NewReader(bytes.Repeat([]byte{byte(i)}, 32)))
		if err := s2.AddPrincipal(ctx, pep.Principal{Name: "p" + string(rune('a'+i)), Role: pep.RoleController}, h); err != nil {
			errs <- err
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ps, err := s1.Principals(ctx)
	if err != nil || len(ps) != 10 {
		t.Errorf("principals seen by the first store: %d, %v", len(ps), err)
	}
}

func TestDeleteErasesBytes(t *testing.T) {
	s := open(t, t.TempDir())
	ctx := context.Background()
	marker := []byte("UNIQUE-MARKER-7f3a9c-" + time.Now().Format(time.RFC3339Nano))
	data := bytes.Repeat(marker, 200) // spans pages and an overflow chain
	r := pep.Record{ID: "r1", Subject: "alice", StoredBy: "alice", ContentType: "text/plain", Policy: []byte("<p/>"),
		PolicyVersion: 1, PolicyHash: "h", StoredAt: time.Now()}
	if err := s.Write(ctx, func(tx pep.Tx) error { return tx.InsertRecord(ctx, r, data) }); err != nil {
		t.Fatal(err)
	}
	if !fileContains(t, s.Path(), marker) {
		t.Fatal("the marker is not in the database files before deletion: the test cannot see anything")
	}
	if err := s.Write(ctx, func(tx pep.Tx) error { return tx.DeleteRecord(ctx, "r1", time.Now()) }); err != nil {
		t.Fatal(err)
	}
	if fileContains(t, s.Path(), marker) {
		t.Error("the bytes of a deleted record are still in the database files")
	}
}

// fileContains searches the database file and its WAL for b.
func fileContains(t *testing.T, path string, b []byte) bool {
	t.Helper()
	for _, p := range []string{path, path + "-wal"} {
		raw, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(raw, b) {
			return true
		}
	}
	return false
}

// TestGroupCommit runs many concurrent writes, every third one failing after
// it wrote: the failing ones leave nothing, the others are all there, and
// each event chain stays gapless.
func TestGroupCommit(t *testing.T) {
	s := open(t, t.TempDir())
	ctx := context.Background()
	const n = 300
	var wg sync.WaitGroup
	errs := make([]error, n)
	boom := errors.New("boom")
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Write(ctx, func(tx pep.Tx) error {
				id := "r" + strconv.Itoa(i)
				r := pep.Record{ID: id, Subject: "alice", StoredBy: "alice", ContentType: "text/plain", Policy: []byte("<p/>"),
					PolicyVersion: 1, PolicyHash: "h", StoredAt: time.Now()}
				if err := tx.InsertRecord(ctx, r, []byte(id)); err != nil {
					return err
				}
				if _, err := tx.AppendEvent(ctx, pep.EventInput{PII: "shared", Subject: "alice", Time: time.Now(), Type: "accessed", Principal: id}); err != nil {
					return err
				}
				if i%3 == 0 {
					return boom
				}
				return nil
			})
		}()
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		_, _, rerr := s.RecordData(ctx, "r"+strconv.Itoa(i))
		switch {
		case i%3 == 0:
			if !errors.Is(err, boom) || !errors.Is(rerr, pep.ErrNotFound) {
				t.Errorf("write %d: %v, record: %v; want boom and nothing stored", i, err, rerr)
			}
		default:
			if err != nil || rerr != nil {
				t.Errorf("write %d: %v, record: %v", i, err, rerr)
			}
			ok++
		}
	}
	evs, err := s.Events(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != ok {
		t.Errorf("%d events, want %d", len(evs), ok)
	}
	for i, e := range evs {
		if e.Seq != int64(i+1) || (i > 0 && e.Prev != evs[i-1].Hash) {
			t.Fatalf("chain broken at %d: %+v", i, e)
		}
	}
}

func TestWriteAfterClose(t *testing.T) {
	s, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	err = s.Write(context.Background(), func(pep.Tx) error { return nil })
	if err == nil {
		t.Error("a write after Close succeeded")
	}
}

func TestWritePanicIsAnError(t *testing.T) {
	s := open(t, t.TempDir())
	err := s.Write(context.Background(), func(pep.Tx) error { panic("oops") })
	if err == nil || !strings.Contains(err.Error(), "oops") {
		t.Errorf("panicking write = %v", err)
	}
	if err := s.Write(context.Background(), func(pep.Tx) error { return nil }); err != nil {
		t.Errorf("the writer did not survive: %v", err)
	}
}

// The store offers pep's optional interfaces: obligations are enqueued and
// time-driven jobs cancelled inside pep's write transactions, and the inbox
// is served.
var (
	_ pep.Store               = (*store.Store)(nil)
	_ pep.Inbox               = (*store.Store)(nil)
	_ pep.Tx                  = (*store.Tx)(nil)
	_ pep.JobQueue            = (*store.Tx)(nil)
	_ pep.TimeDrivenCanceller = (*store.Tx)(nil)
)
