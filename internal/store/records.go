package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stickypolicy/sticky/pep"
)

func unixTime(n int64) time.Time { return time.Unix(0, n).UTC() }

func nullTime(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

func scanRecord(row scanner, data *[]byte) (pep.Record, error) {
	var r pep.Record
	var storedAt int64
	var deleteAt sql.NullInt64
	var encrypted int
	dest := []any{&r.ID, &r.Subject, &r.StoredBy, &r.ContentType, &r.Policy, &r.PolicyVersion, &r.PolicyHash,
		&encrypted, &storedAt, &deleteAt, &r.Size}
	if data != nil {
		dest = append(dest, data)
	}
	if err := row.Scan(dest...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return pep.Record{}, pep.ErrNotFound
		}
		return pep.Record{}, fmt.Errorf("store: %w", err)
	}
	r.Encrypted = encrypted != 0
	r.StoredAt = unixTime(storedAt)
	if deleteAt.Valid {
		r.DeleteAt = unixTime(deleteAt.Int64)
	}
	return r, nil
}

// Record implements pep.Store.
func (s *Store) Record(ctx context.Context, id string) (pep.Record, error) {
	return scanRecord(s.rs.record.QueryRowContext(ctx, id), nil)
}

// RecordData implements pep.Store.
func (s *Store) RecordData(ctx context.Context, id string) (pep.Record, []byte, error) {
	var data []byte
	r, err := scanRecord(s.rs.recordData.QueryRowContext(ctx, id), &data)
	if err != nil {
		return pep.Record{}, nil, err
	}
	if data == nil {
		data = []byte{}
	}
	return r, data, nil
}

// Owner implements pep.Store.
func (s *Store) Owner(ctx context.Context, id string) (string, bool, error) {
	var subject string
	var deleted int
	err := s.r.QueryRowContext(ctx, `SELECT subject, 0 FROM pii WHERE id = ?
		UNION ALL SELECT subject, 1 FROM tombstones WHERE pii = ? LIMIT 1`, id, id).Scan(&subject, &deleted)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, pep.ErrNotFound
	}
	if err != nil {
		return "", false, fmt.Errorf("store: %w", err)
	}
	return subject, deleted == 1, nil
}

func (s *Store) queryRecords(ctx context.Context, query string, args ...any) ([]pep.Record, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	out := []pep.Record{}
	for rows.Next() {
		r, err := scanRecord(rows, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return out, nil
}

// RecordsBySubject implements pep.Store.
func (s *Store) RecordsBySubject(ctx context.Context, subject string) ([]pep.Record, error) {
	return s.queryRecords(ctx, `SELECT `+recordColumns+` FROM pii WHERE subject = ? ORDER BY stored_at, rowid`, subject)
}

// RecordCandidates implements pep.Store: the records a controller stored,
// those disclosed to it, and those whose policy text contains its name.
func (s *Store) RecordCandidates(ctx context.Context, name string) ([]pep.Record, error) {
	return s.queryRecords(ctx, `SELECT `+recordColumns+` FROM pii
		WHERE stored_by = ? OR id IN (SELECT pii FROM disclosures WHERE recipient = ?) OR instr(policy, ?) > 0
		ORDER BY stored_at, rowid`, name, name, []byte(name))
}

// Disclosed implements pep.Store.
func (s *Store) Disclosed(ctx context.Context, pii, recipient string) (pep.Disclosure, bool, error) {
	d := pep.Disclosure{PII: pii}
	var t int64
	err := s.rs.disclosed.QueryRowContext(ctx, pii, recipient).Scan(&d.Recipient, &d.Purpose, &d.By, &t)
	if errors.Is(err, sql.ErrNoRows) {
		return pep.Disclosure{}, false, nil
	}
	if err != nil {
		return pep.Disclosure{}, false, fmt.Errorf("store: %w", err)
	}
	d.Time = unixTime(t)
	return d, true, nil
}

// Disclosures lists a record's disclosures, oldest first.
func (s *Store) Disclosures(ctx context.Context, pii string) ([]pep.Disclosure, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT recipient, purpose, disclosed_by, time FROM disclosures WHERE pii = ? ORDER BY id`, pii)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	out := []pep.Disclosure{}
	for rows.Next() {
		d := pep.Disclosure{PII: pii}
		var t int64
		if err := rows.Scan(&d.Recipient, &d.Purpose, &d.By, &t); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		d.Time = unixTime(t)
		out = append(out, d)
	}
	return out, rows.Err()
}

// Preferences implements pep.Store.
func (s *Store) Preferences(ctx context.Context, subject string) ([]byte, error) {
	var xml []byte
	err := s.r.QueryRowContext(ctx, `SELECT policy FROM preferences WHERE subject = ?`, subject).Scan(&xml)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, pep.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return xml, nil
}

// Events implements pep.Store.
func (s *Store) Events(ctx context.Context, pii string) ([]pep.Event, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT e.seq, e.time, e.type, e.principal, coalesce(ip.identity, ''), e.purpose,
			e.recipient, coalesce(ir.identity, ''), e.decision, e.reason, e.policy_hash, e.prev, e.hash
		FROM events e
		LEFT JOIN identities ip ON ip.pseudonym = e.principal AND e.principal <> ''
		LEFT JOIN identities ir ON ir.pseudonym = e.recipient AND e.recipient <> ''
		WHERE e.pii = ? ORDER BY e.seq`, pii)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	out := []pep.Event{}
	for rows.Next() {
		e := pep.Event{PII: pii}
		var t int64
		var pIdent, rIdent string
		if err := rows.Scan(&e.Seq, &t, &e.Type, &e.Principal, &pIdent, &e.Purpose, &e.Recipient, &rIdent,
			&e.Decision, &e.Reason, &e.PolicyHash, &e.Prev, &e.Hash); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		e.Time = unixTime(t)
		// The chain holds pseudonyms (also inside the reason); show the
		// identities while they are known.
		if pIdent != "" {
			e.Reason = strings.ReplaceAll(e.Reason, e.Principal, pIdent)
			e.Principal = pIdent
		}
		if rIdent != "" {
			e.Reason = strings.ReplaceAll(e.Reason, e.Recipient, rIdent)
			e.Recipient = rIdent
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// AllRecords lists every record's metadata, oldest first (for admins).
func (s *Store) AllRecords(ctx context.Context) ([]pep.Record, error) {
	return s.queryRecords(ctx, `SELECT `+recordColumns+` FROM pii ORDER BY stored_at, rowid`)
}
