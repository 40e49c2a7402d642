package ibe

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/cloudflare/circl/ecc/bls12381"
)

type katVector struct {
	MasterPublicKey string `json:"master_public_key_g2"`
	Identity        string `json:"identity"`
	IdentityKey     string `json:"identity_private_key_g1"`
	DST             string `json:"dst_g1"`
	Ciphertext      struct {
		U, V, W string
	} `json:"ciphertext"`
	Sigma     string `json:"sigma"`
	Plaintext string `json:"plaintext"`
}

func loadKAT(t testing.TB) katVector {
	t.Helper()
	data, err := os.ReadFile("testdata/quicknet.json")
	if err != nil {
		t.Fatal(err)
	}
	var v katVector
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// TestKyberKnownAnswer decrypts drand quicknet's real ciphertext and
// re-encrypts it with the same σ, byte for byte, in kyber-compatible mode.
func TestKyberKnownAnswer(t *testing.T) {
	v := loadKAT(t)
	if v.DST != KyberH1DST {
		t.Fatalf("vector DST %q, kyber suite uses %q", v.DST, KyberH1DST)
	}
	s := kyberSuite()
	var mpk bls12381.G2
	if err := mpk.SetBytes(mustHex(t, v.MasterPublicKey)); err != nil {
		t.Fatalf("master public key: %v", err)
	}
	var d bls12381.G1
	if err := d.SetBytes(mustHex(t, v.IdentityKey)); err != nil {
		t.Fatalf("identity key: %v", err)
	}
	id := mustHex(t, v.Identity)
	wire := append(append(mustHex(t, v.Ciphertext.U), mustHex(t, v.Ciphertext.V)...), mustHex(t, v.Ciphertext.W)...)
	plain := mustHex(t, v.Plaintext)

	t.Run("identity key verifies", func(t *testing.T) {
		// e(d_id, g2) == e(H1(id), mpk)
		lhs := bls12381.Pair(&d, bls12381.G2Generator())
		rhs := bls12381.Pair(s.hashID(id), &mpk)
		if !lhs.IsEqual(rhs) {
			t.Fatal("pairing check failed for the vector's identity key")
		}
	})
	t.Run("decrypt", func(t *testing.T) {
		c, err := unmarshalBF(wire, len(plain))
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.decrypt(&d, c)
		if err != nil {
			t.Fatalf("decrypt: %v", err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("plaintext %x, want %x", got, plain)
		}
	})
	t.Run("encrypt with sigma reproduces U V W", func(t *testing.T) {
		c, err := s.encryptWithSigma(&mpk, s.hashID(id), plain, mustHex(t, v.Sigma))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.marshal(); !bytes.Equal(got, wire) {
			t.Fatalf("ciphertext\n got %x\nwant %x", got, wire)
		}
	})
	t.Run("flipped V is rejected", func(t *testing.T) {
		bad := bytes.Clone(wire)
		bad[MasterPublicKeySize] ^= 1
		c, err := unmarshalBF(bad, len(plain))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.decrypt(&d, c); err == nil {
			t.Fatal("decrypt accepted a modified V")
		}
	})
	t.Run("sticky mode key differs", func(t *testing.T) {
		if stickySuite().hashID(id).IsEqual(s.hashID(id)) {
			t.Fatal("sticky and kyber H1 agree on the same input")
		}
	})
}
