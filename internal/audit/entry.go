package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// Entry is one event of one record's log, as stored and as exported.
// Principal and Recipient are pseudonyms (see Pseudonym), never identities.
type Entry struct {
	PII        string    `json:"pii"`
	Seq        int64     `json:"seq"`
	Time       time.Time `json:"time"`
	Type       string    `json:"type"`
	Principal  string    `json:"principal"`
	Purpose    string    `json:"purpose"`
	Recipient  string    `json:"recipient"`
	Decision   string    `json:"decision"`
	Reason     string    `json:"reason"`
	PolicyHash string    `json:"policy_hash"`
	Prev       string    `json:"prev"`
	Hash       string    `json:"hash"`
}

// The event types of a record's log. The server writes the first group; the
// obligation handler writes the second.
const (
	TypeStored         = "stored"
	TypeAccessed       = "accessed"
	TypeSubjectAccess  = "subject_access"
	TypeDenied         = "denied"
	TypeDisclosed      = "disclosed"
	TypePolicyUpdated  = "policy_updated"
	TypeDeleted        = "deleted"
	TypeNotified       = "notified"
	TypeObligationFail = "obligation_failed"
	TypeLogged         = "logged"
	TypeAnonymised     = "anonymised"
	// Data-subject rights and operator rules (issue 7).
	TypePseudonymised = "pseudonymised"
	TypeRestored      = "restored"
	TypeErased        = "erased"
	TypeReidentified  = "reidentified"
	TypeExported      = "exported"
)

// EncodingVersion names the canonical encoding that Hash covers. It is
// hashed first, so that a future encoding can never collide with this one.
const EncodingVersion = "sticky-audit-v1"

// genesisDomain separates genesis values from entry hashes.
const genesisDomain = "sticky-audit-v1/genesis"

// Genesis returns the Prev of a record's first entry: the hex SHA-256 of
// "sticky-audit-v1/genesis", a zero byte and the record id.
func Genesis(pii string) string {
	h := sha256.New()
	h.Write([]byte(genesisDomain))
	h.Write([]byte{0})
	h.Write([]byte(pii))
	return hex.EncodeToString(h.Sum(nil))
}

// Seal returns e chained after prev: Prev set to prev (Genesis(e.PII) when
// prev is empty, i.e. for the record's first entry), Time normalised to UTC
// and Hash computed by ComputeHash.
func Seal(prev string, e Entry) Entry {
	if prev == "" {
		prev = Genesis(e.PII)
	}
	e.Prev = prev
	e.Time = e.Time.UTC()
	e.Hash = ComputeHash(e)
	return e
}

// ComputeHash returns the hex SHA-256 of e's canonical encoding: the
// EncodingVersion, then PII, Seq, Time, Type, Principal, Purpose,
// Recipient, Decision, Reason, PolicyHash and Prev, each string as an 8-byte
// big-endian length followed by its bytes, Seq as an 8-byte big-endian
// two's-complement integer and Time as its Unix nanoseconds the same way.
// Hash itself is not covered.
func ComputeHash(e Entry) string {
	var stack [1024]byte
	buf := appendEncoding(stack[:0], e)
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:])
}

// hashIs reports whether e's fields hash to h, without allocating.
func hashIs(e Entry, h string) bool {
	var stack [1024]byte
	sum := sha256.Sum256(appendEncoding(stack[:0], e))
	var hx [2 * sha256.Size]byte
	hex.Encode(hx[:], sum[:])
	return string(hx[:]) == h
}

// appendEncoding appends e's canonical encoding (see ComputeHash) to buf.
func appendEncoding(buf []byte, e Entry) []byte {
	str := func(buf []byte, s string) []byte {
		buf = binary.BigEndian.AppendUint64(buf, uint64(len(s)))
		return append(buf, s...)
	}
	buf = str(buf, EncodingVersion)
	buf = str(buf, e.PII)
	buf = binary.BigEndian.AppendUint64(buf, uint64(e.Seq))
	buf = binary.BigEndian.AppendUint64(buf, uint64(e.Time.UnixNano()))
	buf = str(buf, e.Type)
	buf = str(buf, e.Principal)
	buf = str(buf, e.Purpose)
	buf = str(buf, e.Recipient)
	buf = str(buf, e.Decision)
	buf = str(buf, e.Reason)
	buf = str(buf, e.PolicyHash)
	buf = str(buf, e.Prev)
	return buf
}
