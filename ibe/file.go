package ibe

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// File format constants (see docs/ibe.md for the byte layout).
const (
	// Magic starts every Sticky IBE ciphertext.
	Magic = "STICKYIB"
	// FormatVersion is the version byte this package writes and reads.
	FormatVersion = 1
	// DefaultChunkSize is the plaintext size of every chunk but the last.
	DefaultChunkSize = 64 << 10
	// MinChunkSize and MaxChunkSize bound the chunk size a ciphertext may
	// declare; MaxChunkSize bounds the memory Decrypt allocates.
	MinChunkSize = 16
	MaxChunkSize = 4 << 20
	// MaxRecipients bounds the identities one ciphertext is encrypted to.
	MaxRecipients = 1024

	fileFormatName = "sticky-ibe-file-v1"
	suiteID        = 1 // BF-FullIdent/BLS12-381 (Sticky H1), HKDF-SHA256, HMAC-SHA256, AES-256-GCM STREAM
	dataKeySize    = 32
	noncePrefixLen = 7
	tagSize        = 16
	macSize        = sha256.Size
	wrappedKeySize = MasterPublicKeySize + 2*dataKeySize
	maxIdentityStr = MaxIdentityLen + len(epochSep) + MaxEpochLen
	fixedHeaderLen = len(Magic) + 1 + 1 + 4 + noncePrefixLen + 2

	infoHeaderKey  = "sticky-ibe-v1 header mac key"
	infoPayloadKey = "sticky-ibe-v1 payload key"
)

// IsCiphertext reports whether prefix (at least the first 9 bytes of some
// data) starts like a Sticky IBE ciphertext of a supported version.
func IsCiphertext(prefix []byte) bool {
	return len(prefix) > len(Magic) && string(prefix[:len(Magic)]) == Magic && prefix[len(Magic)] == FormatVersion
}

// EncryptOption configures Encrypt.
type EncryptOption func(*encryptConfig)

type encryptConfig struct {
	chunkSize int
}

// WithChunkSize sets the plaintext chunk size (between MinChunkSize and
// MaxChunkSize; default DefaultChunkSize).
func WithChunkSize(n int) EncryptOption { return func(c *encryptConfig) { c.chunkSize = n } }

// Encrypt reads the plaintext from r until EOF and writes to w a ciphertext
// that each of identities (see ParseIdentity; duplicates are merged) can open
// with its identity key. A fresh 32-byte data key is wrapped with
// BF-FullIdent once per identity; the data is encrypted with AES-256-GCM in
// chunks (STREAM construction), in constant memory. rand supplies the data
// key, the nonce prefix and each σ (nil means crypto/rand). Errors wrap
// ErrInvalidIdentity for bad identities; I/O errors are returned as they are.
func Encrypt(w io.Writer, r io.Reader, params *Params, identities []string, rand io.Reader, opts ...EncryptOption) error {
	cfg := encryptConfig{chunkSize: DefaultChunkSize}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.chunkSize < MinChunkSize || cfg.chunkSize > MaxChunkSize {
		return fmt.Errorf("ibe: chunk size %d is outside [%d, %d]", cfg.chunkSize, MinChunkSize, MaxChunkSize)
	}
	if !params.valid() {
		return errors.New("ibe: missing or invalid public parameters (use ParseParams or (*PKG).Params)")
	}
	if rand == nil {
		rand = cryptoRand()
	}
	ids, err := canonicalRecipients(identities)
	if err != nil {
		return err
	}
	dataKey := make([]byte, dataKeySize)
	if _, err := io.ReadFull(rand, dataKey); err != nil {
		return fmt.Errorf("ibe: reading randomness: %w", err)
	}
	var prefix [noncePrefixLen]byte
	if _, err := io.ReadFull(rand, prefix[:]); err != nil {
		return fmt.Errorf("ibe: reading randomness: %w", err)
	}
	hdr := make([]byte, 0, fixedHeaderLen+len(ids)*(2+32+wrappedKeySize)+macSize)
	hdr = append(hdr, Magic...)
	hdr = append(hdr, FormatVersion, suiteID)
	hdr = binary.BigEndian.AppendUint32(hdr, uint32(cfg.chunkSize))
	hdr = append(hdr, prefix[:]...)
	hdr = binary.BigEndian.AppendUint16(hdr, uint16(len(ids)))
	s := stickySuite()
	for _, id := range ids {
		c, err := s.encrypt(&params.mpk, s.hashID(id.h1Input()), dataKey, rand)
		if err != nil {
			return fmt.Errorf("ibe: wrapping the data key for %s: %w", id, err)
		}
		name := id.String()
		hdr = binary.BigEndian.AppendUint16(hdr, uint16(len(name)))
		hdr = append(hdr, name...)
		hdr = append(hdr, c.marshal()...)
	}
	macKey, aead := deriveKeys(dataKey)
	mac := hmac.New(sha256.New, macKey)
	mac.Write(hdr)
	hdr = mac.Sum(hdr)
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	return sealStream(w, r, aead, prefix, hdr[len(hdr)-macSize:], cfg.chunkSize)
}

