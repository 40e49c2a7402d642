package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

const testPolicy = `<ppl:Policy xmlns:ppl="http://www.primelife.eu/ppl"/>`

// sampleLog is a small log with every kind of field filled.
func sampleLog() *Log {
	key := []byte("subject key")
	alice, bob := Pseudonym(key, "alice@example.org"), Pseudonym(key, "bob@example.org")
	ph := PolicyHash([]byte(testPolicy))
	specs := []Entry{
		{Type: TypeStored, Principal: alice, Decision: "Permit"},
		{Type: TypeAccessed, Principal: bob, Purpose: "https://w3id.org/dpv#ServiceProvision", Decision: "Permit"},
		{Type: TypeNotified, Purpose: "https://w3id.org/dpv#ServiceProvision", Recipient: alice, Reason: "obligation-2 by inbox about accessed"},
		{Type: TypeDenied, Principal: bob, Purpose: "https://w3id.org/dpv#Marketing", Decision: "Deny", Reason: "purpose not allowed"},
		{Type: TypeDeleted, Principal: alice, Decision: "Permit"},
	}
	var es []Entry
	prev := ""
	for i, e := range specs {
		e.PII, e.Seq, e.Time, e.PolicyHash = "rec-1", int64(i+1), t0.Add(time.Duration(i)*time.Minute), ph
		e = Seal(prev, e)
		prev = e.Hash
		es = append(es, e)
	}
	return NewLog(Header{PII: "rec-1", Subject: alice, Policy: ph,
		Policies: []PolicyRef{{Hash: ph, Version: 1, Since: t0, XML: testPolicy}}, ExportedAt: t0.Add(time.Hour)}, es)
}

func encode(t testing.TB, l *Log) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := l.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLogRoundTrip(t *testing.T) {
	l := sampleLog()
	data := encode(t, l)
	if n := bytes.Count(data, []byte("\n")); n != len(l.Entries)+1 {
		t.Fatalf("%d lines, want %d", n, len(l.Entries)+1)
	}
	got, err := ReadLog(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Verify(); err != nil {
		t.Fatalf("Verify of an untouched export: %v", err)
	}
	if !bytes.Equal(encode(t, got), data) {
		t.Error("re-encoding the read log changes it")
	}
	if got.Header.Head != l.Entries[len(l.Entries)-1].Hash || got.Header.Entries != len(l.Entries) {
		t.Errorf("header = %+v", got.Header)
	}
	if _, ok := got.PolicyByHash(l.Header.Policy); !ok {
		t.Error("policy not found by hash")
	}
}

func TestReadLogErrors(t *testing.T) {
	good := encode(t, sampleLog())
	lines := strings.SplitAfter(string(good), "\n")
	tests := []struct {
		name, in string
		line     int
	}{
		{"empty", "", 1},
		{"not json", "hello\n", 1},
		{"wrong format", `{"format":"other","version":1,"pii":"x"}` + "\n", 1},
		{"future version", `{"format":"sticky-event-log","version":2,"pii":"x"}` + "\n", 1},
		{"no pii", `{"format":"sticky-event-log","version":1}` + "\n", 1},
		{"unknown header field", `{"format":"sticky-event-log","version":1,"pii":"x","extra":1}` + "\n", 1},
		{"entry not json", lines[0] + "{\n", 2},
		{"unknown entry field", lines[0] + `{"pii":"rec-1","seq":1,"sneaky":true}` + "\n", 2},
		{"blank line", lines[0] + lines[1] + "\n" + lines[2], 3},
		{"trailing data", lines[0] + strings.TrimSuffix(lines[1], "\n") + " {}\n", 2},
		{"wrong type", lines[0] + `{"pii":"rec-1","seq":"one"}` + "\n", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadLog(strings.NewReader(tc.in))
			var fe *FormatError
			if !errors.As(err, &fe) || !errors.Is(err, ErrFormat) {
				t.Fatalf("ReadLog = %v, want a *FormatError", err)
			}
			if fe.Line != tc.line {
				t.Errorf("error on line %d, want %d: %v", fe.Line, tc.line, err)
			}
		})
	}
	t.Run("no final newline", func(t *testing.T) {
		l, err := ReadLog(bytes.NewReader(bytes.TrimSuffix(good, []byte("\n"))))
		if err != nil || len(l.Entries) != 5 {
			t.Fatalf("ReadLog = %v, %v", l, err)
		}
	})
	t.Run("line too long", func(t *testing.T) {
		in := lines[0] + `{"reason":"` + strings.Repeat("a", MaxLineBytes) + `"}` + "\n"
		if _, err := ReadLog(strings.NewReader(in)); !errors.Is(err, ErrFormat) {
			t.Fatalf("ReadLog = %v, want ErrFormat", err)
		}
	})
}

