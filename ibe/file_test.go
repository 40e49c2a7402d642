package ibe

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

func TestRoundTripSizes(t *testing.T) {
	p := newTestPKG(t)
	bob := mustExtract(t, p, "bob@example.org")
	for _, chunk := range []int{MinChunkSize, 1000, DefaultChunkSize} {
		sizes := []int{0, 1, chunk - 1, chunk, chunk + 1, 2 * chunk, 3*chunk + 7, 5 * chunk}
		for _, n := range sizes {
			t.Run(fmt.Sprintf("chunk=%d/size=%d", chunk, n), func(t *testing.T) {
				plain := testData(n, uint64(n))
				ct := encryptBytes(t, p.Params(), plain, []string{"bob@example.org"}, WithChunkSize(chunk))
				if !IsCiphertext(ct) {
					t.Fatal("IsCiphertext(ciphertext) = false")
				}
				chunks := max(1, (n+chunk-1)/chunk)
				if n > 0 && n%chunk == 0 {
					chunks = n / chunk
				}
				h, err := ParseHeader(bytes.NewReader(ct))
				if err != nil {
					t.Fatal(err)
				}
				if want := headerLen(h) + n + chunks*tagSize; len(ct) != want {
					t.Fatalf("ciphertext is %d bytes, want %d (%d chunks)", len(ct), want, chunks)
				}
				got, err := decryptBytes(ct, bob)
				if err != nil {
					t.Fatalf("Decrypt: %v", err)
				}
				if !bytes.Equal(got, plain) {
					t.Fatalf("plaintext differs (%d bytes, want %d)", len(got), n)
				}
			})
		}
	}
}

func headerLen(h *Header) int { return len(h.signed) + len(h.mac) }

func TestEncryptIsRandomised(t *testing.T) {
	p := newTestPKG(t)
	a := encryptBytes(t, p.Params(), []byte("same"), []string{"bob@example.org"})
	b := encryptBytes(t, p.Params(), []byte("same"), []string{"bob@example.org"})
	if bytes.Equal(a, b) {
		t.Fatal("two encryptions of the same plaintext are identical")
	}
}

func TestMultiRecipient(t *testing.T) {
	p := newTestPKG(t)
	plain := testData(200_000, 7)
	ids := []string{"Bob@Example.org", "carol@example.org ", "billing-service", "bob@example.org"}
	ct := encryptBytes(t, p.Params(), plain, ids)
	h, err := ParseHeader(bytes.NewReader(ct))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"bob@example.org", "carol@example.org", "billing-service"}; strings.Join(h.Recipients, ",") != strings.Join(want, ",") {
		t.Fatalf("recipients %q, want %q (canonical, duplicates merged)", h.Recipients, want)
	}
	for _, id := range []string{"bob@example.org", "carol@example.org", "billing-service"} {
		t.Run(id, func(t *testing.T) {
			got, err := decryptBytes(ct, mustExtract(t, p, id))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatal("plaintext differs")
			}
		})
	}
	t.Run("dave is not a recipient", func(t *testing.T) {
		_, err := decryptBytes(ct, mustExtract(t, p, "dave@example.org"))
		if !errors.Is(err, ErrNotRecipient) {
			t.Fatalf("err = %v, want ErrNotRecipient", err)
		}
	})
}

