package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Format and FormatVersion identify the export format in its header line.
const (
	Format        = "sticky-event-log"
	FormatVersion = 1
)

// Limits of ReadLog: a header line (which embeds the record's policies) may
// be up to MaxHeaderBytes, an entry line up to MaxLineBytes, and a log holds
// at most MaxEntries entries.
const (
	MaxHeaderBytes = 16 << 20
	MaxLineBytes   = 1 << 20
	MaxEntries     = 10_000_000
)

// ErrFormat is wrapped by every *FormatError.
var ErrFormat = errors.New("audit: not a valid event log export")

// FormatError names the line of an export that could not be read.
type FormatError struct {
	Line int // 1-based; the header is line 1
	Msg  string
}

// Error implements error.
func (e *FormatError) Error() string {
	return fmt.Sprintf("audit: event log line %d: %s", e.Line, e.Msg)
}

// Unwrap makes errors.Is(err, ErrFormat) hold.
func (e *FormatError) Unwrap() error { return ErrFormat }

// PolicyRef is one sticky policy a record has had: its hash (the
// PolicyHash of the entries written under it, hex SHA-256 of the XML bytes),
// its version, since when it was in force, and the XML itself.
type PolicyRef struct {
	Hash    string    `json:"hash"`
	Version int64     `json:"version"`
	Since   time.Time `json:"since"`
	XML     string    `json:"xml"`
}

// Header is the first line of an export.
type Header struct {
	Format  string `json:"format"`  // Format
	Version int    `json:"version"` // FormatVersion
	PII     string `json:"pii"`
	// Subject is the data subject's pseudonym under its own key ("" once the
	// subject was forgotten): entries whose Principal equals it are the
	// owner's own uses.
	Subject string `json:"subject"`
	// Deleted tells whether the record's data is gone.
	Deleted bool `json:"deleted"`
	// Entries is the number of entry lines that follow and Head the Hash of
	// the last one (Genesis(PII) for none), so that a log cut short or
	// extended is detected.
	Entries int    `json:"entries"`
	Head    string `json:"head"`
	// Policy is the hash of the policy last in force; Policies holds every
	// policy the record has had, oldest first.
	Policy   string      `json:"policy"`
	Policies []PolicyRef `json:"policies"`
	// Identities maps pseudonyms of the log to identities; present only when
	// the export was asked for with identities (it is personal data).
	Identities map[string]string `json:"identities,omitempty"`
	ExportedAt time.Time         `json:"exported_at"`
	// Digest is HeaderDigest of the header: it detects an edited header.
	// WriteTo sets it, ReadLog requires it and (*Log).Verify checks it
	// when set (a Log built in memory by NewLog has none).
	Digest string `json:"digest"`
}

// headerDomain separates header digests from other hashes.
const headerDomain = "sticky-event-log-header-v1"

// HeaderDigest returns the hex SHA-256 of "sticky-event-log-header-v1", a
// zero byte and the header's JSON encoding (as WriteTo writes it) with an
// empty Digest. It commits to every header field, the head hash included.
// It is a checksum, not a signature: whoever can rewrite the file can
// recompute it, as they can recompute the last entries' hashes.
func HeaderDigest(h Header) string {
	h.Digest = ""
	data, err := json.Marshal(h)
	if err != nil {
		return "" // a Header always marshals
	}
	sum := sha256.New()
	sum.Write([]byte(headerDomain))
	sum.Write([]byte{0})
	sum.Write(data)
	return hex.EncodeToString(sum.Sum(nil))
}

// Log is a record's exported event log.
type Log struct {
	Header  Header
	Entries []Entry
}

// PolicyByHash returns the embedded policy with the given hash.
func (l *Log) PolicyByHash(hash string) (PolicyRef, bool) {
	for _, p := range l.Header.Policies {
		if p.Hash == hash {
			return p, true
		}
	}
	return PolicyRef{}, false
}

// NewLog builds the export of entries, filling the header's Format,
// Version, PII, Entries and Head.
func NewLog(h Header, entries []Entry) *Log {
	h.Format, h.Version = Format, FormatVersion
	h.Entries = len(entries)
	h.Head = Genesis(h.PII)
	if len(entries) > 0 {
		h.Head = entries[len(entries)-1].Hash
	}
	if h.Policies == nil {
		h.Policies = []PolicyRef{}
	}
	return &Log{Header: h, Entries: entries}
}

