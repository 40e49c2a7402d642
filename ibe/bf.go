package ibe

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/cloudflare/circl/ecc/bls12381"
)

// Hash domain separation tags.
const (
	// StickyH1DST is the RFC 9380 domain separation tag of H1 (hash_to_curve
	// to G1, SSWU random oracle, expand_message_xmd with SHA-256) in Sticky
	// mode. Because it differs from drand's, a Sticky identity key can never
	// double as a drand/tlock beacon signature or a BLS signature, and the
	// other way round.
	StickyH1DST = "STICKY-IBE-V1-H1_BLS12381G1_XMD:SHA-256_SSWU_RO_"

	// KyberH1DST is the H1 tag of drand/kyber encrypt/ibe on BLS12-381 with
	// identity keys in G1 (drand's "bls-unchained-g1-rfc9380" scheme). It is
	// only used to check compatibility with kyber (known-answer test).
	KyberH1DST = "BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_"

	h2Tag = "IBE-H2"
	h3Tag = "IBE-H3"
	h4Tag = "IBE-H4"
)

// Sizes of the Boneh–Franklin pieces.
const (
	// MasterPublicKeySize is the size of a compressed G2 point.
	MasterPublicKeySize = bls12381.G2SizeCompressed
	// IdentityKeySize is the size of a compressed G1 point.
	IdentityKeySize = bls12381.G1SizeCompressed
	// maxMessage is the longest message BF-FullIdent encrypts here (one
	// SHA-256 output, as in kyber).
	maxMessage = sha256.Size
)

// suite is one instantiation of BF-FullIdent: how identities are hashed to
// G1. H2, H3 and H4 are kyber's in both modes.
type suite struct {
	dst []byte
}

var (
	errBFCheck   = errors.New("FullIdent consistency check failed")
	errBFMessage = errors.New("message longer than 32 bytes or empty")
)

func stickySuite() suite { return suite{dst: []byte(StickyH1DST)} }
func kyberSuite() suite  { return suite{dst: []byte(KyberH1DST)} }

// hashID is H1: RFC 9380 hash_to_curve to G1.
func (s suite) hashID(id []byte) *bls12381.G1 {
	var q bls12381.G1
	q.Hash(id, s.dst)
	return &q
}

// bfCiphertext is a kyber EncryptCCAonG2 ciphertext: U in G2, V = σ ⊕ H2(g_id^r),
// W = M ⊕ H4(σ).
type bfCiphertext struct {
	U    bls12381.G2
	V, W []byte
}

// marshal returns U (compressed, 96 bytes) ‖ V ‖ W.
func (c *bfCiphertext) marshal() []byte {
	b := make([]byte, 0, MasterPublicKeySize+len(c.V)+len(c.W))
	b = append(b, c.U.BytesCompressed()...)
	b = append(b, c.V...)
	return append(b, c.W...)
}

// unmarshalBF parses U ‖ V ‖ W with |V| = |W| = msgLen.
func unmarshalBF(b []byte, msgLen int) (*bfCiphertext, error) {
	if len(b) != MasterPublicKeySize+2*msgLen {
		return nil, fmt.Errorf("%w: wrapped key is %d bytes, want %d", ErrFormat, len(b), MasterPublicKeySize+2*msgLen)
	}
	c := new(bfCiphertext)
	if err := c.U.SetBytes(b[:MasterPublicKeySize]); err != nil {
		return nil, fmt.Errorf("%w: wrapped key: U is not a point of G2", ErrFormat)
	}
	c.V = append([]byte(nil), b[MasterPublicKeySize:MasterPublicKeySize+msgLen]...)
	c.W = append([]byte(nil), b[MasterPublicKeySize+msgLen:]...)
	return c, nil
}

// encrypt is BF-FullIdent encryption of msg to the identity hashed as qid
// under master public key mpk, with a fresh σ read from rand.
func (s suite) encrypt(mpk *bls12381.G2, qid *bls12381.G1, msg []byte, rand io.Reader) (*bfCiphertext, error) {
	if len(msg) == 0 || len(msg) > maxMessage {
		return nil, errBFMessage
	}
	sigma := make([]byte, len(msg))
	if _, err := io.ReadFull(rand, sigma); err != nil {
		return nil, fmt.Errorf("ibe: reading randomness: %w", err)
	}
	return s.encryptWithSigma(mpk, qid, msg, sigma)
}

