package audit

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)

// chain builds a sealed chain of n entries for record pii.
func chain(pii string, n int) []Entry {
	var out []Entry
	prev := ""
	for i := range n {
		e := Seal(prev, Entry{
			PII: pii, Seq: int64(i + 1), Time: t0.Add(time.Duration(i) * time.Second),
			Type: TypeAccessed, Principal: Pseudonym([]byte("k"), fmt.Sprintf("bob%d@example.org", i)),
			Purpose: "https://w3id.org/dpv#ServiceProvision", Decision: "Permit", PolicyHash: "ph",
		})
		out = append(out, e)
		prev = e.Hash
	}
	return out
}

func TestSeal(t *testing.T) {
	e := Seal("", Entry{PII: "r1", Seq: 1, Time: t0.In(time.FixedZone("x", 3600)), Type: TypeStored})
	if e.Prev != Genesis("r1") {
		t.Errorf("first entry prev = %q, want genesis %q", e.Prev, Genesis("r1"))
	}
	if e.Time.Location() != time.UTC {
		t.Errorf("time not normalised to UTC: %v", e.Time)
	}
	if len(e.Hash) != 64 || e.Hash != ComputeHash(e) {
		t.Errorf("hash = %q, want the 64-hex ComputeHash", e.Hash)
	}
	if Genesis("r1") == Genesis("r2") {
		t.Error("genesis does not depend on the record id")
	}
	e2 := Seal(e.Hash, Entry{PII: "r1", Seq: 2, Time: t0, Type: TypeDeleted})
	if e2.Prev != e.Hash {
		t.Errorf("prev = %q, want %q", e2.Prev, e.Hash)
	}
}