func canonicalRecipients(identities []string) ([]Identity, error) {
	if len(identities) == 0 {
		return nil, fmt.Errorf("%w: no recipient identity given", ErrInvalidIdentity)
	}
	seen := make(map[string]bool, len(identities))
	ids := make([]Identity, 0, len(identities))
	for _, s := range identities {
		id, err := ParseIdentity(s)
		if err != nil {
			return nil, err
		}
		if seen[id.String()] {
			continue
		}
		seen[id.String()] = true
		ids = append(ids, id)
	}
	if len(ids) > MaxRecipients {
		return nil, fmt.Errorf("%w: %d recipients, at most %d", ErrInvalidIdentity, len(ids), MaxRecipients)
	}
	return ids, nil
}

// deriveKeys derives the header MAC key and the payload AEAD from the data key.
func deriveKeys(dataKey []byte) ([]byte, cipher.AEAD) {
	macKey, err := hkdf.Key(sha256.New, dataKey, nil, infoHeaderKey, 32)
	if err != nil {
		panic("ibe: hkdf: " + err.Error()) // cannot happen for 32 bytes
	}
	encKey, err := hkdf.Key(sha256.New, dataKey, nil, infoPayloadKey, 32)
	if err != nil {
		panic("ibe: hkdf: " + err.Error())
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		panic("ibe: aes: " + err.Error())
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("ibe: gcm: " + err.Error())
	}
	return macKey, aead
}

// chunkNonce is prefix ‖ u32be(counter) ‖ last-chunk flag.
func chunkNonce(n *[12]byte, prefix [noncePrefixLen]byte, counter uint32, last bool) {
	copy(n[:], prefix[:])
	binary.BigEndian.PutUint32(n[noncePrefixLen:], counter)
	n[11] = 0
	if last {
		n[11] = 1
	}
}

func sealStream(w io.Writer, r io.Reader, aead cipher.AEAD, prefix [noncePrefixLen]byte, aad []byte, chunk int) error {
	buf := make([]byte, chunk+1)
	out := make([]byte, 0, chunk+tagSize)
	var nonce [12]byte
	n, err := io.ReadFull(r, buf)
	for counter := uint32(0); ; counter++ {
		switch err {
		case nil: // a full chunk and at least one more byte: not the last chunk
			if counter == math.MaxUint32 {
				return errors.New("ibe: plaintext too long for this chunk size")
			}
			chunkNonce(&nonce, prefix, counter, false)
			if _, err := w.Write(aead.Seal(out[:0], nonce[:], buf[:chunk], aad)); err != nil {
				return err
			}
			buf[0] = buf[chunk]
			var m int
			m, err = io.ReadFull(r, buf[1:])
			n = 1 + m
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
		case io.EOF, io.ErrUnexpectedEOF: // the last chunk, possibly empty
			chunkNonce(&nonce, prefix, counter, true)
			_, err := w.Write(aead.Seal(out[:0], nonce[:], buf[:n], aad))
			return err
		default:
			return fmt.Errorf("ibe: reading the plaintext: %w", err)
		}
	}
}

// Header is the parsed, not yet authenticated, header of a ciphertext.
type Header struct {
	// Version is the format version (FormatVersion).
	Version int
	// ChunkSize is the plaintext size of every chunk but the last.
	ChunkSize int
	// Recipients are the canonical identities the data key is wrapped to.
	Recipients []string

	noncePrefix [noncePrefixLen]byte
	wrapped     [][]byte
	signed      []byte // every header byte before the MAC
	mac         []byte
}

