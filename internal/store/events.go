package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/stickypolicy/sticky/internal/audit"
	"github.com/stickypolicy/sticky/pep"
)

// AppendEvent implements pep.Tx: it pseudonymises the principal and the
// recipient under the record subject's key (created on first use), records
// the pseudonyms' identities, numbers the event after the record's last one
// and seals it onto the record's hash chain.
func (t *Tx) AppendEvent(ctx context.Context, in pep.EventInput) (pep.Event, error) {
	tip := t.tip
	t.tip = nil
	// A notified event appended while EnqueueJobs delivers the notices of
	// the event this write just appended (same record, same owner, no
	// principal) follows that event: its owner was just resolved, its key
	// just read, and it is the record's last event.
	chained := t.follow && tip != nil && tip.pii == in.PII && tip.subject == in.Subject && in.Principal == ""
	var key []byte
	var err error
	if chained {
		key = tip.key
	} else {
		if err := t.forgottenOwner(ctx, &in); err != nil { // rights.go
			return pep.Event{}, err
		}
		if key, err = t.subjectKey(ctx, in.Subject); err != nil {
			return pep.Event{}, err
		}
	}
	principal, err := t.pseudonym(ctx, key, in.Subject, in.Principal)
	if err != nil {
		return pep.Event{}, err
	}
	recipient, err := t.pseudonym(ctx, key, in.Subject, in.Recipient)
	if err != nil {
		return pep.Event{}, err
	}
	// The reason is hashed into the chain: it must not keep the identities
	// that forgetting a person removes (audit: pseudonyms only).
	reason := in.Reason
	if in.Principal != "" {
		reason = strings.ReplaceAll(reason, in.Principal, principal)
	}
	if in.Recipient != "" {
		reason = strings.ReplaceAll(reason, in.Recipient, recipient)
	}
	var lastSeq, lastTime int64
	var lastHash string
	if chained {
		lastSeq, lastHash, lastTime = tip.seq, tip.hash, tip.time
	} else {
		err = t.stmt(ctx, t.s.ws.lastEvent).QueryRowContext(ctx, in.PII).Scan(&lastSeq, &lastHash, &lastTime)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return pep.Event{}, fmt.Errorf("store: reading the last event: %w", err)
		}
	}
	at := in.Time.UTC()
	if lastSeq > 0 && at.UnixNano() < lastTime {
		// Writes may commit in another order than their clock readings:
		// a chain's times never go backwards (audit.Verify checks it).
		at = unixTime(lastTime)
	}
	e := seal(lastHash, pep.Event{
		PII:        in.PII,
		Seq:        lastSeq + 1,
		Time:       at,
		Type:       in.Type,
		Principal:  principal,
		Purpose:    in.Purpose,
		Recipient:  recipient,
		Decision:   in.Decision,
		Reason:     reason,
		PolicyHash: in.PolicyHash,
	})
	if _, err := t.stmt(ctx, t.s.ws.insertEvent).ExecContext(ctx, e.PII, e.Seq, e.Time.UnixNano(), e.Type, e.Principal,
		e.Purpose, e.Recipient, e.Decision, e.Reason, e.PolicyHash, e.Prev, e.Hash); err != nil {
		return pep.Event{}, fmt.Errorf("store: appending event: %w", err)
	}
	t.tip = &chainTip{pii: e.PII, subject: in.Subject, key: key, seq: e.Seq, hash: e.Hash, time: e.Time.UnixNano()}
	return e, nil
}

// chainTip is an event just appended in this write: its record, the owner
// its event was logged under (after forgottenOwner), that owner's key, and
// its place on the chain.
type chainTip struct {
	pii, subject string
	key          []byte
	seq          int64
	hash         string
	time         int64
}

// subjectKey returns the subject's pseudonym key, creating it when missing.
func (t *Tx) subjectKey(ctx context.Context, subject string) ([]byte, error) {
	var key []byte
	err := t.stmt(ctx, t.s.ws.subjectKey).QueryRowContext(ctx, subject).Scan(&key)
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: reading subject key: %w", err)
	}
	key, err = audit.NewSubjectKey(t.s.rand)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if _, err := t.stmt(ctx, t.s.ws.insertKey).ExecContext(ctx, subject, key); err != nil {
		return nil, fmt.Errorf("store: saving subject key: %w", err)
	}
	return key, nil
}

// pseudonym returns identity's pseudonym under key and records the mapping;
// the empty identity stays empty.
func (t *Tx) pseudonym(ctx context.Context, key []byte, subject, identity string) (string, error) {
	if identity == "" {
		return "", nil
	}
	p := pseudonymOf(key, identity)
	if _, err := t.stmt(ctx, t.s.ws.insertIdent).ExecContext(ctx, p, identity, subject); err != nil {
		return "", fmt.Errorf("store: recording identity: %w", err)
	}
	return p, nil
}
