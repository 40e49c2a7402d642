package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/stickypolicy/sticky/internal/audit"
	"github.com/stickypolicy/sticky/pep"
)

// AuditLog is everything the store holds on one record's event log, for
// `stickyd log export` and `loganalyser --data`.
type AuditLog struct {
	PII string
	// Subject is the record's data subject (identity) and SubjectPseudonym
	// its pseudonym under its own key ("" once the subject was forgotten).
	Subject          string
	SubjectPseudonym string
	// Deleted tells whether the record's data is gone (a tombstone).
	Deleted bool
	// Entries is the hash chain exactly as stored (pseudonyms, not
	// identities), oldest first.
	Entries []audit.Entry
	// Policies is every policy the record has had, oldest first (from
	// policy_history, which outlives the record).
	Policies []audit.PolicyRef
	// Identities maps each pseudonym of Entries whose identity is still
	// known to it.
	Identities map[string]string
}

// AuditLog returns record pii's event log as stored. It fails with an error
// wrapping pep.ErrNotFound when the store has neither the record nor any
// event of it.
func (s *Store) AuditLog(ctx context.Context, pii string) (AuditLog, error) {
	l := AuditLog{PII: pii, Identities: map[string]string{}}
	owner, deleted, err := s.Owner(ctx, pii)
	switch {
	case errors.Is(err, pep.ErrNotFound):
	case err != nil:
		return AuditLog{}, err
	default:
		l.Subject, l.Deleted = owner, deleted
	}
	rows, err := s.r.QueryContext(ctx, `SELECT e.seq, e.time, e.type, e.principal, e.purpose, e.recipient, e.decision,
			e.reason, e.policy_hash, e.prev, e.hash, coalesce(ip.identity, ''), coalesce(ir.identity, '')
		FROM events e
		LEFT JOIN identities ip ON ip.pseudonym = e.principal AND e.principal <> ''
		LEFT JOIN identities ir ON ir.pseudonym = e.recipient AND e.recipient <> ''
		WHERE e.pii = ? ORDER BY e.seq`, pii)
	if err != nil {
		return AuditLog{}, fmt.Errorf("store: reading the event log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e := audit.Entry{PII: pii}
		var t int64
		var pIdent, rIdent string
		if err := rows.Scan(&e.Seq, &t, &e.Type, &e.Principal, &e.Purpose, &e.Recipient, &e.Decision, &e.Reason,
			&e.PolicyHash, &e.Prev, &e.Hash, &pIdent, &rIdent); err != nil {
			return AuditLog{}, fmt.Errorf("store: reading the event log: %w", err)
		}
		e.Time = unixTime(t)
		if pIdent != "" {
			l.Identities[e.Principal] = pIdent
		}
		if rIdent != "" {
			l.Identities[e.Recipient] = rIdent
		}
		l.Entries = append(l.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return AuditLog{}, fmt.Errorf("store: reading the event log: %w", err)
	}
	if l.Subject == "" && len(l.Entries) == 0 {
		return AuditLog{}, fmt.Errorf("store: record %q: %w", pii, pep.ErrNotFound)
	}
	prows, err := s.r.QueryContext(ctx, `SELECT version, hash, policy, time FROM policy_history WHERE pii = ? ORDER BY version`, pii)
	if err != nil {
		return AuditLog{}, fmt.Errorf("store: reading the record's policies: %w", err)
	}
	defer prows.Close()
	for prows.Next() {
		var p audit.PolicyRef
		var xml []byte
		var t int64
		if err := prows.Scan(&p.Version, &p.Hash, &xml, &t); err != nil {
			return AuditLog{}, fmt.Errorf("store: reading the record's policies: %w", err)
		}
		p.XML, p.Since = string(xml), unixTime(t)
		l.Policies = append(l.Policies, p)
	}
	if err := prows.Err(); err != nil {
		return AuditLog{}, fmt.Errorf("store: reading the record's policies: %w", err)
	}
	if l.Subject != "" {
		var key []byte
		err := s.r.QueryRowContext(ctx, `SELECT key FROM subject_keys WHERE subject = ?`, l.Subject).Scan(&key)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return AuditLog{}, fmt.Errorf("store: reading the subject's key: %w", err)
		default:
			l.SubjectPseudonym = audit.Pseudonym(key, l.Subject)
		}
	}
	return l, nil
}

// Export returns the record's log in the export format. With identities,
// the header maps the log's pseudonyms to the identities still known.
func (l AuditLog) Export(identities bool) *audit.Log {
	h := audit.Header{PII: l.PII, Subject: l.SubjectPseudonym, Deleted: l.Deleted, Policies: l.Policies}
	if n := len(l.Policies); n > 0 {
		h.Policy = l.Policies[n-1].Hash
	}
	if identities && len(l.Identities) > 0 {
		h.Identities = l.Identities
	}
	return audit.NewLog(h, l.Entries)
}