// TestHashCoversEveryField changes each field in turn and checks the hash
// changes, including moving bytes between adjacent fields (length prefix).
func TestHashCoversEveryField(t *testing.T) {
	base := chain("r1", 1)[0]
	base.Reason, base.Recipient = "ab", "cd"
	h := ComputeHash(base)
	muts := map[string]func(*Entry){
		"pii":         func(e *Entry) { e.PII += "x" },
		"seq":         func(e *Entry) { e.Seq++ },
		"time":        func(e *Entry) { e.Time = e.Time.Add(time.Nanosecond) },
		"type":        func(e *Entry) { e.Type = TypeDenied },
		"principal":   func(e *Entry) { e.Principal = "" },
		"purpose":     func(e *Entry) { e.Purpose += "x" },
		"recipient":   func(e *Entry) { e.Recipient = "c" },
		"decision":    func(e *Entry) { e.Decision = "Deny" },
		"reason":      func(e *Entry) { e.Reason = "abc" },
		"policy_hash": func(e *Entry) { e.PolicyHash = "other" },
		"prev":        func(e *Entry) { e.Prev = Genesis("r2") },
		"boundary":    func(e *Entry) { e.Recipient, e.Decision = "cdPermi", "t" },
	}
	for name, mut := range muts {
		t.Run(name, func(t *testing.T) {
			e := base
			mut(&e)
			if ComputeHash(e) == h {
				t.Errorf("changing %s does not change the hash", name)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	good := chain("r1", 5)
	resealed := func(es []Entry) []Entry {
		prev := ""
		for i := range es {
			es[i] = Seal(prev, es[i])
			prev = es[i].Hash
		}
		return es
	}
	tests := []struct {
		name    string
		mutate  func([]Entry) []Entry
		problem Problem
		index   int
	}{
		{"good", func(es []Entry) []Entry { return es }, "", 0},
		{"empty", func(es []Entry) []Entry { return nil }, "", 0},
		{"field changed", func(es []Entry) []Entry { es[2].Purpose = "x"; return es }, ProblemHash, 2},
		{"hash changed", func(es []Entry) []Entry { es[4].Hash = strings.Repeat("0", 64); return es }, ProblemHash, 4},
		{"middle removed", func(es []Entry) []Entry { return append(es[:2], es[3:]...) }, ProblemSeqGap, 2},
		{"first removed", func(es []Entry) []Entry { return es[1:] }, ProblemSeqGap, 0},
		{"swapped", func(es []Entry) []Entry { es[1], es[2] = es[2], es[1]; return es }, ProblemOrder, 1},
		{"duplicated", func(es []Entry) []Entry { return append(es[:3], es[2:]...) }, ProblemOrder, 3},
		{"resealed after change breaks the next link", func(es []Entry) []Entry {
			es[1].Purpose = "x"
			es[1] = Seal(es[0].Hash, es[1])
			return es
		}, ProblemLink, 2},
		{"not from genesis", func(es []Entry) []Entry { es[0] = Seal(Genesis("r2"), es[0]); return es }, ProblemLink, 0},
		{"other record", func(es []Entry) []Entry { es[3].PII = "r2"; return resealed(es) }, ProblemPII, 3},
		{"time backwards", func(es []Entry) []Entry { es[3].Time = t0.Add(-time.Hour); return resealed(es) }, ProblemTime, 3},
		{"renumbered gap", func(es []Entry) []Entry { es[4].Seq = 9; return resealed(es) }, ProblemSeqGap, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			es := tc.mutate(append([]Entry(nil), good...))
			err := Verify(es)
			if tc.problem == "" {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			var ce *ChainError
			if !errors.As(err, &ce) || !errors.Is(err, ErrTampered) {
				t.Fatalf("Verify = %v, want a *ChainError wrapping ErrTampered", err)
			}
			if ce.Problem != tc.problem || ce.Index != tc.index {
				t.Errorf("Verify = %v, want %q at index %d", err, tc.problem, tc.index)
			}
		})
	}
}

func TestPseudonym(t *testing.T) {
	k1, k2 := []byte("key one"), []byte("key two")
	p := Pseudonym(k1, "bob@example.org")
	if !strings.HasPrefix(p, PseudonymPrefix) || !IsPseudonym(p) {
		t.Errorf("pseudonym %q lacks the prefix or form", p)
	}
	if strings.Contains(p, "bob") {
		t.Errorf("pseudonym %q leaks the identity", p)
	}
	if p != Pseudonym(k1, "bob@example.org") {
		t.Error("pseudonym not deterministic")
	}
	if p == Pseudonym(k2, "bob@example.org") {
		t.Error("pseudonym does not depend on the key")
	}
	if p == Pseudonym(k1, "carol@example.org") {
		t.Error("pseudonym does not depend on the identity")
	}
	if Pseudonym(k1, "") != "" {
		t.Error("the empty identity must have the empty pseudonym")
	}
	for _, s := range []string{"", "bob@example.org", "ps:zz", PseudonymPrefix + strings.Repeat("g", 64)} {
		if IsPseudonym(s) {
			t.Errorf("IsPseudonym(%q) = true", s)
		}
	}
}

func TestNewSubjectKey(t *testing.T) {
	k, err := NewSubjectKey(bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	if err != nil || len(k) != SubjectKeySize {
		t.Fatalf("NewSubjectKey = %x, %v", k, err)
	}
	if _, err := NewSubjectKey(bytes.NewReader([]byte{1, 2})); err == nil {
		t.Error("short randomness accepted")
	}
}

func TestTriggerRef(t *testing.T) {
	for _, seq := range []int64{1, 7, 12345} {
		reason := "obligation-2 by inbox about accessed (" + TriggerRef(seq) + ")"
		if got, ok := ParseTriggerRef(reason); !ok || got != seq {
			t.Errorf("ParseTriggerRef(%q) = %d, %v", reason, got, ok)
		}
	}
	for _, reason := range []string{"", "obligation-1 by inbox about accessed", "trigger seq ", "trigger seq x", "trigger seq 0", TriggerRef(0)} {
		if got, ok := ParseTriggerRef(reason); ok {
			t.Errorf("ParseTriggerRef(%q) = %d, true", reason, got)
		}
	}
}
