package ibe

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"

	"github.com/cloudflare/circl/ecc/bls12381"
)

// Version strings of the Sticky IBE formats.
const (
	// ParamsVersion names this scheme in the public parameters.
	ParamsVersion = "sticky-ibe-v1"
	// schemeDescription is the human-readable scheme name in Params JSON.
	schemeDescription = "Boneh-Franklin FullIdent (Fujisaki-Okamoto) on BLS12-381; master public key in G2, identity keys in G1, U in G2 (drand/kyber encrypt/ibe EncryptCCAonG2 layout)"
	// identityEncoding documents the H1 input in Params JSON.
	identityEncoding = "\"sticky-ibe-v1\" 0x00 || u16be(len(name)) || name || u16be(len(epoch)) || epoch; name and epoch canonical (trimmed, ASCII lower-case)"
)

// Params are the PKG's public parameters: the master public key mpk = s·g2 in
// G2 and, when the PKG has one, the CA certificate that signs X.509 key
// certificates. Params are safe to publish.
type Params struct {
	mpk bls12381.G2
	ca  *x509.Certificate
}

// NewParams returns parameters for a compressed master public key (96 bytes,
// a point of G2 other than the identity) and an optional CA certificate.
func NewParams(masterPublicKey []byte, ca *x509.Certificate) (*Params, error) {
	p := &Params{ca: ca}
	if len(masterPublicKey) != MasterPublicKeySize {
		return nil, fmt.Errorf("%w: master public key is %d bytes, want %d", ErrFormat, len(masterPublicKey), MasterPublicKeySize)
	}
	if err := p.mpk.SetBytes(masterPublicKey); err != nil {
		return nil, fmt.Errorf("%w: master public key is not a point of G2", ErrFormat)
	}
	if p.mpk.IsIdentity() {
		return nil, fmt.Errorf("%w: master public key is the identity point", ErrFormat)
	}
	return p, nil
}

// valid reports whether p holds a usable master public key (a zero Params
// does not).
func (p *Params) valid() bool {
	return p != nil && p.mpk.IsOnG2() && !p.mpk.IsIdentity()
}

// MasterPublicKey returns the compressed master public key (96 bytes).
func (p *Params) MasterPublicKey() []byte { return p.mpk.BytesCompressed() }

// Fingerprint returns SHA-256 of the compressed master public key, in hex. It
// names the PKG: two parameter sets with the same fingerprint are the same.
func (p *Params) Fingerprint() string {
	sum := sha256.Sum256(p.mpk.BytesCompressed())
	return hex.EncodeToString(sum[:])
}

// CACertificate returns the certificate of the CA that signs X.509 key
// certificates, or nil if the parameters carry none.
func (p *Params) CACertificate() *x509.Certificate { return p.ca }

// paramsJSON is the text form of Params.
type paramsJSON struct {
	Version          string `json:"version"`
	Scheme           string `json:"scheme"`
	MasterPublicKey  string `json:"master_public_key"`
	Fingerprint      string `json:"fingerprint"`
	H1DST            string `json:"h1_dst"`
	IdentityEncoding string `json:"identity_encoding"`
	FileFormat       string `json:"file_format"`
	CACertificate    string `json:"ca_certificate,omitempty"`
}

// MarshalText returns the parameters as a JSON object (the body of GET
// /v1/ibe/params): version, scheme, master_public_key (hex), fingerprint,
// h1_dst, identity_encoding, file_format and ca_certificate (PEM, optional).
func (p *Params) MarshalText() ([]byte, error) {
	j := paramsJSON{
		Version:          ParamsVersion,
		Scheme:           schemeDescription,
		MasterPublicKey:  hex.EncodeToString(p.mpk.BytesCompressed()),
		Fingerprint:      p.Fingerprint(),
		H1DST:            StickyH1DST,
		IdentityEncoding: identityEncoding,
		FileFormat:       fileFormatName,
	}
	if p.ca != nil {
		j.CACertificate = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.ca.Raw}))
	}
	return json.MarshalIndent(j, "", "  ")
}

// MarshalJSON is MarshalText, so that Params embed as a JSON object.
func (p *Params) MarshalJSON() ([]byte, error) { return p.MarshalText() }

// UnmarshalJSON is UnmarshalText.
func (p *Params) UnmarshalJSON(b []byte) error { return p.UnmarshalText(b) }

// UnmarshalText parses the JSON form written by MarshalText. It refuses
// parameters of another version or hash domain, a master public key that is
// not a point of G2, a fingerprint that does not match, and a CA certificate
// that does not parse. Errors wrap ErrFormat.
func (p *Params) UnmarshalText(b []byte) error {
	var j paramsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("%w: IBE parameters are not valid JSON: %v", ErrFormat, err)
	}
	if j.Version != ParamsVersion {
		return fmt.Errorf("%w: IBE parameters have version %q, want %q", ErrFormat, j.Version, ParamsVersion)
	}
	if j.H1DST != "" && j.H1DST != StickyH1DST {
		return fmt.Errorf("%w: IBE parameters use H1 tag %q, want %q", ErrFormat, j.H1DST, StickyH1DST)
	}
	raw, err := hex.DecodeString(j.MasterPublicKey)
	if err != nil {
		return fmt.Errorf("%w: master_public_key is not hex", ErrFormat)
	}
	q, err := NewParams(raw, nil)
	if err != nil {
		return err
	}
	if j.Fingerprint != "" && j.Fingerprint != q.Fingerprint() {
		return fmt.Errorf("%w: fingerprint does not match the master public key", ErrFormat)
	}
	if j.CACertificate != "" {
		block, _ := pem.Decode([]byte(j.CACertificate))
		if block == nil || block.Type != "CERTIFICATE" {
			return fmt.Errorf("%w: ca_certificate is not a PEM certificate", ErrFormat)
		}
		ca, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return fmt.Errorf("%w: ca_certificate: %v", ErrFormat, err)
		}
		q.ca = ca
	}
	*p = *q
	return nil
}

// ParseParams parses the text form of Params (see UnmarshalText).
func ParseParams(b []byte) (*Params, error) {
	p := new(Params)
	if err := p.UnmarshalText(b); err != nil {
		return nil, err
	}
	return p, nil
}
