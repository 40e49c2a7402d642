package store

import (
	"context"
	"database/sql"
	"time"
)

// checkpointEvery is the shortest time between two background checkpoints.
const checkpointEvery = 50 * time.Millisecond

// The writer connection does not checkpoint the WAL itself (PRAGMA
// wal_autocheckpoint=0): SQLite's automatic checkpoint would run inside a
// commit, on the one serialized write path, and with synchronous=FULL it
// writes and fsyncs the database file there. Instead a checkpointer
// goroutine, on a connection of its own, runs a PASSIVE checkpoint after
// commits (at most every checkpointEvery): it never blocks the writer or the
// readers, and the writer restarts the WAL from its beginning once a
// checkpoint has copied all of it. Scrub (after an erasure) still runs a
// TRUNCATE checkpoint on the writer; ckMu keeps the two from
// running at once (a checkpoint finding another one running fails at once
// with SQLITE_BUSY).

// committed tells the checkpointer that the WAL grew.
func (s *Store) committed() {
	select {
	case s.ckpt <- struct{}{}:
	default:
	}
}

// checkpointer runs PASSIVE checkpoints on c after commits until the store
// closes.
func (s *Store) checkpointer(c *sql.DB) {
	defer close(s.ckptDone)
	ctx := context.Background()
	t := time.NewTimer(0)
	<-t.C
	for {
		select {
		case <-s.ckpt:
		case <-s.closed:
			return
		}
		var busy, logFrames, done int
		// An error (e.g. SQLITE_BUSY while Scrub checkpoints) is only a
		// checkpoint skipped: the next commit asks again.
		s.ckMu.Lock()
		_ = c.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &done)
		s.ckMu.Unlock()
		t.Reset(checkpointEvery)
		select {
		case <-t.C:
		case <-s.closed:
			return
		}
	}
}
