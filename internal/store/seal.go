package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"

	"github.com/stickypolicy/sticky/pep"
)

// TODO(H4): replace with internal/audit's Seal and Pseudonym once that
// package lands; these keep the chain columns filled until then.

func pseudonymOf(key []byte, identity string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(identity))
	return hex.EncodeToString(m.Sum(nil))
}

func seal(prev string, e pep.Event) pep.Event {
	e.Prev = prev
	h := sha256.New()
	for _, s := range []string{e.Prev, e.PII, e.Type, e.Principal, e.Purpose, e.Recipient, e.Decision, e.Reason, e.PolicyHash} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	var n [16]byte
	binary.BigEndian.PutUint64(n[:8], uint64(e.Seq))
	binary.BigEndian.PutUint64(n[8:], uint64(e.Time.UnixNano()))
	h.Write(n[:])
	e.Hash = hex.EncodeToString(h.Sum(nil))
	return e
}
