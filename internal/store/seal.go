package store

import (
	"github.com/stickypolicy/sticky/internal/audit"
	"github.com/stickypolicy/sticky/pep"
)

// pseudonymOf is the pseudonym of identity under a subject's key
// (audit.Pseudonym).
func pseudonymOf(key []byte, identity string) string { return audit.Pseudonym(key, identity) }

// seal chains e after prev with audit.Seal (Prev is the record's genesis
// value for its first event).
func seal(prev string, e pep.Event) pep.Event {
	s := audit.Seal(prev, audit.Entry{
		PII: e.PII, Seq: e.Seq, Time: e.Time, Type: e.Type, Principal: e.Principal, Purpose: e.Purpose,
		Recipient: e.Recipient, Decision: e.Decision, Reason: e.Reason, PolicyHash: e.PolicyHash,
	})
	e.Prev, e.Hash, e.Time = s.Prev, s.Hash, s.Time
	return e
}