// WriteTo writes l as JSON lines: the header, then one entry per line,
// oldest first.
func (l *Log) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriter(w)
	cw := &countWriter{w: bw}
	enc := json.NewEncoder(cw)
	enc.SetEscapeHTML(false)
	h := l.Header
	h.Digest = HeaderDigest(h)
	if err := enc.Encode(h); err != nil {
		return cw.n, fmt.Errorf("audit: writing the header: %w", err)
	}
	for _, e := range l.Entries {
		if err := enc.Encode(e); err != nil {
			return cw.n, fmt.Errorf("audit: writing entry %d: %w", e.Seq, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return cw.n, fmt.Errorf("audit: writing the log: %w", err)
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// ReadLog reads an export written by WriteTo. It checks the form only
// (a header of this format and version, well-formed entry lines with known
// fields); Verify checks the chain. Errors are *FormatError, or a
// *ChainError (ErrTampered) when the header line was removed.
func ReadLog(r io.Reader) (*Log, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	line, err := readLine(br, MaxHeaderBytes)
	if errors.Is(err, io.EOF) && len(line) == 0 {
		return nil, &FormatError{Line: 1, Msg: "the log is empty (no header line)"}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, &FormatError{Line: 1, Msg: err.Error()}
	}
	var l Log
	var first Entry
	if strictUnmarshal(line, &first) == nil && first.Hash != "" {
		return nil, &ChainError{Index: -1, Seq: first.Seq, Problem: ProblemHeader,
			Detail: "the first line is an entry, not the log's header (the header was removed)"}
	}
	if err := strictUnmarshal(line, &l.Header); err != nil {
		return nil, &FormatError{Line: 1, Msg: "the header is not a JSON object of this format: " + err.Error()}
	}
	if l.Header.Format != Format {
		return nil, &FormatError{Line: 1, Msg: fmt.Sprintf("format %q, want %q", l.Header.Format, Format)}
	}
	if l.Header.Version != FormatVersion {
		return nil, &FormatError{Line: 1, Msg: fmt.Sprintf("format version %d, this reader knows version %d", l.Header.Version, FormatVersion)}
	}
	if l.Header.PII == "" {
		return nil, &FormatError{Line: 1, Msg: "the header names no record (pii is empty)"}
	}
	if l.Header.Digest == "" {
		return nil, &ChainError{Index: -1, Problem: ProblemHeader, Detail: "the header has no digest (it was removed)"}
	}
	for n := 2; ; n++ {
		line, err := readLine(br, MaxLineBytes)
		if errors.Is(err, io.EOF) && len(bytes.TrimSpace(line)) == 0 {
			break
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, &FormatError{Line: n, Msg: err.Error()}
		}
		if len(bytes.TrimSpace(line)) == 0 {
			return nil, &FormatError{Line: n, Msg: "empty line"}
		}
		if len(l.Entries) >= MaxEntries {
			return nil, &FormatError{Line: n, Msg: fmt.Sprintf("more than %d entries", MaxEntries)}
		}
		var e Entry
		if err := strictUnmarshal(line, &e); err != nil {
			return nil, &FormatError{Line: n, Msg: "not an entry: " + err.Error()}
		}
		l.Entries = append(l.Entries, e)
		if errors.Is(err, io.EOF) {
			break
		}
	}
	return &l, nil
}

// readLine reads one line of at most max bytes, without its newline.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > max+1 {
			return nil, fmt.Errorf("line longer than %d bytes", max)
		}
		if err == nil {
			return bytes.TrimRight(buf, "\r\n"), nil
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimRight(buf, "\r\n"), err
	}
}

// strictUnmarshal decodes one JSON object refusing unknown fields and
// trailing data.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

// Verify checks the log's chain (see the package function Verify) and that
// it is complete: every entry is of the header's record, the header's
// Digest matches its fields, every embedded
// policy's XML hashes to its Hash, and the header's entry count and head
// hash match the entries, so that a log cut short or with entries appended
// is detected. Errors are *ChainError (Index -1 for a header problem).
func (l *Log) Verify() error {
	for i, e := range l.Entries {
		if e.PII != l.Header.PII {
			return &ChainError{Index: i, Seq: e.Seq, Problem: ProblemPII,
				Detail: fmt.Sprintf("record %q in the log of record %q", e.PII, l.Header.PII)}
		}
	}
	if err := Verify(l.Entries); err != nil {
		return err
	}
	if got := HeaderDigest(l.Header); l.Header.Digest != "" && got != l.Header.Digest {
		return &ChainError{Index: -1, Problem: ProblemHeader,
			Detail: fmt.Sprintf("the header's fields digest to %s, the header says %s (the header was edited)", short(got), short(l.Header.Digest))}
	}
	if got := HeaderDigest(l.Header); l.Header.Digest != "" && got != l.Header.Digest {
		return &ChainError{Index: -1, Problem: ProblemHeader,
			Detail: fmt.Sprintf("the header's fields digest to %s, the header says %s (the header was edited)", short(got), short(l.Header.Digest))}
	}
	for _, p := range l.Header.Policies {
		if got := PolicyHash([]byte(p.XML)); got != p.Hash {
			return &ChainError{Index: -1, Problem: ProblemPolicy,
				Detail: fmt.Sprintf("the header's policy %s holds XML that hashes to %s", short(p.Hash), short(got))}
		}
	}
	n := len(l.Entries)
	head := Genesis(l.Header.PII)
	if n > 0 {
		head = l.Entries[n-1].Hash
	}
	if n != l.Header.Entries || head != l.Header.Head {
		var seq int64
		if n > 0 {
			seq = l.Entries[n-1].Seq
		}
		return &ChainError{Index: n, Seq: seq, Problem: ProblemHead,
			Detail: fmt.Sprintf("the header says %d entries ending at %s, the log has %d ending at %s (entries removed from or added at the end)",
				l.Header.Entries, short(l.Header.Head), n, short(head))}
	}
	return nil
}

// PolicyHash returns the hash by which entries name a policy: the hex
// SHA-256 of its XML bytes as stored.
func PolicyHash(xml []byte) string {
	h := sha256.Sum256(xml)
	return hex.EncodeToString(h[:])
}
