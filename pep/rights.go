package pep

import (
	"context"
	"time"

	"github.com/stickypolicy/sticky/obligations"
)

// This file declares what the data-subject rights use cases (export,
// forget, restore, operator rules, audit-log retention) need from storage;
// internal/store implements it.

// Record states set by operator rules (see pep/rules).
const (
	StatePseudonymised = "pseudonymised"
	StateAnonymised    = "anonymised"
)

// Event types written by the data-subject rights use cases.
const (
	EventAnonymised    = "anonymised"    // an operator rule anonymised the record
	EventPseudonymised = "pseudonymised" // an operator rule pseudonymised the record
	EventRestored      = "restored"      // a deleted record came back within its restore window
	EventErased        = "erased"        // a deleted record's bytes were erased when its restore window ended
	EventReidentified  = "reidentified"  // an admin read a pseudonymised original
	EventExported      = "exported"      // an admin exported the record with its subject's data
)

// Obligation ids of the jobs the rights use cases enqueue.
const (
	// ErasureNoticeID: a recipient is told that a record shared with it
	// was erased on its data subject's request and must be erased.
	ErasureNoticeID = obligations.ErasureNoticeID
	// RestoreWindowID: the permanent erasure of a deleted record when its
	// restore window ends.
	RestoreWindowID = "sticky:restore-window"
)

// HeldRecord is a record held on a data subject, as exported: its metadata,
// its bytes, and where it is in its life.
type HeldRecord struct {
	Record
	Data     []byte
	Category string
	State    string // "", StatePseudonymised or StateAnonymised
	// Deleted is set for a record deleted within its restore window;
	// EraseAt is when its bytes go.
	Deleted   bool
	DeletedAt time.Time
	EraseAt   time.Time
	// Disclosures of a deleted record (restored with it).
	Disclosures []Disclosure
	// Original is the pseudonymised original, when State is
	// StatePseudonymised.
	Original *PseudonymisedOriginal
}

// PseudonymisedOriginal is what a pseudonymise rule kept apart.
type PseudonymisedOriginal struct {
	ID          string // random; the record's bytes reference it
	PII         string
	Subject     string
	Rule        string
	ContentType string
	Encrypted   bool
	Data        []byte
	Created     time.Time
}

// RightsStore is what the data-subject rights use cases need beyond Store.
type RightsStore interface {
	// HeldRecords lists every record held on subject, live ones and those
	// deleted within their restore window, oldest first, with their bytes.
	HeldRecords(ctx context.Context, subject string) ([]HeldRecord, error)
	// ErasedRecords lists the ids of the subject's erased records whose
	// event logs remain.
	ErasedRecords(ctx context.Context, subject string) ([]string, error)
	// Disclosures lists a live record's disclosures, oldest first.
	Disclosures(ctx context.Context, pii string) ([]Disclosure, error)
	// Binned returns a record deleted within its restore window, or
	// ErrNotFound.
	Binned(ctx context.Context, id string) (HeldRecord, error)
	// RuleRecords lists every live record's metadata with its category and
	// rule state (no bytes), oldest first.
	RuleRecords(ctx context.Context) ([]HeldRecord, error)
	// RuleState returns a live record's rule state ("", StatePseudonymised
	// or StateAnonymised), or ErrNotFound.
	RuleState(ctx context.Context, id string) (string, error)
	// Pseudonymised returns a pseudonymised original, or ErrNotFound.
	Pseudonymised(ctx context.Context, id string) (PseudonymisedOriginal, error)
	// Forget erases everything held on a subject (see ForgetRequest).
	Forget(ctx context.Context, req ForgetRequest) (ForgetReport, error)
	// PurgeAuditLog applies audit-log retention (see AuditPurge).
	PurgeAuditLog(ctx context.Context, before, now time.Time) (AuditPurge, error)
	// SaveReport keeps a report (JSON without PII) of a rights operation.
	SaveReport(ctx context.Context, id, kind string, now time.Time, report []byte) error
}