// ParseHeader reads and parses a ciphertext header from r, leaving r at the
// first data chunk. The header is authenticated only by Decrypt (it needs the
// data key); the recipient list is informative until then. Errors wrap
// ErrFormat or ErrTruncated.
func ParseHeader(r io.Reader) (*Header, error) {
	var raw bytes.Buffer
	read := func(n int, what string) ([]byte, error) {
		start := raw.Len()
		if _, err := io.CopyN(&raw, r, int64(n)); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				if start == 0 && raw.Len() == 0 {
					return nil, fmt.Errorf("%w: empty input is not a Sticky IBE ciphertext", ErrFormat)
				}
				return nil, fmt.Errorf("%w: the header ends inside the %s", ErrTruncated, what)
			}
			return nil, err
		}
		return raw.Bytes()[start:], nil
	}
	b, err := read(len(Magic)+2, "magic")
	if err != nil {
		return nil, err
	}
	if string(b[:len(Magic)]) != Magic {
		return nil, fmt.Errorf("%w: not a Sticky IBE ciphertext (bad magic)", ErrFormat)
	}
	if b[len(Magic)] != FormatVersion {
		return nil, fmt.Errorf("%w: unsupported format version %d (this program reads version %d)", ErrFormat, b[len(Magic)], FormatVersion)
	}
	if b[len(Magic)+1] != suiteID {
		return nil, fmt.Errorf("%w: unsupported cipher suite %d", ErrFormat, b[len(Magic)+1])
	}
	h := &Header{Version: FormatVersion}
	if b, err = read(4+noncePrefixLen+2, "fixed header"); err != nil {
		return nil, err
	}
	cs := binary.BigEndian.Uint32(b)
	if cs < MinChunkSize || cs > MaxChunkSize {
		return nil, fmt.Errorf("%w: chunk size %d is outside [%d, %d]", ErrFormat, cs, MinChunkSize, MaxChunkSize)
	}
	h.ChunkSize = int(cs)
	copy(h.noncePrefix[:], b[4:])
	count := int(binary.BigEndian.Uint16(b[4+noncePrefixLen:]))
	if count == 0 || count > MaxRecipients {
		return nil, fmt.Errorf("%w: %d recipients, want 1 to %d", ErrFormat, count, MaxRecipients)
	}
	seen := make(map[string]bool, count)
	for i := range count {
		if b, err = read(2, "recipient list"); err != nil {
			return nil, err
		}
		l := int(binary.BigEndian.Uint16(b))
		if l == 0 || l > maxIdentityStr {
			return nil, fmt.Errorf("%w: recipient %d: identity length %d is outside [1, %d]", ErrFormat, i+1, l, maxIdentityStr)
		}
		if b, err = read(l+wrappedKeySize, "recipient list"); err != nil {
			return nil, err
		}
		name := string(b[:l])
		id, err := ParseIdentity(name)
		if err != nil || id.String() != name {
			return nil, fmt.Errorf("%w: recipient %d: %q is not a canonical identity", ErrFormat, i+1, truncateForError(name))
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: recipient %q is listed twice", ErrFormat, name)
		}
		seen[name] = true
		h.Recipients = append(h.Recipients, name)
		h.wrapped = append(h.wrapped, bytes.Clone(b[l:]))
	}
	signedLen := raw.Len()
	if _, err = read(macSize, "header MAC"); err != nil {
		return nil, err
	}
	all := raw.Bytes()
	h.signed, h.mac = all[:signedLen], all[signedLen:]
	return h, nil
}

