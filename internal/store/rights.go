package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/stickypolicy/sticky/pep"
)

// This file implements pep.RightsStore's reads (migration 0004): records
// held on a subject, binned records, pseudonymised originals, rule
// candidates and the rights reports.

var (
	_ pep.RightsStore = (*Store)(nil)
	_ pep.RightsTx    = (*Tx)(nil)
)

// heldColumns are the columns scanHeld reads from pii (with data) and,
// followed by binColumns, from deleted_pii.
const heldColumns = `id, subject, stored_by, content_type, policy, policy_version, policy_hash, encrypted, stored_at, delete_at,
	length(data), category, rule_state`

const binColumns = `, disclosures, deleted_at, erase_at`

type binDisclosure struct {
	Recipient string    `json:"recipient"`
	Purpose   string    `json:"purpose"`
	By        string    `json:"by"`
	Time      time.Time `json:"time"`
}

// scanHeld scans heldColumns, then data when withData, then binColumns
// when binned.
func scanHeld(row scanner, withData, binned bool) (pep.HeldRecord, error) {
	var h pep.HeldRecord
	var storedAt int64
	var deleteAt sql.NullInt64
	var encrypted int
	dest := []any{&h.ID, &h.Subject, &h.StoredBy, &h.ContentType, &h.Policy, &h.PolicyVersion, &h.PolicyHash,
		&encrypted, &storedAt, &deleteAt, &h.Size, &h.Category, &h.State}
	if withData {
		dest = append(dest, &h.Data)
	}
	var discl string
	var deletedAt, eraseAt int64
	if binned {
		dest = append(dest, &discl, &deletedAt, &eraseAt)
	}
	if err := row.Scan(dest...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return pep.HeldRecord{}, pep.ErrNotFound
		}
		return pep.HeldRecord{}, fmt.Errorf("store: %w", err)
	}
	h.Encrypted = encrypted != 0
	h.StoredAt = unixTime(storedAt)
	if deleteAt.Valid {
		h.DeleteAt = unixTime(deleteAt.Int64)
	}
	if withData && h.Data == nil {
		h.Data = []byte{}
	}
	if binned {
		h.Deleted = true
		h.DeletedAt, h.EraseAt = unixTime(deletedAt), unixTime(eraseAt)
		var ds []binDisclosure
		if err := json.Unmarshal([]byte(discl), &ds); err != nil {
			return pep.HeldRecord{}, fmt.Errorf("store: deleted record %s: bad disclosures: %w", h.ID, err)
		}
		h.Disclosures = make([]pep.Disclosure, 0, len(ds))
		for _, d := range ds {
			h.Disclosures = append(h.Disclosures, pep.Disclosure{PII: h.ID, Recipient: d.Recipient, Purpose: d.Purpose, By: d.By, Time: d.Time})
		}
	}
	return h, nil
}

