// Package audit is Sticky's tamper-evident event log: every event of a
// record (stored, accessed, denied, disclosed, policy_updated, notified,
// deleted, obligation_failed, ...) is an Entry on a per-record hash chain.
//
// Each entry's Hash is the SHA-256 of a canonical, versioned,
// length-prefixed encoding of all its fields, Prev included, and Prev is the
// Hash of the entry before it. The first entry's Prev is Genesis(pii), so a
// chain cannot be spliced onto another record. Verify walks a chain and
// names the first entry that does not fit.
//
// Principals and recipients appear in entries as keyed pseudonyms
// (Pseudonym: HMAC-SHA256 under the record subject's key). The identities
// behind them live elsewhere, so forgetting a person (deleting its identity
// rows and its key) leaves every chain verifiable.
//
// The package also defines the JSON-lines export format (Export, ReadLog)
// documented in docs/event-log.md.
package audit