// Decrypt reads a ciphertext from r and writes the plaintext to w, chunk by
// chunk, in constant memory. Each chunk is written only after it is
// authenticated, but a ciphertext cut short or modified further on is only
// detected when Decrypt gets there: the output is complete and authentic only
// if Decrypt returns nil, so callers writing to a file must discard it on
// error. Errors: ErrFormat (not a ciphertext), ErrNotRecipient (the key's
// identity is not listed), ErrWrongKey (the key does not open the wrapped
// data key), ErrAuthentication (header or chunk modified, chunks reordered),
// ErrTruncated (ends before its final chunk), ErrTrailingData (bytes after
// the final chunk); I/O errors as they are.
func Decrypt(w io.Writer, r io.Reader, key *PrivateKey) error {
	if key == nil {
		return errors.New("ibe: no key")
	}
	h, err := ParseHeader(r)
	if err != nil {
		return err
	}
	me := key.Identity()
	idx := -1
	for i, name := range h.Recipients {
		if name == me {
			idx = i
			break
		}
	}
	if idx < 0 {
		var sameName []string
		for _, name := range h.Recipients {
			if id, err := ParseIdentity(name); err == nil && id.Name == key.id.Name {
				sameName = append(sameName, name)
			}
		}
		if len(sameName) > 0 {
			return fmt.Errorf("%w: the key is for %s, but the ciphertext is for %s (another epoch: get the key for that epoch)", ErrNotRecipient, me, strings.Join(sameName, ", "))
		}
		return fmt.Errorf("%w: the key is for %s; the ciphertext is for %d other identit%s", ErrNotRecipient, me, len(h.Recipients), plural(len(h.Recipients), "y", "ies"))
	}
	c, err := unmarshalBF(h.wrapped[idx], dataKeySize)
	if err != nil {
		return err
	}
	dataKey, err := stickySuite().decrypt(&key.d, c)
	if err != nil {
		return fmt.Errorf("%w: the key for %s does not unwrap the data key (a key from another PKG, a corrupt key, or a modified recipient entry)", ErrWrongKey, me)
	}
	macKey, aead := deriveKeys(dataKey)
	mac := hmac.New(sha256.New, macKey)
	mac.Write(h.signed)
	if !hmac.Equal(mac.Sum(nil), h.mac) {
		return fmt.Errorf("%w: the header was modified", ErrAuthentication)
	}
	return openStream(w, r, aead, h.noncePrefix, h.mac, h.ChunkSize)
}

func openStream(w io.Writer, r io.Reader, aead cipher.AEAD, prefix [noncePrefixLen]byte, aad []byte, chunk int) error {
	full := chunk + tagSize
	buf := make([]byte, full+1)
	out := make([]byte, 0, chunk)
	var nonce [12]byte
	n, err := io.ReadFull(r, buf)
	for counter := uint32(0); ; counter++ {
		switch err {
		case nil: // a full chunk followed by more data: not the last chunk
			chunkNonce(&nonce, prefix, counter, false)
			pt, oerr := aead.Open(out[:0], nonce[:], buf[:full], aad)
			if oerr != nil {
				chunkNonce(&nonce, prefix, counter, true)
				if _, lerr := aead.Open(out[:0], nonce[:], buf[:full], aad); lerr == nil {
					return fmt.Errorf("%w: bytes follow the final chunk (%d)", ErrTrailingData, counter)
				}
				return fmt.Errorf("%w: chunk %d was modified or moved", ErrAuthentication, counter)
			}
			if counter == math.MaxUint32 {
				return fmt.Errorf("%w: too many chunks", ErrFormat)
			}
			if _, err := w.Write(pt); err != nil {
				return err
			}
			buf[0] = buf[full]
			var m int
			m, err = io.ReadFull(r, buf[1:])
			n = 1 + m
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
		case io.EOF, io.ErrUnexpectedEOF: // the final chunk
			if n < tagSize {
				if n == 0 {
					return fmt.Errorf("%w: the data ends before chunk %d", ErrTruncated, counter)
				}
				return fmt.Errorf("%w: chunk %d is cut short (%d bytes)", ErrTruncated, counter, n)
			}
			chunkNonce(&nonce, prefix, counter, true)
			pt, oerr := aead.Open(out[:0], nonce[:], buf[:n], aad)
			if oerr != nil {
				chunkNonce(&nonce, prefix, counter, false)
				if _, lerr := aead.Open(out[:0], nonce[:], buf[:n], aad); lerr == nil {
					return fmt.Errorf("%w: the data ends after chunk %d, which is not the final chunk", ErrTruncated, counter)
				}
				return fmt.Errorf("%w: the last chunk (%d) was modified, moved or cut short", ErrAuthentication, counter)
			}
			_, err := w.Write(pt)
			return err
		default:
			return fmt.Errorf("ibe: reading the ciphertext: %w", err)
		}
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