// encryptWithSigma is the deterministic core of encrypt (the test hook for the
// known-answer vector):
//
//	r = H3(σ, M); U = r·g2; V = σ ⊕ H2(e(Q_id, mpk)^r); W = M ⊕ H4(σ).
func (s suite) encryptWithSigma(mpk *bls12381.G2, qid *bls12381.G1, msg, sigma []byte) (*bfCiphertext, error) {
	if len(msg) == 0 || len(msg) > maxMessage || len(sigma) != len(msg) {
		return nil, errBFMessage
	}
	r := h3(sigma, msg)
	c := new(bfCiphertext)
	c.U.ScalarMult(r, bls12381.G2Generator())
	// e(Q_id, mpk)^r = e(r·Q_id, mpk): a G1 multiplication is cheaper than
	// an exponentiation in Gt.
	var rq bls12381.G1
	rq.ScalarMult(r, qid)
	g := bls12381.Pair(&rq, mpk)
	c.V = xorBytes(sigma, h2(g, len(msg)))
	c.W = xorBytes(msg, h4(sigma, len(msg)))
	return c, nil
}

// decrypt is BF-FullIdent decryption with identity key d:
//
//	σ = V ⊕ H2(e(d, U)); M = W ⊕ H4(σ); r = H3(σ, M); reject unless U = r·g2.
func (s suite) decrypt(d *bls12381.G1, c *bfCiphertext) ([]byte, error) {
	if len(c.V) == 0 || len(c.V) > maxMessage || len(c.W) != len(c.V) {
		return nil, errBFMessage
	}
	g := bls12381.Pair(d, &c.U)
	sigma := xorBytes(c.V, h2(g, len(c.V)))
	msg := xorBytes(c.W, h4(sigma, len(c.W)))
	r := h3(sigma, msg)
	var u bls12381.G2
	u.ScalarMult(r, bls12381.G2Generator())
	if !u.IsEqual(&c.U) {
		return nil, errBFCheck
	}
	return msg, nil
}

// h2 is SHA-256("IBE-H2" ‖ Gt bytes)[:n].
func h2(g *bls12381.Gt, n int) []byte {
	b, err := g.MarshalBinary()
	if err != nil { // cannot happen: Gt always marshals
		panic("ibe: Gt.MarshalBinary: " + err.Error())
	}
	h := sha256.New()
	h.Write([]byte(h2Tag))
	h.Write(b)
	return h.Sum(nil)[:n]
}

// h4 is SHA-256("IBE-H4" ‖ σ)[:n].
func h4(sigma []byte, n int) []byte {
	h := sha256.New()
	h.Write([]byte(h4Tag))
	h.Write(sigma)
	return h.Sum(nil)[:n]
}

// order is the group order, big-endian.
var order = bls12381.Order()

// h3 maps (σ, M) to a scalar as kyber does: h = SHA-256("IBE-H3" ‖ σ ‖ M);
// for i = 1, 2, ...: t = SHA-256(LE16(i) ‖ h) with t[0] shifted right by one
// bit (kyber's "masking": t[0] >> 1, NOT t[0] & 0x7f — only the shift
// reproduces the drand known-answer vector); the first t below the group
// order, read big-endian.
func h3(sigma, msg []byte) *bls12381.Scalar {
	h := sha256.New()
	h.Write([]byte(h3Tag))
	h.Write(sigma)
	h.Write(msg)
	base := h.Sum(nil)
	var iter [2]byte
	for i := uint16(1); i < 65535; i++ {
		h.Reset()
		binary.LittleEndian.PutUint16(iter[:], i)
		h.Write(iter[:])
		h.Write(base)
		t := h.Sum(nil)
		t[0] >>= 1
		if lessThanOrder(t) {
			var k bls12381.Scalar
			k.SetBytes(t)
			return &k
		}
	}
	// Each try succeeds with probability > 0.9; 65534 failures do not happen.
	panic("ibe: H3 found no scalar")
}

func lessThanOrder(t []byte) bool {
	for i := range t {
		if t[i] != order[i] {
			return t[i] < order[i]
		}
	}
	return false
}

func xorBytes(a, b []byte) []byte {
	out := make([]byte, len(a))
	subtle.XORBytes(out, a, b)
	return out
}