// RightsTx is what the rights use cases need from a write transaction
// beyond Tx; internal/store's Tx implements it.
type RightsTx interface {
	// ReplaceData replaces a live record's bytes and content type and sets
	// its rule state; the old bytes are overwritten (secure_delete).
	ReplaceData(ctx context.Context, id string, data []byte, contentType, state string) error
	// KeepPseudonymised stores a pseudonymised original.
	KeepPseudonymised(ctx context.Context, o PseudonymisedOriginal) error
	// DropPseudonymised erases a record's pseudonymised originals and
	// returns how many.
	DropPseudonymised(ctx context.Context, pii string) (int, error)
	// BinRecord copies a live record (bytes and disclosures) into the
	// restore bin; the caller then deletes it with DeleteRecord.
	BinRecord(ctx context.Context, id string, deletedAt, eraseAt time.Time) error
	// RestoreRecord moves a binned record back (with its disclosures),
	// removes its tombstone and returns it; ErrNotFound when it is not in
	// the bin.
	RestoreRecord(ctx context.Context, id string) (Record, error)
	// PurgeBinned erases a binned record's bytes; false when it was not in
	// the bin.
	PurgeBinned(ctx context.Context, id string) (Record, bool, error)
	// CancelJobs cancels a record's pending jobs of one obligation id.
	CancelJobs(ctx context.Context, pii, obligation string, now time.Time) (int, error)
	// SetCategory sets a live record's category label.
	SetCategory(ctx context.Context, id, category string) error
}

// ForgetRequest asks the store to erase everything held on Subject, in one
// transaction (rolled back when DryRun):
//   - the subject's records (live and binned: bytes gone, secure_delete),
//     their pseudonymised originals, the policies in their history that
//     name the subject (the others stay, so that the logs can still be
//     checked), disclosures, jobs and
//     the inbox notifications about them; a tombstone under Placeholder
//     keeps each erased record's event log readable by admins, and a
//     "deleted" (or, for a binned record, "erased") event ends its chain;
//   - the subject's principal and tokens, preferences, pseudonym key,
//     identity rows (its own and those of the pseudonyms under its key),
//     its inbox, and the disclosures to or by it;
//   - then it enqueues Notices(erased) and remembers a keyed hash of the
//     subject so that a second forget reports "already forgotten".
type ForgetRequest struct {
	Subject     string
	By          string // who asked as the erasure events show it: the admin, or SystemPrincipal when the subject asked (never the subject)
	ReportID    string
	Placeholder string // replaces the subject in tombstones and new events
	Now         time.Time
	DryRun      bool
	Notices     func(erased []ErasedRecord) []obligations.Job
}

// ErasedRecord is one record forget erased, with those it had reached.
type ErasedRecord struct {
	ID         string         `json:"id"`
	Binned     bool           `json:"binned,omitempty"`
	Recipients []NoticeTarget `json:"-"`
}

// NoticeTarget is a downstream recipient of a record: its identity and its
// registered e-mail address (empty when none).
type NoticeTarget struct {
	Identity string
	Email    string
}

// ForgetReport says what forget touched (or, for a dry run, would touch).
type ForgetReport struct {
	Report           string    `json:"report"`
	Subject          string    `json:"subject,omitempty"` // absent from the kept copy
	DryRun           bool      `json:"dry_run"`
	AlreadyForgotten bool      `json:"already_forgotten"`
	Time             time.Time `json:"time"`
	// Records are the ids of the erased records.
	Records []string `json:"records"`
	// Tables counts the rows deleted or changed, per table.
	Tables map[string]int `json:"tables"`
	// TokensRevoked counts the subject's tokens that stopped working.
	TokensRevoked int `json:"tokens_revoked"`
	// Recipients are the downstream recipients told to erase their copies
	// (absent from the kept copy: only their number is kept).
	Recipients      []string `json:"recipients_notified,omitempty"`
	RecipientsCount int      `json:"recipients_notified_count"`
	Notices         int      `json:"notices"`
	// ReferencesKept names the places (table.column) where the identity
	// still occurs after forget, with a count: text that is not the
	// subject's own (another subject's policy naming it) or that a hash
	// chain seals (an event's reason). Empty in the normal case.
	ReferencesKept map[string]int `json:"references_kept,omitempty"`
}

// AuditPurge says what audit-log retention removed.
type AuditPurge struct {
	// Chains counts the records whose whole event chain was removed (the
	// record is gone and its newest event is older than the window); a
	// checkpoint keeps each chain's last seq and hash.
	Chains int `json:"chains"`
	// Events counts the event rows removed.
	Events int `json:"events"`
	// Jobs counts finished obligation jobs removed.
	Jobs int `json:"jobs"`
	// Reports counts rights reports removed.
	Reports int `json:"reports"`
}
