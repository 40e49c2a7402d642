package store

import (
	"context"
	"fmt"
	"time"

	"github.com/stickypolicy/sticky/pep"
)

// PurgeAuditLog implements pep.RightsStore: audit-log retention, in one
// transaction.
//
// A record's event chain is removed only as a whole, and only when the
// record is gone (a tombstone, no live row, nothing in the restore bin) and
// its newest event is older than before: every chain left in the database
// is then complete and verifies from its genesis, and no chain is ever cut
// in the middle. For each removed chain a checkpoint keeps the record id,
// the last entry's seq and hash and the number of entries, so that an
// exported copy of the log can still be matched against its head. The
// record's tombstone, policy history and the identities no remaining event
// uses go with it.
//
// Finished obligation jobs (done, cancelled, failed) last updated before
// before, and rights reports older than before, are removed too.
func (s *Store) PurgeAuditLog(ctx context.Context, before, now time.Time) (pep.AuditPurge, error) {
	var p pep.AuditPurge
	err := s.WriteTx(ctx, func(t *Tx) error {
		q := t.tx
		gone := `SELECT t.pii FROM tombstones t
			WHERE NOT EXISTS (SELECT 1 FROM pii WHERE id = t.pii) AND NOT EXISTS (SELECT 1 FROM deleted_pii WHERE id = t.pii)
			AND (SELECT max(time) FROM events e WHERE e.pii = t.pii) < ?1`
		res, err := q.ExecContext(ctx, `INSERT OR REPLACE INTO audit_checkpoints (pii, seq, hash, entries, time)
			SELECT e.pii, e.seq, e.hash, (SELECT count(*) FROM events c WHERE c.pii = e.pii), ?2 FROM events e
			WHERE e.pii IN (`+gone+`) AND e.seq = (SELECT max(seq) FROM events m WHERE m.pii = e.pii)`, before.UnixNano(), now.UnixNano())
		if err != nil {
			return fmt.Errorf("store: audit retention: %w", err)
		}
		n, _ := res.RowsAffected()
		p.Chains = int(n)
		if p.Chains > 0 {
			// The checkpoints just written name the chains to remove.
			for _, st := range []struct {
				dst   *int
				query string
			}{
				{&p.Events, `DELETE FROM events WHERE pii IN (SELECT pii FROM audit_checkpoints WHERE time = ?1)`},
				{nil, `DELETE FROM policy_history WHERE pii IN (SELECT pii FROM audit_checkpoints WHERE time = ?1)`},
				{nil, `DELETE FROM tombstones WHERE pii IN (SELECT pii FROM audit_checkpoints WHERE time = ?1)`},
				{nil, `DELETE FROM identities WHERE pseudonym NOT IN (SELECT principal FROM events UNION SELECT recipient FROM events)`},
			} {
				res, err := q.ExecContext(ctx, st.query, now.UnixNano())
				if err != nil {
					return fmt.Errorf("store: audit retention: %w", err)
				}
				if st.dst != nil {
					n, _ := res.RowsAffected()
					*st.dst = int(n)
				}
			}
			t.MarkErased()
		}
		res, err = q.ExecContext(ctx, `DELETE FROM jobs WHERE state IN ('done', 'cancelled', 'failed') AND updated < ?`, before.UnixNano())
		if err != nil {
			return fmt.Errorf("store: audit retention: %w", err)
		}
		n, _ = res.RowsAffected()
		p.Jobs = int(n)
		res, err = q.ExecContext(ctx, `DELETE FROM rights_reports WHERE time < ?`, before.UnixNano())
		if err != nil {
			return fmt.Errorf("store: audit retention: %w", err)
		}
		n, _ = res.RowsAffected()
		p.Reports = int(n)
		return nil
	})
	return p, err
}

// AuditCheckpoint returns the checkpoint audit-log retention left for a
// record: the last seq and hash of its removed chain and how many entries it
// had; ok is false when there is none.
func (s *Store) AuditCheckpoint(ctx context.Context, pii string) (seq int64, hash string, entries int, ok bool, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT seq, hash, entries FROM audit_checkpoints WHERE pii = ?`, pii).Scan(&seq, &hash, &entries)
	if err != nil {
		if isNoRows(err) {
			return 0, "", 0, false, nil
		}
		return 0, "", 0, false, fmt.Errorf("store: %w", err)
	}
	return seq, hash, entries, true, nil
}
