package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/stickypolicy/sticky/pep"
)

// AddPrincipal creates a principal holding one token (given by its hash).
// A principal with the same name is pep.ErrConflict.
func (s *Store) AddPrincipal(ctx context.Context, p pep.Principal, token pep.TokenHash) error {
	if err := pep.ValidateName(p.Name); err != nil {
		return err
	}
	if _, err := pep.ParseRole(string(p.Role)); err != nil {
		return err
	}
	if p.Created.IsZero() {
		p.Created = time.Now()
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM principals WHERE name = ?`, p.Name).Scan(&n); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("%w: principal %q already exists", pep.ErrConflict, p.Name)
	}
	created := p.Created.UnixNano()
	if _, err := tx.ExecContext(ctx, `INSERT INTO principals (name, role, email, created) VALUES (?, ?, ?, ?)`,
		p.Name, string(p.Role), p.Email, created); err != nil {
		return fmt.Errorf("store: adding principal: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO tokens (hash, principal, created) VALUES (?, ?, ?)`,
		token[:], p.Name, created); err != nil {
		return fmt.Errorf("store: adding token: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// AddToken gives an existing principal one more token.
func (s *Store) AddToken(ctx context.Context, name string, token pep.TokenHash, now time.Time) error {
	res, err := s.w.ExecContext(ctx, `INSERT INTO tokens (hash, principal, created)
		SELECT ?, name, ? FROM principals WHERE name = ?`, token[:], now.UnixNano(), name)
	if err != nil {
		return fmt.Errorf("store: adding token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: principal %q", pep.ErrNotFound, name)
	}
	return nil
}

// RevokeTokens revokes every active token of a principal and returns how many.
func (s *Store) RevokeTokens(ctx context.Context, name string, now time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE tokens SET revoked = ? WHERE principal = ? AND revoked IS NULL`, now.UnixNano(), name)
	if err != nil {
		return 0, fmt.Errorf("store: revoking tokens: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// PrincipalByToken implements pep.Store.
func (s *Store) PrincipalByToken(ctx context.Context, hash pep.TokenHash) (pep.Principal, error) {
	return scanPrincipal(s.rs.principalByToken.QueryRowContext(ctx, hash[:]))
}

// Principal implements pep.Store.
func (s *Store) Principal(ctx context.Context, name string) (pep.Principal, error) {
	return scanPrincipal(s.r.QueryRowContext(ctx, `SELECT name, role, email, created FROM principals WHERE name = ?`, name))
}

// Principals lists every principal, by name.
func (s *Store) Principals(ctx context.Context) ([]pep.Principal, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, role, email, created FROM principals ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []pep.Principal
	for rows.Next() {
		p, err := scanPrincipal(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

type scanner interface{ Scan(dest ...any) error }

func scanPrincipal(row scanner) (pep.Principal, error) {
	var p pep.Principal
	var role string
	var created int64
	if err := row.Scan(&p.Name, &role, &p.Email, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return pep.Principal{}, pep.ErrNotFound
		}
		return pep.Principal{}, fmt.Errorf("store: %w", err)
	}
	p.Role = pep.Role(role)
	p.Created = time.Unix(0, created).UTC()
	return p, nil
}
