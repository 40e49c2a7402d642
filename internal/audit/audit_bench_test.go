package audit

import (
	"bytes"
	"fmt"
	"testing"
)

func BenchmarkSeal(b *testing.B) {
	e := chain("rec-benchmark-0001", 1)[0]
	e.Reason = "as a recipient of a disclosure"
	b.ReportAllocs()
	for b.Loop() {
		e = Seal(e.Hash, e)
	}
}

func BenchmarkPseudonym(b *testing.B) {
	key := bytes.Repeat([]byte{7}, SubjectKeySize)
	b.ReportAllocs()
	for b.Loop() {
		_ = Pseudonym(key, "bob@example.org")
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		es := chain("rec-benchmark-0001", n)
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := Verify(es); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkReadLog(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		data := encode(b, NewLog(Header{PII: "rec-benchmark-0001"}, chain("rec-benchmark-0001", n)))
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				l, err := ReadLog(bytes.NewReader(data))
				if err != nil || len(l.Entries) != n {
					b.Fatal(err)
				}
			}
		})
	}
}
