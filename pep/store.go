package pep

import (
	"context"
	"time"
)

// Record is a stored record's metadata: everything but its bytes.
type Record struct {
	ID            string
	Subject       string // the data subject, owner of the record
	StoredBy      string // the principal that stored it (the subject or a controller)
	ContentType   string
	Policy        []byte // the sticky policy XML in force
	PolicyVersion int64  // 1 at storage, +1 at each update
	PolicyHash    string // hex SHA-256 of Policy
	Encrypted     bool
	StoredAt      time.Time
	DeleteAt      time.Time // retention deadline; zero when none
	Size          int64     // length of the bytes
}

// Disclosure is one downstream sharing of a record.
type Disclosure struct {
	PII       string
	Recipient string
	Purpose   string
	By        string
	Time      time.Time
}

// Event is one entry of a record's hash-chained event log, as stored.
// Principal and Recipient are pseudonyms in the chain; Events resolves them
// to identities where the identity is still known.
type Event struct {
	PII        string
	Seq        int64
	Time       time.Time
	Type       string
	Principal  string
	Purpose    string
	Recipient  string
	Decision   string
	Reason     string
	PolicyHash string
	Prev       string
	Hash       string
}

// EventInput is what pep asks the store to append to a record's log. The store
// pseudonymises Principal and Recipient under Subject's key, numbers the event
// and chains it to the previous one, all inside the write transaction.
type EventInput struct {
	PII        string
	Subject    string // the record's data subject (whose key pseudonymises)
	Time       time.Time
	Type       string
	Principal  string // identity
	Purpose    string
	Recipient  string // identity
	Decision   string
	Reason     string
	PolicyHash string
}

// Event types written by pep.
const (
	EventStored        = "stored"
	EventAccessed      = "accessed"
	EventSubjectAccess = "subject_access"
	EventDenied        = "denied"
	EventDisclosed     = "disclosed"
	EventPolicyUpdated = "policy_updated"
	EventDeleted       = "deleted"
)

// Store is what pep needs from storage. Reads may run concurrently on a pool
// of readers; writes go through Write, one transaction at a time.
// internal/store implements it; peptest.Exercise checks an implementation.
type Store interface {
	// PrincipalByToken returns the principal holding an active token with
	// this hash, or ErrNotFound.
	PrincipalByToken(ctx context.Context, hash TokenHash) (Principal, error)
	// Principal returns the named principal, or ErrNotFound.
	Principal(ctx context.Context, name string) (Principal, error)
	// Record returns a record's metadata, or ErrNotFound.
	Record(ctx context.Context, id string) (Record, error)
	// RecordData returns a record's metadata and bytes, or ErrNotFound.
	RecordData(ctx context.Context, id string) (Record, []byte, error)
	// Owner returns the subject of a record that exists or existed (deleted
	// records leave a tombstone), whether it was deleted, or ErrNotFound.
	Owner(ctx context.Context, id string) (subject string, deleted bool, err error)
	// RecordsBySubject lists a subject's records, oldest first.
	RecordsBySubject(ctx context.Context, subject string) ([]Record, error)
	// RecordCandidates lists the records a controller might access: those it
	// stored, those disclosed to it and those whose policy names it, oldest first.
	RecordCandidates(ctx context.Context, name string) ([]Record, error)
	// Disclosed reports whether the record was disclosed to recipient, and by
	// whom (the latest disclosure).
	Disclosed(ctx context.Context, pii, recipient string) (Disclosure, bool, error)
	// Preferences returns a subject's registered preferences XML, or ErrNotFound.
	Preferences(ctx context.Context, subject string) ([]byte, error)
	// Events returns a record's events, oldest first, with principals and
	// recipients resolved to identities where known.
	Events(ctx context.Context, pii string) ([]Event, error)
	// Write runs fn in one write transaction: committed when fn returns nil,
	// rolled back otherwise (fn's error is returned).
	Write(ctx context.Context, fn func(Tx) error) error
}

// Tx is a write transaction.
type Tx interface {
	// PolicyVersion returns the record's current policy version and retention
	// deadline as seen by this transaction, or ErrNotFound.
	PolicyVersion(ctx context.Context, id string) (int64, time.Time, error)
	// InsertRecord stores a new record (PolicyVersion 1) and its bytes.
	InsertRecord(ctx context.Context, r Record, data []byte) error
	// UpdatePolicy replaces a record's policy, version, hash and deadline.
	UpdatePolicy(ctx context.Context, id string, policy []byte, version int64, hash string, deleteAt time.Time, now time.Time) error
	// DeleteRecord erases a record's row (and bytes) and leaves a tombstone.
	// It returns ErrNotFound when there is no such record.
	DeleteRecord(ctx context.Context, id string, now time.Time) error
	// InsertDisclosure records a downstream disclosure.
	InsertDisclosure(ctx context.Context, d Disclosure) error
	// SetPreferences registers a subject's preferences XML.
	SetPreferences(ctx context.Context, subject string, xml []byte, now time.Time) error
	// AppendEvent appends an event to a record's chain and returns it as stored.
	AppendEvent(ctx context.Context, in EventInput) (Event, error)
}
