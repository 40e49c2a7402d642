package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/stickypolicy/sticky/pep"
)

// errDryRun rolls a dry run's transaction back after its report is made.
var errDryRun = errors.New("store: dry run")

// forgetTables are the tables forget reports on, in report order.
var forgetTables = []string{"pii", "deleted_pii", "pseudonymised", "disclosures", "policy_history", "tombstones", "events",
	"jobs", "notifications", "preferences", "subject_keys", "identities", "tokens", "principals"}

// Forget implements pep.RightsStore (see pep.ForgetRequest). The dry run
// runs the very same statements in a transaction that is rolled back, so
// its report is exactly what the real run would do.
func (s *Store) Forget(ctx context.Context, req pep.ForgetRequest) (pep.ForgetReport, error) {
	var rep pep.ForgetReport
	err := s.WriteTx(ctx, func(t *Tx) error {
		var err error
		if rep, err = t.forget(ctx, req); err != nil {
			return err
		}
		if req.DryRun {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	if err == nil && !req.DryRun && !rep.AlreadyForgotten {
		// The scan reads every table: after the commit, on a reader, so
		// that it never holds up writers.
		kept, serr := references(ctx, s.r, req.Subject)
		if serr != nil {
			return rep, serr
		}
		if len(kept) > 0 {
			rep.ReferencesKept = kept
		}
	}
	return rep, err
}

type erasedRow struct {
	id, storedBy, policyHash string
	binned                   bool
	recipients               []string
}

func (t *Tx) forget(ctx context.Context, req pep.ForgetRequest) (pep.ForgetReport, error) {
	subj := req.Subject
	rep := pep.ForgetReport{Report: req.ReportID, Subject: subj, DryRun: req.DryRun, Time: req.Now.UTC(),
		Records: []string{}, Tables: map[string]int{}}
	for _, tbl := range forgetTables {
		rep.Tables[tbl] = 0
	}
	if subj == "" || req.By == "" || req.Placeholder == "" || req.Placeholder == subj {
		return rep, fmt.Errorf("%w: forget needs a subject, who asks and a placeholder", pep.ErrInvalidInput)
	}
	q := t.tx
	var known int
	if err := q.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM principals WHERE name = ?1) + (SELECT count(*) FROM pii WHERE subject = ?1) +
			(SELECT count(*) FROM deleted_pii WHERE subject = ?1) + (SELECT count(*) FROM tombstones WHERE subject = ?1) +
			(SELECT count(*) FROM preferences WHERE subject = ?1) + (SELECT count(*) FROM subject_keys WHERE subject = ?1) +
			(SELECT count(*) FROM identities WHERE identity = ?1 OR subject = ?1)`, subj).Scan(&known); err != nil {
		return rep, fmt.Errorf("store: %w", err)
	}
	digest, err := t.forgetDigest(ctx, subj)
	if err != nil {
		return rep, err
	}
	if known == 0 {
		var n int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM forgotten WHERE digest = ?`, digest).Scan(&n); err != nil {
			return rep, fmt.Errorf("store: %w", err)
		}
		if n == 0 {
			return rep, fmt.Errorf("%w: no data subject %q is known", pep.ErrNotFound, subj)
		}
		rep.AlreadyForgotten = true
		return rep, nil
	}

	// The records and who they reached.
	var erased []erasedRow
	rows, err := q.QueryContext(ctx, `SELECT id, stored_by, policy_hash, 0, '[]' FROM pii WHERE subject = ?1
		UNION ALL SELECT id, stored_by, policy_hash, 1, disclosures FROM deleted_pii WHERE subject = ?1`, subj)
	if err != nil {
		return rep, fmt.Errorf("store: %w", err)
	}
	for rows.Next() {
		var e erasedRow
		var binned int
		var discl string
		if err := rows.Scan(&e.id, &e.storedBy, &e.policyHash, &binned, &discl); err != nil {
			rows.Close()
			return rep, fmt.Errorf("store: %w", err)
		}
		e.binned = binned != 0
		var ds []binDisclosure
		if err := json.Unmarshal([]byte(discl), &ds); err != nil {
			rows.Close()
			return rep, fmt.Errorf("store: deleted record %s: %w", e.id, err)
		}
		for _, d := range ds {
			e.recipients = append(e.recipients, d.Recipient)
		}
		erased = append(erased, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("store: %w", err)
	}
	ids := make([]string, len(erased))
	for i := range erased {
		e := &erased[i]
		ids[i] = e.id
		if !e.binned {
			rs, err := t.strings(ctx, `SELECT DISTINCT recipient FROM disclosures WHERE pii = ? ORDER BY recipient`, e.id)
			if err != nil {
				return rep, err
			}
			e.recipients = append(e.recipients, rs...)
		}
		e.recipients = append(e.recipients, e.storedBy)
		slices.Sort(e.recipients)
		e.recipients = slices.Compact(slices.DeleteFunc(e.recipients, func(r string) bool { return r == subj || r == "" }))
	}
	rep.Records = append(rep.Records, ids...)
	// Records erased before keep a tombstone naming the subject and a
	// policy history: they are cleaned too, but not erased again.
	tombs, err := t.strings(ctx, `SELECT pii FROM tombstones WHERE subject = ? ORDER BY pii`, subj)
	if err != nil {
		return rep, err
	}
	idList, err := json.Marshal(append(slices.Clone(ids), tombs...))
	if err != nil {
		return rep, err
	}
	inIDs := `(SELECT value FROM json_each(?))`

	exec := func(table, query string, args ...any) error {
		res, err := q.ExecContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("store: forget: %s: %w", table, err)
		}
		n, _ := res.RowsAffected()
		rep.Tables[table] += int(n)
		return nil
	}
	count := func(table, query string, args ...any) error {
		var n int
		if err := q.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
			return fmt.Errorf("store: forget: %s: %w", table, err)
		}
		rep.Tables[table] += n
		return nil
	}

	// Tokens stop working when the principal goes (ON DELETE CASCADE).
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM tokens WHERE principal = ? AND revoked IS NULL`, subj).Scan(&rep.TokensRevoked); err != nil {
		return rep, fmt.Errorf("store: %w", err)
	}
	steps := []struct {
		table, query string
		args         []any
		count        bool
	}{
		// The records: disclosures go with them (ON DELETE CASCADE), so
		// count them first.
		{"disclosures", `SELECT count(*) FROM disclosures WHERE pii IN ` + inIDs, []any{string(idList)}, true},
		{"pii", `DELETE FROM pii WHERE subject = ?`, []any{subj}, false},
		{"deleted_pii", `DELETE FROM deleted_pii WHERE subject = ?`, []any{subj}, false},
		{"pseudonymised", `DELETE FROM pseudonymised WHERE subject = ?1 OR pii IN ` + `(SELECT value FROM json_each(?2))`, []any{subj, string(idList)}, false},
		// Policies that name the subject go; the others stay, so that the
		// erased records' logs can still be checked (loganalyser).
		{"policy_history", `DELETE FROM policy_history WHERE pii IN (SELECT value FROM json_each(?1))
			AND instr(lower(CAST(policy AS TEXT)), lower(?2)) > 0`, []any{string(idList), subj}, false},
		{"jobs", `DELETE FROM jobs WHERE owner = ?1 OR address = ?1 OR pii IN (SELECT value FROM json_each(?2))
			OR (state IN ('done', 'cancelled') AND instr(payload, json_quote(?1)) > 0)`, []any{subj, string(idList)}, false},
		{"notifications", `DELETE FROM notifications WHERE recipient = ?1 OR principal = ?1 OR instr(text, ?1) > 0
			OR pii IN (SELECT value FROM json_each(?2))`, []any{subj, string(idList)}, false},
		// What else is the subject's or names it.
		{"disclosures", `DELETE FROM disclosures WHERE recipient = ?1 OR disclosed_by = ?1`, []any{subj}, false},
		{"preferences", `DELETE FROM preferences WHERE subject = ?`, []any{subj}, false},
		{"subject_keys", `DELETE FROM subject_keys WHERE subject = ?`, []any{subj}, false},
		{"identities", `DELETE FROM identities WHERE subject = ?1 OR identity = ?1`, []any{subj}, false},
		{"tokens", `SELECT count(*) FROM tokens WHERE principal = ?`, []any{subj}, true},
		{"principals", `DELETE FROM principals WHERE name = ?`, []any{subj}, false},
		// Erased records keep their event logs, owned by the placeholder.
		{"tombstones", `UPDATE tombstones SET subject = ?1 WHERE subject = ?2`, []any{req.Placeholder, subj}, false},
	}
	for _, st := range steps {
		if st.count {
			err = count(st.table, st.query, st.args...)
		} else {
			err = exec(st.table, st.query, st.args...)
		}
		if err != nil {
			return rep, err
		}
	}
	t.MarkErased()

	// Each erased record's chain ends with the erasure, written under the
	// placeholder's key: no identity of the subject is recorded again.
	by := req.By
	out := make([]pep.ErasedRecord, 0, len(erased))
	recipients := map[string]bool{}
	for _, e := range erased {
		if !e.binned {
			if err := exec("tombstones", `INSERT OR REPLACE INTO tombstones (pii, subject, deleted_at) VALUES (?, ?, ?)`,
				e.id, req.Placeholder, req.Now.UnixNano()); err != nil {
				return rep, err
			}
		}
		typ := pep.EventDeleted
		if e.binned {
			typ = pep.EventErased
		}
		if _, err := t.AppendEvent(ctx, pep.EventInput{PII: e.id, Subject: req.Placeholder, Time: req.Now, Type: typ,
			Principal: by, Decision: "Permit", PolicyHash: e.policyHash,
			Reason: "erased on its data subject's request (right to erasure, report " + req.ReportID + ")"}); err != nil {
			return rep, err
		}
		rep.Tables["events"]++
		er := pep.ErasedRecord{ID: e.id, Binned: e.binned}
		for _, r := range e.recipients {
			var email string
			if err := q.QueryRowContext(ctx, `SELECT coalesce((SELECT email FROM principals WHERE name = ?), '')`, r).Scan(&email); err != nil {
				return rep, fmt.Errorf("store: %w", err)
			}
			er.Recipients = append(er.Recipients, pep.NoticeTarget{Identity: r, Email: email})
			recipients[r] = true
		}
		out = append(out, er)
	}
	if req.Notices != nil {
		jobs := req.Notices(out)
		if err := enqueue(ctx, q, jobs, req.Now); err != nil {
			return rep, err
		}
		rep.Notices = len(jobs)
	}
	for r := range recipients {
		rep.Recipients = append(rep.Recipients, r)
	}
	slices.Sort(rep.Recipients)
	rep.RecipientsCount = len(rep.Recipients)

	if req.DryRun {
		// What would be left, seen from inside the rolled-back transaction.
		kept, err := references(ctx, q, subj)
		if err != nil {
			return rep, err
		}
		if len(kept) > 0 {
			rep.ReferencesKept = kept
		}
	}
	if _, err := q.ExecContext(ctx, `INSERT OR REPLACE INTO forgotten (digest, report, time) VALUES (?, ?, ?)`,
		digest, req.ReportID, req.Now.UnixNano()); err != nil {
		return rep, fmt.Errorf("store: %w", err)
	}
	keptCopy := rep
	keptCopy.Subject, keptCopy.Recipients, keptCopy.ReferencesKept = "", nil, nil
	js, err := json.Marshal(keptCopy)
	if err != nil {
		return rep, err
	}
	if err := t.saveReport(ctx, req.ReportID, "forget", req.Now, js); err != nil {
		return rep, err
	}
	return rep, nil
}

func (t *Tx) strings(ctx context.Context, query string, args ...any) ([]string, error) {
	return queryStrings(ctx, t.tx, query, args...)
}

func queryStrings(ctx context.Context, q queryer, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// references counts, in every text and blob column of every table, the
// rows that still contain identity, as "table.column" → rows.
func references(ctx context.Context, q queryer, identity string) (map[string]int, error) {
	tables, err := queryStrings(ctx, q, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, tbl := range tables {
		rows, err := q.QueryContext(ctx, `SELECT name, upper(type) FROM pragma_table_info(?)`, tbl)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		var cols []string
		for rows.Next() {
			var name, typ string
			if err := rows.Scan(&name, &typ); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: %w", err)
			}
			if typ == "" || strings.Contains(typ, "TEXT") || strings.Contains(typ, "BLOB") || strings.Contains(typ, "CHAR") {
				cols = append(cols, name)
			}
		}
		rows.Close()
		for _, c := range cols {
			var n int
			qt := `"` + strings.ReplaceAll(tbl, `"`, `""`) + `"`
			qc := `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
			if err := q.QueryRowContext(ctx, `SELECT count(*) FROM `+qt+` WHERE instr(CAST(`+qc+` AS BLOB), CAST(? AS BLOB)) > 0`,
				identity).Scan(&n); err != nil {
				return nil, fmt.Errorf("store: scanning %s.%s: %w", tbl, c, err)
			}
			if n > 0 {
				out[tbl+"."+c] = n
			}
		}
	}
	return out, nil
}
