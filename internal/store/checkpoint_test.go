package store_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/internal/store"
)

// TestBackgroundCheckpoint: the writer does not checkpoint inside its
// commits (wal_autocheckpoint=0), so only the background checkpointer can
// move committed pages from the WAL into the database file; the file grows
// by what was written soon after the writes, and a record deleted meanwhile
// is still scrubbed (Scrub and the checkpointer take turns).
func TestBackgroundCheckpoint(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	dbFile := filepath.Join(dir, store.FileName)
	size := func() int64 {
		fi, err := os.Stat(dbFile)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	blob := bytes.Repeat([]byte("p"), 4000)
	for i := range 300 {
		err := s.WriteTx(ctx, func(tx *store.Tx) error {
			return tx.SetPreferences(ctx, "subject-"+strconv.Itoa(i), blob, time.Now())
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for size()-before < 300*4000 {
		if time.Now().After(deadline) {
			t.Fatalf("database file grew by %d bytes after 1.2 MB were committed: no checkpoint ran", size()-before)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var mode int
	if err := s.DB().QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&mode); err != nil || mode != 0 {
		t.Fatalf("writer's wal_autocheckpoint = %d, %v; want 0 (checkpoints off the commit path)", mode, err)
	}
	for range 20 {
		if err := s.Scrub(ctx); err != nil {
			t.Fatalf("Scrub while the checkpointer runs: %v", err)
		}
		if err := s.WriteTx(ctx, func(tx *store.Tx) error {
			return tx.SetPreferences(ctx, "again", blob, time.Now())
		}); err != nil {
			t.Fatal(err)
		}
	}
}