func TestDecryptFailures(t *testing.T) {
	p := newTestPKG(t)
	other := newTestPKG(t)
	const chunk = 1000
	plain := testData(3*chunk+500, 1)
	ct := encryptBytes(t, p.Params(), plain, []string{"bob@example.org", "carol@example.org"}, WithChunkSize(chunk))
	h, err := ParseHeader(bytes.NewReader(ct))
	if err != nil {
		t.Fatal(err)
	}
	hl := headerLen(h)
	full := chunk + tagSize
	bob := mustExtract(t, p, "bob@example.org")

	// Forge a key labelled bob whose point is carol's: right identity, wrong key.
	carol := mustExtract(t, p, "carol@example.org")
	relabelled := &PrivateKey{id: bob.id, d: carol.d}

	modify := func(f func([]byte) []byte) []byte { return f(bytes.Clone(ct)) }
	flip := func(off int) []byte { return modify(func(b []byte) []byte { b[off] ^= 0x10; return b }) }
	chunkAt := func(i int) int { return hl + i*full }

	tests := []struct {
		name string
		ct   []byte
		key  *PrivateKey
		want error
	}{
		{"wrong identity", ct, mustExtract(t, p, "dave@example.org"), ErrNotRecipient},
		{"other epoch", ct, mustExtract(t, p, "bob@example.org;epoch=2026-11"), ErrNotRecipient},
		{"key from another PKG", ct, mustExtract(t, other, "bob@example.org"), ErrWrongKey},
		{"relabelled key", ct, relabelled, ErrWrongKey},
		{"empty input", nil, bob, ErrFormat},
		{"not a ciphertext", []byte("hello, this is plain text and long enough"), bob, ErrFormat},
		{"bad version", modify(func(b []byte) []byte { b[8] = 2; return b }), bob, ErrFormat},
		{"flipped chunk size", flip(12), bob, ErrAuthentication},
		{"flipped nonce prefix", flip(15), bob, ErrAuthentication},
		{"flipped other recipient's name", flip(fixedHeaderLen + 2 + len("bob@example.org") + wrappedKeySize + 2 + 1), bob, ErrAuthentication},
		{"flipped own V", flip(fixedHeaderLen + 2 + len("bob@example.org") + MasterPublicKeySize), bob, ErrWrongKey},
		{"flipped header MAC", flip(hl - 1), bob, ErrAuthentication},
		{"flipped first chunk", flip(chunkAt(0) + 5), bob, ErrAuthentication},
		{"flipped tag of middle chunk", flip(chunkAt(1) + full - 1), bob, ErrAuthentication},
		{"flipped last chunk", flip(len(ct) - 20), bob, ErrAuthentication},
		{"swapped chunks 0 and 1", modify(func(b []byte) []byte {
			c0 := bytes.Clone(b[chunkAt(0):chunkAt(1)])
			copy(b[chunkAt(0):], b[chunkAt(1):chunkAt(2)])
			copy(b[chunkAt(1):], c0)
			return b
		}), bob, ErrAuthentication},
		{"chunk 1 duplicated over chunk 2", modify(func(b []byte) []byte {
			copy(b[chunkAt(2):chunkAt(3)], b[chunkAt(1):chunkAt(2)])
			return b
		}), bob, ErrAuthentication},
		{"chunk dropped", modify(func(b []byte) []byte {
			return append(b[:chunkAt(1):chunkAt(1)], b[chunkAt(2):]...)
		}), bob, ErrAuthentication},
		{"appended byte", append(bytes.Clone(ct), 0), bob, ErrAuthentication},
		{"header of another file", modify(func(b []byte) []byte {
			other := encryptBytes(t, p.Params(), plain, []string{"bob@example.org"}, WithChunkSize(chunk))
			oh, _ := ParseHeader(bytes.NewReader(other))
			return append(other[:headerLen(oh):headerLen(oh)], b[hl:]...)
		}), bob, ErrAuthentication},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decryptBytes(tt.ct, tt.key)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestTruncation cuts the ciphertext at every chunk boundary and inside every
// chunk: it must never decrypt successfully.
func TestTruncation(t *testing.T) {
	p := newTestPKG(t)
	bob := mustExtract(t, p, "bob@example.org")
	const chunk = 64
	for _, n := range []int{0, 10, chunk, 3 * chunk, 3*chunk + 10} {
		ct := encryptBytes(t, p.Params(), testData(n, 3), []string{"bob@example.org"}, WithChunkSize(chunk))
		h, _ := ParseHeader(bytes.NewReader(ct))
		hl := headerLen(h)
		for cut := 0; cut < len(ct); cut++ {
			_, err := decryptBytes(ct[:cut], bob)
			if err == nil {
				t.Fatalf("size %d cut at %d of %d: decrypted without error", n, cut, len(ct))
			}
			atBoundary := cut >= hl && (cut-hl)%(chunk+tagSize) == 0
			switch {
			case cut < hl:
				if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrFormat) {
					t.Fatalf("size %d cut at %d (in header): err = %v, want ErrTruncated", n, cut, err)
				}
			case atBoundary:
				if !errors.Is(err, ErrTruncated) {
					t.Fatalf("size %d cut at chunk boundary %d: err = %v, want ErrTruncated", n, cut, err)
				}
			default:
				if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrAuthentication) {
					t.Fatalf("size %d cut at %d (mid-chunk): err = %v, want ErrTruncated or ErrAuthentication", n, cut, err)
				}
			}
		}
	}
}

// TestAppendedFinalChunk appends a full-size chunk after a ciphertext whose
// last chunk is full: the final flag makes it detectable.
func TestAppendedData(t *testing.T) {
	p := newTestPKG(t)
	bob := mustExtract(t, p, "bob@example.org")
	const chunk = 64
	ct := encryptBytes(t, p.Params(), testData(2*chunk, 4), []string{"bob@example.org"}, WithChunkSize(chunk))
	for _, extra := range []int{1, tagSize, chunk + tagSize, 3 * (chunk + tagSize)} {
		t.Run(fmt.Sprintf("extra=%d", extra), func(t *testing.T) {
			bad := append(bytes.Clone(ct), testData(extra, 9)...)
			_, err := decryptBytes(bad, bob)
			if !errors.Is(err, ErrTrailingData) && !errors.Is(err, ErrAuthentication) {
				t.Fatalf("err = %v, want ErrTrailingData or ErrAuthentication", err)
			}
		})
	}
	t.Run("final chunk repeated", func(t *testing.T) {
		last := ct[len(ct)-(chunk+tagSize):]
		_, err := decryptBytes(append(bytes.Clone(ct), last...), bob)
		if !errors.Is(err, ErrTrailingData) {
			t.Fatalf("err = %v, want ErrTrailingData", err)
		}
	})
}

