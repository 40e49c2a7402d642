package store

import (
	"context"
	"database/sql"
	"fmt"
)

// writerStmts are the hot write-path statements, prepared once on the writer
// connection and bound into each transaction with tx.StmtContext.
type writerStmts struct {
	lastEvent     *sql.Stmt
	insertEvent   *sql.Stmt
	subjectKey    *sql.Stmt
	insertKey     *sql.Stmt
	insertIdent   *sql.Stmt
	policyVersion *sql.Stmt
	insertRecord  *sql.Stmt
	insertHistory *sql.Stmt
	ob            outboxStmts // outbox.go
}

func (w *writerStmts) all() []*sql.Stmt {
	return append([]*sql.Stmt{w.lastEvent, w.insertEvent, w.subjectKey, w.insertKey, w.insertIdent, w.policyVersion, w.insertRecord, w.insertHistory},
		w.ob.all()...)
}

// readerStmts are the hot read-path statements, prepared on the reader pool.
type readerStmts struct {
	principalByToken *sql.Stmt
	record           *sql.Stmt
	recordData       *sql.Stmt
	disclosed        *sql.Stmt
}

func (r *readerStmts) all() []*sql.Stmt {
	return []*sql.Stmt{r.principalByToken, r.record, r.recordData, r.disclosed}
}

// recordColumns are the metadata columns scanned by scanRecord.
const recordColumns = `id, subject, stored_by, content_type, policy, policy_version, policy_hash, encrypted, stored_at, delete_at, length(data)`

func (s *Store) prepare(ctx context.Context) error {
	type item struct {
		db   *sql.DB
		dst  **sql.Stmt
		text string
	}
	items := []item{
		{s.w, &s.ws.lastEvent, `SELECT seq, hash, time FROM events WHERE pii = ? ORDER BY seq DESC LIMIT 1`},
		{s.w, &s.ws.insertEvent, `INSERT INTO events (pii, seq, time, type, principal, purpose, recipient, decision, reason, policy_hash, prev, hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{s.w, &s.ws.subjectKey, `SELECT key FROM subject_keys WHERE subject = ?`},
		{s.w, &s.ws.insertKey, `INSERT INTO subject_keys (subject, key) VALUES (?, ?)`},
		{s.w, &s.ws.insertIdent, `INSERT OR IGNORE INTO identities (pseudonym, identity, subject) VALUES (?, ?, ?)`},
		{s.w, &s.ws.policyVersion, `SELECT policy_version, delete_at FROM pii WHERE id = ?`},
		{s.w, &s.ws.insertRecord, `INSERT INTO pii (id, subject, stored_by, content_type, data, policy, policy_version, policy_hash, encrypted, stored_at, delete_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{s.w, &s.ws.insertHistory, `INSERT INTO policy_history (pii, version, hash, policy, time) VALUES (?, ?, ?, ?, ?)`},
		{s.r, &s.rs.principalByToken, `SELECT p.name, p.role, p.email, p.created FROM tokens t JOIN principals p ON p.name = t.principal
			WHERE t.hash = ? AND t.revoked IS NULL`},
		{s.r, &s.rs.record, `SELECT ` + recordColumns + ` FROM pii WHERE id = ?`},
		{s.r, &s.rs.recordData, `SELECT ` + recordColumns + `, data FROM pii WHERE id = ?`},
		{s.r, &s.rs.disclosed, `SELECT recipient, purpose, disclosed_by, time FROM disclosures WHERE pii = ? AND recipient = ? ORDER BY id DESC LIMIT 1`},
	}
	for _, ob := range s.ws.ob.items() {
		items = append(items, item{s.w, ob.dst, ob.text})
	}
	for _, it := range items {
		st, err := it.db.PrepareContext(ctx, it.text)
		if err != nil {
			return fmt.Errorf("store: preparing %q: %w", it.text, err)
		}
		*it.dst = st
	}
	return nil
}