// detected reports whether reading and verifying data fails.
func detected(data []byte) error {
	l, err := ReadLog(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return l.Verify()
}

// TestTamperingIsDetected changes every field of every entry line, removes,
// duplicates, reorders and inserts every single entry, and checks that each
// change is detected.
func TestTamperingIsDetected(t *testing.T) {
	good := encode(t, sampleLog())
	lines := strings.SplitAfter(strings.TrimSuffix(string(good), "\n"), "\n")
	if lines[len(lines)-1] != "" && !strings.HasSuffix(lines[len(lines)-1], "\n") {
		lines[len(lines)-1] += "\n"
	}
	header, entries := lines[0], lines[1:]
	join := func(es []string) []byte { return []byte(header + strings.Join(es, "")) }
	if err := detected(join(entries)); err != nil {
		t.Fatalf("untouched log: %v", err)
	}
	expectTampered := func(t *testing.T, data []byte) {
		t.Helper()
		err := detected(data)
		if err == nil {
			t.Fatal("tampering not detected")
		}
		if !errors.Is(err, ErrTampered) && !errors.Is(err, ErrFormat) {
			t.Fatalf("error %v is neither ErrTampered nor ErrFormat", err)
		}
	}
	for i, line := range entries {
		var obj map[string]any
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			t.Fatal(err)
		}
		for field, v := range obj {
			t.Run(fmt.Sprintf("change entry %d %s", i+1, field), func(t *testing.T) {
				m := map[string]any{}
				for k, v := range obj {
					m[k] = v
				}
				switch x := v.(type) {
				case string:
					if field == "time" {
						tm, _ := time.Parse(time.RFC3339Nano, x)
						m[field] = tm.Add(time.Nanosecond).Format(time.RFC3339Nano)
					} else if x == "" {
						m[field] = "x"
					} else {
						m[field] = x[:len(x)-1] + string(rune(x[len(x)-1])^1)
					}
				case float64:
					m[field] = x + 1
				default:
					t.Fatalf("unexpected field type %T", v)
				}
				b, _ := json.Marshal(m)
				es := append([]string(nil), entries...)
				es[i] = string(b) + "\n"
				expectTampered(t, join(es))
			})
		}
		t.Run(fmt.Sprintf("remove entry %d", i+1), func(t *testing.T) {
			es := append(append([]string(nil), entries[:i]...), entries[i+1:]...)
			expectTampered(t, join(es))
		})
		t.Run(fmt.Sprintf("duplicate entry %d", i+1), func(t *testing.T) {
			es := append(append(append([]string(nil), entries[:i+1]...), line), entries[i+1:]...)
			expectTampered(t, join(es))
		})
		if i+1 < len(entries) {
			t.Run(fmt.Sprintf("swap entries %d and %d", i+1, i+2), func(t *testing.T) {
				es := append([]string(nil), entries...)
				es[i], es[i+1] = es[i+1], es[i]
				expectTampered(t, join(es))
			})
		}
	}
	// Insert a well-sealed forged entry at every position: it chains onto
	// its predecessor but breaks the next link, the numbering or the head.
	l := sampleLog()
	for pos := 0; pos <= len(entries); pos++ {
		t.Run(fmt.Sprintf("insert forged entry at %d", pos), func(t *testing.T) {
			prev := ""
			if pos > 0 {
				prev = l.Entries[pos-1].Hash
			}
			f := Seal(prev, Entry{PII: "rec-1", Seq: int64(pos + 1), Time: t0.Add(time.Duration(pos) * time.Minute),
				Type: TypeAccessed, Principal: "ps:forged", Purpose: "https://w3id.org/dpv#Marketing", Decision: "Permit"})
			b, _ := json.Marshal(f)
			es := append(append(append([]string(nil), entries[:pos]...), string(b)+"\n"), entries[pos:]...)
			expectTampered(t, join(es))
		})
	}
	t.Run("header removed", func(t *testing.T) {
		_, err := ReadLog(strings.NewReader(strings.Join(entries, "")))
		var ce *ChainError
		if !errors.As(err, &ce) || ce.Problem != ProblemHeader {
			t.Fatalf("ReadLog = %v, want a %q *ChainError", err, ProblemHeader)
		}
	})
	var hobj map[string]any
	if err := json.Unmarshal([]byte(header), &hobj); err != nil {
		t.Fatal(err)
	}
	for field, v := range hobj {
		t.Run("change header "+field, func(t *testing.T) {
			m := map[string]any{}
			for k, v := range hobj {
				m[k] = v
			}
			switch x := v.(type) {
			case string:
				if field == "exported_at" {
					tm, _ := time.Parse(time.RFC3339Nano, x)
					m[field] = tm.Add(time.Second).Format(time.RFC3339Nano)
				} else if x == "" {
					m[field] = "x"
				} else {
					m[field] = x[:len(x)-1] + string(rune(x[len(x)-1])^1)
				}
			case float64:
				m[field] = x + 1
			case bool:
				m[field] = !x
			case []any:
				m[field] = []any{}
			case map[string]any:
				m[field] = map[string]any{"ps:x": "mallory@example.org"}
			default:
				t.Fatalf("unexpected header field type %T", v)
			}
			b, _ := json.Marshal(m)
			expectTampered(t, []byte(string(b)+"\n"+strings.Join(entries, "")))
		})
	}
	t.Run("header digest removed", func(t *testing.T) {
		m := map[string]any{}
		for k, v := range hobj {
			m[k] = v
		}
		delete(m, "digest")
		b, _ := json.Marshal(m)
		expectTampered(t, []byte(string(b)+"\n"+strings.Join(entries, "")))
	})
	t.Run("policy replaced in header", func(t *testing.T) {
		h := strings.Replace(header, `ppl:Policy xmlns`, `ppl:Policy  xmlns`, 1)
		if h == header {
			t.Fatal("header has no policy to change")
		}
		expectTampered(t, []byte(h+strings.Join(entries, "")))
	})
}

func FuzzReadLog(f *testing.F) {
	good := encode(f, sampleLog())
	f.Add(good)
	f.Add([]byte(""))
	f.Add([]byte(`{"format":"sticky-event-log","version":1,"pii":"x","entries":0}` + "\n"))
	f.Add(good[:len(good)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ReadLog(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrTampered) {
				t.Fatalf("error %v wraps neither ErrFormat nor ErrTampered", err)
			}
			return
		}
		if l.Header.PII == "" {
			t.Fatal("accepted a header without a record")
		}
		verr := l.Verify()
		if verr != nil && !errors.Is(verr, ErrTampered) {
			t.Fatalf("Verify error %v does not wrap ErrTampered", verr)
		}
		if verr == nil {
			// A log that verifies re-encodes to one that verifies.
			var buf bytes.Buffer
			if _, err := l.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			if err := detected(buf.Bytes()); err != nil {
				t.Fatalf("re-encoded verified log fails: %v", err)
			}
		}
	})
}
