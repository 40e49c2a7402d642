package audit

import (
	"errors"
	"fmt"
)

// ErrTampered is wrapped by every *ChainError: the log is not the one the
// server wrote.
var ErrTampered = errors.New("audit: the event log has been tampered with")

// Problem names why an entry breaks its chain.
type Problem string

// The problems Verify reports.
const (
	// ProblemHash: the entry's Hash is not the hash of its fields, so a
	// field was changed.
	ProblemHash Problem = "hash mismatch"
	// ProblemLink: the entry's Prev is not the previous entry's Hash (or,
	// for the first entry, not the record's genesis value).
	ProblemLink Problem = "broken link"
	// ProblemSeqGap: the entry's Seq skips numbers (an entry is missing).
	ProblemSeqGap Problem = "sequence gap"
	// ProblemOrder: the entry's Seq is not the next one but comes earlier or
	// later in the log (entries reordered or duplicated).
	ProblemOrder Problem = "entries out of order"
	// ProblemPII: the entry belongs to another record.
	ProblemPII Problem = "wrong record"
	// ProblemTime: the entry is older than the entry before it.
	ProblemTime Problem = "time going backwards"
)

// ChainError names the first entry of a log that does not fit its chain.
type ChainError struct {
	Index   int     // position in the slice given to Verify (0-based); -1 for the export's header
	Seq     int64   // the entry's Seq as found
	Problem Problem // why
	Detail  string  // a sentence with the values involved
}

// Error implements error.
func (e *ChainError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("audit: log header: %s: %s", e.Problem, e.Detail)
	}
	return fmt.Sprintf("audit: entry %d (seq %d): %s: %s", e.Index, e.Seq, e.Problem, e.Detail)
}

// Unwrap makes errors.Is(err, ErrTampered) hold.
func (e *ChainError) Unwrap() error { return ErrTampered }

// Verify checks that entries are one record's complete chain in order:
// the first has Seq 1 and Prev Genesis(PII), each next one has the next Seq,
// the same PII, a Time not before the previous one, Prev equal to the
// previous Hash, and every Hash is its entry's ComputeHash. It returns nil
// for a good chain (and for an empty one) or a *ChainError naming the first
// bad entry.
func Verify(entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	pii := entries[0].PII
	prev := Genesis(pii)
	for i, e := range entries {
		bad := func(p Problem, format string, args ...any) error {
			return &ChainError{Index: i, Seq: e.Seq, Problem: p, Detail: fmt.Sprintf(format, args...)}
		}
		if !hashIs(e, e.Hash) {
			return bad(ProblemHash, "its fields hash to %s, the entry says %s", short(ComputeHash(e)), short(e.Hash))
		}
		if e.PII != pii {
			return bad(ProblemPII, "record %q in the log of record %q", e.PII, pii)
		}
		want := int64(i) + 1
		if e.Seq != want {
			if e.Seq > want && !seqLater(entries[i+1:], want) {
				return bad(ProblemSeqGap, "expected seq %d, found %d", want, e.Seq)
			}
			return bad(ProblemOrder, "expected seq %d, found %d", want, e.Seq)
		}
		if e.Prev != prev {
			if i == 0 {
				return bad(ProblemLink, "the first entry does not start from the record's genesis value %s (prev %s)", short(prev), short(e.Prev))
			}
			return bad(ProblemLink, "prev %s is not the previous entry's hash %s", short(e.Prev), short(prev))
		}
		if i > 0 && e.Time.Before(entries[i-1].Time) {
			return bad(ProblemTime, "%s is before the previous entry's %s", e.Time.Format(timeFormat), entries[i-1].Time.Format(timeFormat))
		}
		prev = e.Hash
	}
	return nil
}

// seqLater reports whether an entry with Seq seq appears in rest.
func seqLater(rest []Entry, seq int64) bool {
	for _, e := range rest {
		if e.Seq == seq {
			return true
		}
	}
	return false
}

// timeFormat is how times appear in messages and exports.
const timeFormat = "2006-01-02T15:04:05.999999999Z07:00"

// short abbreviates a hash for messages.
func short(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	if h == "" {
		return `""`
	}
	return h
}

// ProblemHead is reported by (*Log).Verify when the entries do not end at
// the header's head hash and count: entries were cut off or appended.
const ProblemHead Problem = "log does not end at its head"

// ProblemPolicy is reported by (*Log).Verify when an embedded policy's XML
// does not hash to the hash it is filed under.
const ProblemPolicy Problem = "policy does not match its hash"

// ProblemHeader is reported for an export whose header line is missing or
// whose fields do not match its digest.
const ProblemHeader Problem = "header missing or edited"