// queryer is a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func queryHeld(ctx context.Context, q queryer, withData, binned bool, query string, args ...any) ([]pep.HeldRecord, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	out := []pep.HeldRecord{}
	for rows.Next() {
		h, err := scanHeld(rows, withData, binned)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// HeldRecords implements pep.RightsStore: live records, then binned ones,
// each oldest first, with their bytes and pseudonymised originals.
func (s *Store) HeldRecords(ctx context.Context, subject string) ([]pep.HeldRecord, error) {
	live, err := queryHeld(ctx, s.r, true, false, `SELECT `+heldColumns+`, data FROM pii WHERE subject = ? ORDER BY stored_at, rowid`, subject)
	if err != nil {
		return nil, err
	}
	binned, err := queryHeld(ctx, s.r, true, true, `SELECT `+heldColumns+`, data`+binColumns+` FROM deleted_pii WHERE subject = ? ORDER BY stored_at, rowid`, subject)
	if err != nil {
		return nil, err
	}
	out := append(live, binned...)
	for i := range out {
		if out[i].State != pep.StatePseudonymised {
			continue
		}
		o, err := s.originalOf(ctx, out[i].ID)
		if err == nil {
			out[i].Original = &o
		} else if !errors.Is(err, pep.ErrNotFound) {
			return nil, err
		}
	}
	return out, nil
}

// ErasedRecords implements pep.RightsStore.
func (s *Store) ErasedRecords(ctx context.Context, subject string) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT t.pii FROM tombstones t
		WHERE t.subject = ? AND NOT EXISTS (SELECT 1 FROM deleted_pii d WHERE d.id = t.pii) ORDER BY t.deleted_at, t.pii`, subject)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// Binned implements pep.RightsStore.
func (s *Store) Binned(ctx context.Context, id string) (pep.HeldRecord, error) {
	return scanHeld(s.r.QueryRowContext(ctx, `SELECT `+heldColumns+binColumns+` FROM deleted_pii WHERE id = ?`, id), false, true)
}

// RuleRecords implements pep.RightsStore.
func (s *Store) RuleRecords(ctx context.Context) ([]pep.HeldRecord, error) {
	return queryHeld(ctx, s.r, false, false, `SELECT `+heldColumns+` FROM pii ORDER BY stored_at, rowid`)
}

// RuleState implements pep.RightsStore.
func (s *Store) RuleState(ctx context.Context, id string) (string, error) {
	var st string
	err := s.r.QueryRowContext(ctx, `SELECT rule_state FROM pii WHERE id = ?`, id).Scan(&st)
	if isNoRows(err) {
		return "", pep.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	return st, nil
}

const originalColumns = `id, pii, subject, rule, content_type, encrypted, data, created`

func scanOriginal(row scanner) (pep.PseudonymisedOriginal, error) {
	var o pep.PseudonymisedOriginal
	var enc int
	var created int64
	if err := row.Scan(&o.ID, &o.PII, &o.Subject, &o.Rule, &o.ContentType, &enc, &o.Data, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return o, pep.ErrNotFound
		}
		return o, fmt.Errorf("store: %w", err)
	}
	o.Encrypted, o.Created = enc != 0, unixTime(created)
	if o.Data == nil {
		o.Data = []byte{}
	}
	return o, nil
}

// Pseudonymised implements pep.RightsStore.
func (s *Store) Pseudonymised(ctx context.Context, id string) (pep.PseudonymisedOriginal, error) {
	return scanOriginal(s.r.QueryRowContext(ctx, `SELECT `+originalColumns+` FROM pseudonymised WHERE id = ?`, id))
}

func (s *Store) originalOf(ctx context.Context, pii string) (pep.PseudonymisedOriginal, error) {
	return scanOriginal(s.r.QueryRowContext(ctx, `SELECT `+originalColumns+` FROM pseudonymised WHERE pii = ? ORDER BY created DESC LIMIT 1`, pii))
}

// SaveReport implements pep.RightsStore.
func (s *Store) SaveReport(ctx context.Context, id, kind string, now time.Time, report []byte) error {
	return s.WriteTx(ctx, func(t *Tx) error { return t.saveReport(ctx, id, kind, now, report) })
}

func (t *Tx) saveReport(ctx context.Context, id, kind string, now time.Time, report []byte) error {
	if _, err := t.tx.ExecContext(ctx, `INSERT OR REPLACE INTO rights_reports (id, kind, time, report) VALUES (?, ?, ?, ?)`,
		id, kind, now.UnixNano(), string(report)); err != nil {
		return fmt.Errorf("store: saving report: %w", err)
	}
	return nil
}

// Reports returns the kept rights reports of a kind, oldest first (for
// tests and admins).
func (s *Store) Reports(ctx context.Context, kind string) ([]json.RawMessage, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT report FROM rights_reports WHERE kind = ? ORDER BY time, id`, kind)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []json.RawMessage
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out = append(out, json.RawMessage(r))
	}
	return out, rows.Err()
}

// forgetDigest is the suppression-list entry of an identity: the hex
// HMAC-SHA256 of the identity under the server's rights key (created on
// first use).
func (t *Tx) forgetDigest(ctx context.Context, identity string) (string, error) {
	var key []byte
	err := t.tx.QueryRowContext(ctx, `SELECT key FROM rights_secret WHERE id = 1`).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		key = make([]byte, 32)
		if _, err := io.ReadFull(t.s.rand, key); err != nil {
			return "", fmt.Errorf("store: drawing the rights key: %w", err)
		}
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO rights_secret (id, key) VALUES (1, ?)`, key); err != nil {
			return "", fmt.Errorf("store: saving the rights key: %w", err)
		}
	} else if err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	return digestWith(key, identity), nil
}

// digestWith is the suppression-list HMAC of identity under key.
func digestWith(key []byte, identity string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("sticky-forgotten-v1\x00"))
	m.Write([]byte(identity))
	return hex.EncodeToString(m.Sum(nil))
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

const forgottenOwnerSQL = `SELECT subject FROM tombstones WHERE pii = ? AND subject LIKE 'forgotten:%'`

// forgottenOwner makes an event of a record whose data subject was
// forgotten log under the forget placeholder: a write that raced with
// forget (it read the record before, and appends after, the erasure) must
// not bring back a key or identity rows for the forgotten subject.
func (t *Tx) forgottenOwner(ctx context.Context, in *pep.EventInput) error {
	var owner string
	err := t.tx.QueryRowContext(ctx, forgottenOwnerSQL, in.PII).Scan(&owner)
	switch {
	case isNoRows(err):
		return nil
	case err != nil:
		return fmt.Errorf("store: %w", err)
	}
	if in.Subject != owner {
		in.Subject = owner
		if in.Principal != "" && in.Principal != owner && t.isForgotten(ctx, in.Principal) {
			in.Principal = ""
		}
	}
	return nil
}

// isForgotten reports whether identity is on the suppression list.
func (t *Tx) isForgotten(ctx context.Context, identity string) bool {
	var key []byte
	if err := t.tx.QueryRowContext(ctx, `SELECT key FROM rights_secret WHERE id = 1`).Scan(&key); err != nil {
		return false
	}
	var n int
	t.tx.QueryRowContext(ctx, `SELECT count(*) FROM forgotten WHERE digest = ?`, digestWith(key, identity)).Scan(&n)
	return n > 0
}
