package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stickypolicy/sticky/pep"
)

// This file implements pep.RightsTx: the writes of operator rules and of
// the restore window (migration 0004).

// ReplaceData implements pep.RightsTx.
func (t *Tx) ReplaceData(ctx context.Context, id string, data []byte, contentType, state string) error {
	if data == nil {
		data = []byte{}
	}
	res, err := t.tx.ExecContext(ctx, `UPDATE pii SET data = ?, content_type = ?, rule_state = ? WHERE id = ?`, data, contentType, state, id)
	if err != nil {
		return fmt.Errorf("store: replacing data: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return pep.ErrNotFound
	}
	t.MarkErased()
	return nil
}

// KeepPseudonymised implements pep.RightsTx.
func (t *Tx) KeepPseudonymised(ctx context.Context, o pep.PseudonymisedOriginal) error {
	enc := 0
	if o.Encrypted {
		enc = 1
	}
	if o.Data == nil {
		o.Data = []byte{}
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO pseudonymised (`+originalColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		o.ID, o.PII, o.Subject, o.Rule, o.ContentType, enc, o.Data, o.Created.UnixNano()); err != nil {
		return fmt.Errorf("store: keeping the pseudonymised original: %w", err)
	}
	return nil
}

// DropPseudonymised implements pep.RightsTx.
func (t *Tx) DropPseudonymised(ctx context.Context, pii string) (int, error) {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM pseudonymised WHERE pii = ?`, pii)
	if err != nil {
		return 0, fmt.Errorf("store: erasing pseudonymised originals: %w", err)
	}
	n, _ := res.RowsAffected()
	if n > 0 {
		t.MarkErased()
	}
	return int(n), nil
}

// BinRecord implements pep.RightsTx.
func (t *Tx) BinRecord(ctx context.Context, id string, deletedAt, eraseAt time.Time) error {
	rows, err := t.tx.QueryContext(ctx, `SELECT recipient, purpose, disclosed_by, time FROM disclosures WHERE pii = ? ORDER BY id`, id)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	ds := []binDisclosure{}
	for rows.Next() {
		var d binDisclosure
		var tm int64
		if err := rows.Scan(&d.Recipient, &d.Purpose, &d.By, &tm); err != nil {
			rows.Close()
			return fmt.Errorf("store: %w", err)
		}
		d.Time = unixTime(tm)
		ds = append(ds, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	js, err := json.Marshal(ds)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	res, err := t.tx.ExecContext(ctx, `INSERT OR REPLACE INTO deleted_pii (id, subject, stored_by, content_type, data, policy, policy_version,
			policy_hash, encrypted, stored_at, delete_at, category, rule_state, disclosures, deleted_at, erase_at)
		SELECT id, subject, stored_by, content_type, data, policy, policy_version, policy_hash, encrypted, stored_at, delete_at,
			category, rule_state, ?, ?, ? FROM pii WHERE id = ?`, string(js), deletedAt.UnixNano(), eraseAt.UnixNano(), id)
	if err != nil {
		return fmt.Errorf("store: moving the record to the restore bin: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return pep.ErrNotFound
	}
	return nil
}

// RestoreRecord implements pep.RightsTx.
func (t *Tx) RestoreRecord(ctx context.Context, id string) (pep.Record, error) {
	h, err := scanHeld(t.tx.QueryRowContext(ctx, `SELECT `+heldColumns+binColumns+` FROM deleted_pii WHERE id = ?`, id), false, true)
	if err != nil {
		return pep.Record{}, err
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO pii (id, subject, stored_by, content_type, data, policy, policy_version,
			policy_hash, encrypted, stored_at, delete_at, category, rule_state)
		SELECT id, subject, stored_by, content_type, data, policy, policy_version, policy_hash, encrypted, stored_at, delete_at,
			category, rule_state FROM deleted_pii WHERE id = ?`, id); err != nil {
		return pep.Record{}, fmt.Errorf("store: restoring the record: %w", err)
	}
	for _, d := range h.Disclosures {
		if err := t.InsertDisclosure(ctx, d); err != nil {
			return pep.Record{}, err
		}
	}
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM deleted_pii WHERE id = ?`, id); err != nil {
		return pep.Record{}, fmt.Errorf("store: restoring the record: %w", err)
	}
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM tombstones WHERE pii = ?`, id); err != nil {
		return pep.Record{}, fmt.Errorf("store: restoring the record: %w", err)
	}
	return h.Record, nil
}

// PurgeBinned implements pep.RightsTx.
func (t *Tx) PurgeBinned(ctx context.Context, id string) (pep.Record, bool, error) {
	h, err := scanHeld(t.tx.QueryRowContext(ctx, `DELETE FROM deleted_pii WHERE id = ? RETURNING `+heldColumns+binColumns, id), false, true)
	if errors.Is(err, pep.ErrNotFound) {
		return pep.Record{}, false, nil
	}
	if err != nil {
		return pep.Record{}, false, err
	}
	t.MarkErased()
	if _, err := t.DropPseudonymised(ctx, id); err != nil {
		return pep.Record{}, false, err
	}
	return h.Record, true, nil
}

// CancelJobs implements pep.RightsTx.
func (t *Tx) CancelJobs(ctx context.Context, pii, obligation string, now time.Time) (int, error) {
	res, err := t.tx.ExecContext(ctx, `UPDATE jobs SET state = 'cancelled', updated = ?
		WHERE pii = ? AND obligation = ? AND state IN ('pending', 'running')`, now.UnixNano(), pii, obligation)
	if err != nil {
		return 0, fmt.Errorf("store: cancelling jobs: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// SetCategory implements pep.RightsTx.
func (t *Tx) SetCategory(ctx context.Context, id, category string) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE pii SET category = ? WHERE id = ?`, category, id)
	if err != nil {
		return fmt.Errorf("store: setting the category: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return pep.ErrNotFound
	}
	return nil
}