func TestEpochs(t *testing.T) {
	p := newTestPKG(t)
	nov := mustExtract(t, p, "bob@example.org;epoch=2026-11")
	dec := mustExtract(t, p, "bob@example.org;epoch=2026-12")
	plain := []byte("november report")
	ct := encryptBytes(t, p.Params(), plain, []string{"Bob@example.org;EPOCH=2026-11"})
	if got, err := decryptBytes(ct, nov); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("November key: %v", err)
	}
	tests := []struct {
		name string
		key  *PrivateKey
	}{
		{"december key", dec},
		{"key without epoch", mustExtract(t, p, "bob@example.org")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decryptBytes(ct, tt.key)
			if !errors.Is(err, ErrNotRecipient) {
				t.Fatalf("err = %v, want ErrNotRecipient", err)
			}
			if !strings.Contains(err.Error(), "another epoch") {
				t.Fatalf("error %q does not point at the epoch", err)
			}
		})
	}
	t.Run("header edited to name the december epoch", func(t *testing.T) {
		forged := bytes.Replace(bytes.Clone(ct), []byte(";epoch=2026-11"), []byte(";epoch=2026-12"), 1)
		if _, err := decryptBytes(forged, dec); !errors.Is(err, ErrWrongKey) {
			t.Fatalf("err = %v, want ErrWrongKey", err)
		}
	})
	if nov.d.IsEqual(&dec.d) {
		t.Fatal("keys for two epochs are equal")
	}
}

func TestEncryptRejects(t *testing.T) {
	p := newTestPKG(t)
	tests := []struct {
		name string
		ids  []string
		opts []EncryptOption
	}{
		{"no identities", nil, nil},
		{"empty identity", []string{""}, nil},
		{"invalid identity", []string{"bob@@example.org"}, nil},
		{"chunk too small", []string{"bob@example.org"}, []EncryptOption{WithChunkSize(MinChunkSize - 1)}},
		{"chunk too large", []string{"bob@example.org"}, []EncryptOption{WithChunkSize(MaxChunkSize + 1)}},
	}
	t.Run("zero params", func(t *testing.T) {
		var out bytes.Buffer
		if err := Encrypt(&out, strings.NewReader("x"), &Params{}, []string{"bob"}, nil); err == nil || out.Len() != 0 {
			t.Fatalf("Encrypt with zero Params: err %v, wrote %d bytes", err, out.Len())
		}
		if err := (&PrivateKey{}).Verify(&Params{}); !errors.Is(err, ErrInvalidKey) {
			t.Fatalf("Verify with zero Params: %v", err)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := Encrypt(&out, strings.NewReader("x"), p.Params(), tt.ids, nil, tt.opts...); err == nil {
				t.Fatal("Encrypt succeeded")
			}
			if out.Len() != 0 {
				t.Fatalf("Encrypt wrote %d bytes before failing", out.Len())
			}
		})
	}
}

func TestIsCiphertext(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"STICKYIB\x01\x01", true},
		{"STICKYIB\x01", true},
		{"STICKYIB", false},
		{"STICKYIB\x02", false},
		{"stickyib\x01", false},
		{"", false},
		{"-----BEGIN", false},
	}
	for _, tt := range tests {
		if got := IsCiphertext([]byte(tt.in)); got != tt.want {
			t.Errorf("IsCiphertext(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// prngReader is an endless deterministic byte stream.
type prngReader struct {
	c    *rand.ChaCha8
	left int64
}

func (r *prngReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, _ := r.c.Read(p)
	r.left -= int64(n)
	return n, nil
}

// TestLargeStream encrypts and decrypts 100 MB through a pipe, never holding
// the data in memory, and checks the plaintext digest and that the heap did
// not grow with the data.
func TestLargeStream(t *testing.T) {
	if testing.Short() {
		t.Skip("100 MB stream")
	}
	p := newTestPKG(t)
	bob := mustExtract(t, p, "bob@example.org")
	const size = 100_000_000

	src := &prngReader{c: rand.NewChaCha8(seedBytes(42)), left: size}
	inHash := sha256.New()
	outHash := sha256.New()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	pr, pw := io.Pipe()
	encErr := make(chan error, 1)
	go func() {
		err := Encrypt(pw, io.TeeReader(src, inHash), p.Params(), []string{"bob@example.org"}, nil)
		pw.CloseWithError(err)
		encErr <- err
	}()
	counter := &countWriter{w: outHash}
	if err := Decrypt(counter, pr, bob); err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if err := <-encErr; err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	runtime.ReadMemStats(&after)

	if counter.n != size {
		t.Fatalf("decrypted %d bytes, want %d", counter.n, size)
	}
	if !bytes.Equal(inHash.Sum(nil), outHash.Sum(nil)) {
		t.Fatal("plaintext digest differs")
	}
	// Both directions together allocate a few chunk buffers, not the data.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Fatalf("allocated %d bytes for a %d-byte stream: not constant memory", alloc, size)
	}
	t.Logf("allocated %d KiB in total for 2 x %d MB", (after.TotalAlloc-before.TotalAlloc)>>10, size/1_000_000)
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.w.Write(p)
}
