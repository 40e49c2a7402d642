package ibe

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
)

// OIDSealedIdentityKey identifies the non-critical X.509 extension that
// carries an identity private key sealed to the certificate's key-agreement
// key (see docs/ibe.md). It sits under the IANA private enterprise arc
// 1.3.6.1.4.1 with an UNREGISTERED enterprise number (99999): a deployment
// that needs a globally unique OID must register a PEN and change it.
var OIDSealedIdentityKey = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1, 1}

const (
	sealVersion = 1
	infoSeal    = "sticky-ibe-v1 x509 sealed identity key"
	// DefaultCertValidity is how long a key certificate is valid by default.
	DefaultCertValidity = 365 * 24 * time.Hour
)

// sealedIdentityKey is the DER value of the OIDSealedIdentityKey extension:
//
//	SealedIdentityKey ::= SEQUENCE {
//	  version            INTEGER (1),
//	  identity           UTF8String,   -- canonical identity string
//	  pkgFingerprint     OCTET STRING, -- SHA-256 of the master public key
//	  ephemeralPublicKey OCTET STRING, -- same curve as the certified key
//	  sealedKey          OCTET STRING  -- AES-256-GCM(d_id compressed) ‖ tag
//	}
type sealedIdentityKey struct {
	Version        int
	Identity       string `asn1:"utf8"`
	PKGFingerprint []byte
	Ephemeral      []byte
	Sealed         []byte
}

// CertOption configures KeyCertificate.
type CertOption func(*certConfig)

type certConfig struct {
	publicKeyPEM []byte
	validity     time.Duration
}

// WithPublicKeyPEM certifies the caller's own key-agreement public key (PEM
// "PUBLIC KEY" holding an X25519 or EC P-256 key, as written by `openssl pkey
// -pubout` or x509.MarshalPKIXPublicKey) instead of generating a key pair. An
// empty value means none.
func WithPublicKeyPEM(pemBytes []byte) CertOption {
	return func(c *certConfig) { c.publicKeyPEM = pemBytes }
}

// WithValidity sets how long the certificate is valid from now (default
// DefaultCertValidity).
func WithValidity(d time.Duration) CertOption { return func(c *certConfig) { c.validity = d } }

// KeyCertificate delivers identity key k in an X.509 certificate signed by
// the PKG's CA. The certificate's public key is the delegate's key-agreement
// key, and k is sealed to it (ephemeral ECDH, HKDF-SHA256, AES-256-GCM) in
// the non-critical extension OIDSealedIdentityKey. With WithPublicKeyPEM the
// result is the certificate alone (PEM); without it the PKG generates a P-256
// key pair and returns the certificate followed by the PKCS#8 private key in
// one PEM bundle (which the PKG does not keep). The certificate's subject CN
// is the canonical identity (plus an e-mail SAN for addresses); key usage is
// keyAgreement. Errors wrap ErrFormat for a public key that is not a PEM
// X25519 or P-256 key.
func (p *PKG) KeyCertificate(k *PrivateKey, opts ...CertOption) ([]byte, error) {
	cfg := certConfig{validity: DefaultCertValidity}
	for _, o := range opts {
		o(&cfg)
	}
	if k == nil {
		return nil, errors.New("ibe: no key to certify")
	}
	var (
		recipient *ecdh.PublicKey
		certPub   any // nil for X25519
		privPEM   []byte
	)
	if len(bytes.TrimSpace(cfg.publicKeyPEM)) > 0 {
		pub, err := parseAgreementPublicKey(cfg.publicKeyPEM)
		if err != nil {
			return nil, err
		}
		recipient = pub
		if pub.Curve() == ecdh.P256() {
			if certPub, err = ecdsaFromECDH(pub); err != nil {
				return nil, err
			}
		}
	} else {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), p.rand)
		if err != nil {
			return nil, fmt.Errorf("ibe: generating a key-agreement key: %w", err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return nil, fmt.Errorf("ibe: encoding the key-agreement key: %w", err)
		}
		privPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		if recipient, err = priv.PublicKey.ECDH(); err != nil {
			return nil, fmt.Errorf("ibe: key-agreement key: %w", err)
		}
		certPub = &priv.PublicKey
	}
	ext, err := p.seal(k, recipient)
	if err != nil {
		return nil, err
	}
	now := p.clock.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(p.rand),
		Subject:               pkix.Name{CommonName: k.id.String()},
		NotBefore:             now.Add(-5 * time.Minute),
		NotAfter:              now.Add(cfg.validity),
		KeyUsage:              x509.KeyUsageKeyAgreement,
		BasicConstraintsValid: true,
		ExtraExtensions:       []pkix.Extension{{Id: OIDSealedIdentityKey, Critical: false, Value: ext}},
	}
	if strings.Contains(k.id.Name, "@") {
		tmpl.EmailAddresses = []string{k.id.Name}
	}
	var der []byte
	if certPub != nil {
		der, err = x509.CreateCertificate(p.rand, tmpl, p.caCert, certPub, p.caKey)
	} else {
		der, err = p.createX25519Certificate(tmpl, recipient)
	}
	if err != nil {
		return nil, fmt.Errorf("ibe: creating the key certificate: %w", err)
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return append(out, privPEM...), nil
}

// seal returns the DER SealedIdentityKey for k, sealed to recipient.
func (p *PKG) seal(k *PrivateKey, recipient *ecdh.PublicKey) ([]byte, error) {
	eph, err := recipient.Curve().GenerateKey(p.rand)
	if err != nil {
		return nil, fmt.Errorf("ibe: generating an ephemeral key: %w", err)
	}
	shared, err := eph.ECDH(recipient)
	if err != nil {
		return nil, fmt.Errorf("%w: key agreement with the public key failed: %v", ErrFormat, err)
	}
	fp, _ := hex.DecodeString(p.params.Fingerprint())
	aead, nonce := sealAEAD(shared, eph.PublicKey().Bytes(), recipient.Bytes())
	v := sealedIdentityKey{
		Version:        sealVersion,
		Identity:       k.id.String(),
		PKGFingerprint: fp,
		Ephemeral:      eph.PublicKey().Bytes(),
	}
	v.Sealed = aead.Seal(nil, nonce, k.d.BytesCompressed(), sealAAD(v.Identity, fp))
	return asn1.Marshal(v)
}

// sealAEAD derives the AES-256-GCM key and nonce from the ECDH secret:
// HKDF-SHA256(secret, salt = ephemeral ‖ recipient public key, info) → 44 bytes.
func sealAEAD(shared, ephPub, recipientPub []byte) (cipher.AEAD, []byte) {
	salt := append(append([]byte(nil), ephPub...), recipientPub...)
	okm, err := hkdf.Key(sha256.New, shared, salt, infoSeal, 32+12)
	if err != nil {
		panic("ibe: hkdf: " + err.Error())
	}
	block, err := aes.NewCipher(okm[:32])
	if err != nil {
		panic("ibe: aes: " + err.Error())
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("ibe: gcm: " + err.Error())
	}
	return aead, okm[32:]
}

func sealAAD(identity string, fingerprint []byte) []byte {
	aad := []byte("sticky-ibe-v1 sealed key\x00")
	aad = append(aad, identity...)
	aad = append(aad, 0)
	return append(aad, fingerprint...)
}

// parseAgreementPublicKey reads a PEM "PUBLIC KEY" holding an X25519 or a
// P-256 key.
func parseAgreementPublicKey(data []byte) (*ecdh.PublicKey, error) {
	block, _ := pem.Decode(bytes.TrimSpace(data))
	if block == nil {
		return nil, fmt.Errorf("%w: the public key is not PEM", ErrFormat)
	}
	if block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("%w: the public key PEM block is %q, want \"PUBLIC KEY\"", ErrFormat, block.Type)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: the public key does not parse: %v", ErrFormat, err)
	}
	switch k := k.(type) {
	case *ecdh.PublicKey: // ParsePKIXPublicKey returns X25519 keys so
		if k.Curve() != ecdh.X25519() {
			return nil, fmt.Errorf("%w: the public key must be an X25519 or P-256 key-agreement key", ErrFormat)
		}
		return k, nil
	case *ecdsa.PublicKey:
		ek, err := k.ECDH()
		if err != nil || ek.Curve() != ecdh.P256() {
			return nil, fmt.Errorf("%w: the public key is on %s; it must be an X25519 or P-256 key-agreement key", ErrFormat, k.Curve.Params().Name)
		}
		return ek, nil
	default:
		return nil, fmt.Errorf("%w: the public key is a %T; it must be an X25519 or P-256 key-agreement key", ErrFormat, k)
	}
}

func ecdsaFromECDH(k *ecdh.PublicKey) (*ecdsa.PublicKey, error) {
	ek, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), k.Bytes())
	if err != nil {
		return nil, fmt.Errorf("%w: P-256 public key: %v", ErrFormat, err)
	}
	return ek, nil
}

// parseKeyPEM reads a key certificate bundle: a CERTIFICATE carrying the
// OIDSealedIdentityKey extension and the key-agreement private key.
func parseKeyPEM(data []byte) (*PrivateKey, error) {
	var (
		cert *x509.Certificate
		priv *ecdh.PrivateKey
	)
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch block.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: the certificate does not parse: %v", ErrFormat, err)
			}
			if findExtension(c) != nil && cert == nil {
				cert = c
			}
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: the private key does not parse: %v", ErrFormat, err)
			}
			if priv, err = agreementPrivateKey(k); err != nil {
				return nil, err
			}
		case "EC PRIVATE KEY":
			k, err := x509.ParseECPrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: the EC private key does not parse: %v", ErrFormat, err)
			}
			if priv, err = agreementPrivateKey(k); err != nil {
				return nil, err
			}
		}
	}
	if cert == nil {
		return nil, fmt.Errorf("%w: no certificate with a sealed Sticky IBE key (extension %s) in the PEM data", ErrFormat, OIDSealedIdentityKey)
	}
	if priv == nil {
		return nil, fmt.Errorf("%w: the PEM data holds the certificate but no private key; append the PEM private key whose public key you sent", ErrFormat)
	}
	certPub, err := certAgreementKey(cert)
	if err != nil {
		return nil, err
	}
	if !certPub.Equal(priv.PublicKey()) {
		return nil, fmt.Errorf("%w: the private key does not belong to the certificate", ErrWrongKey)
	}
	var v sealedIdentityKey
	rest, err := asn1.Unmarshal(findExtension(cert).Value, &v)
	if err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: the sealed key extension is not valid DER", ErrFormat)
	}
	if v.Version != sealVersion {
		return nil, fmt.Errorf("%w: sealed key version %d, want %d", ErrFormat, v.Version, sealVersion)
	}
	id, err := ParseIdentity(v.Identity)
	if err != nil || id.String() != v.Identity {
		return nil, fmt.Errorf("%w: the sealed key's identity %q is not canonical", ErrFormat, truncateForError(v.Identity))
	}
	if cert.Subject.CommonName != v.Identity {
		return nil, fmt.Errorf("%w: the certificate names %q but its sealed key is for %q", ErrFormat, truncateForError(cert.Subject.CommonName), v.Identity)
	}
	eph, err := priv.Curve().NewPublicKey(v.Ephemeral)
	if err != nil {
		return nil, fmt.Errorf("%w: the sealed key's ephemeral public key is invalid", ErrFormat)
	}
	shared, err := priv.ECDH(eph)
	if err != nil {
		return nil, fmt.Errorf("%w: key agreement failed", ErrFormat)
	}
	aead, nonce := sealAEAD(shared, v.Ephemeral, priv.PublicKey().Bytes())
	raw, err := aead.Open(nil, nonce, v.Sealed, sealAAD(v.Identity, v.PKGFingerprint))
	if err != nil {
		return nil, fmt.Errorf("%w: the private key does not open the sealed identity key", ErrWrongKey)
	}
	k, err := newPrivateKey(id, raw)
	if err != nil {
		return nil, err
	}
	k.cert = cert
	return k, nil
}

func findExtension(c *x509.Certificate) *pkix.Extension {
	for i := range c.Extensions {
		if c.Extensions[i].Id.Equal(OIDSealedIdentityKey) {
			return &c.Extensions[i]
		}
	}
	return nil
}

func agreementPrivateKey(k any) (*ecdh.PrivateKey, error) {
	switch k := k.(type) {
	case *ecdh.PrivateKey:
		if k.Curve() == ecdh.X25519() || k.Curve() == ecdh.P256() {
			return k, nil
		}
	case *ecdsa.PrivateKey:
		if ek, err := k.ECDH(); err == nil && ek.Curve() == ecdh.P256() {
			return ek, nil
		}
	}
	return nil, fmt.Errorf("%w: the private key must be an X25519 or P-256 key", ErrFormat)
}

// certAgreementKey returns the certificate's key-agreement key. crypto/x509
// leaves PublicKey nil for X25519 certificates, so the SubjectPublicKeyInfo is
// parsed directly.
func certAgreementKey(c *x509.Certificate) (*ecdh.PublicKey, error) {
	pub := c.PublicKey
	if pub == nil {
		pub, _ = x509.ParsePKIXPublicKey(c.RawSubjectPublicKeyInfo)
	}
	switch k := pub.(type) {
	case *ecdh.PublicKey:
		return k, nil
	case *ecdsa.PublicKey:
		if ek, err := k.ECDH(); err == nil {
			return ek, nil
		}
	}
	return nil, fmt.Errorf("%w: the certificate's public key is not an X25519 or P-256 key", ErrFormat)
}

// createX25519Certificate issues tmpl for an X25519 public key. crypto/x509
// parses and marshals X25519 public keys but CreateCertificate refuses them,
// so the certificate is created for a throw-away P-256 key, its
// SubjectPublicKeyInfo is replaced by the X25519 one, and the CA signs the new
// TBSCertificate with the same algorithm. The result is parsed and its
// signature checked before it is returned.
func (p *PKG) createX25519Certificate(tmpl *x509.Certificate, pub *ecdh.PublicKey) ([]byte, error) {
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	placeholder, err := ecdsa.GenerateKey(elliptic.P256(), p.rand)
	if err != nil {
		return nil, err
	}
	t := *tmpl
	ski := sha256.Sum256(pub.Bytes())
	t.SubjectKeyId = ski[:20]
	der, err := x509.CreateCertificate(p.rand, &t, p.caCert, &placeholder.PublicKey, p.caKey)
	if err != nil {
		return nil, err
	}
	placed, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	var outer struct {
		TBS asn1.RawValue
		Alg asn1.RawValue
		Sig asn1.BitString
	}
	if rest, err := asn1.Unmarshal(der, &outer); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("re-parsing the certificate: %v", err)
	}
	var fields [][]byte
	for b := outer.TBS.Bytes; len(b) > 0; {
		var f asn1.RawValue
		if b, err = asn1.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("re-parsing the certificate: %v", err)
		}
		fields = append(fields, f.FullBytes)
	}
	// TBSCertificate: [0] version, serial, signature, issuer, validity,
	// subject, subjectPublicKeyInfo, ... (version is present for v3).
	if len(fields) < 7 || fields[0][0] != 0xa0 {
		return nil, errors.New("unexpected TBSCertificate layout")
	}
	fields[6] = spki
	tbs, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: bytes.Join(fields, nil)})
	if err != nil {
		return nil, err
	}
	var sig []byte
	switch placed.SignatureAlgorithm {
	case x509.ECDSAWithSHA256, x509.SHA256WithRSA:
		sum := sha256.Sum256(tbs)
		sig, err = p.caKey.Sign(p.rand, sum[:], crypto.SHA256)
	case x509.PureEd25519:
		sig, err = p.caKey.Sign(p.rand, tbs, crypto.Hash(0))
	default:
		return nil, fmt.Errorf("CA signature algorithm %v is not supported for X25519 certificates", placed.SignatureAlgorithm)
	}
	if err != nil {
		return nil, err
	}
	outer.TBS = asn1.RawValue{FullBytes: tbs}
	outer.Sig = asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}
	out, err := asn1.Marshal(outer)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(out)
	if err != nil {
		return nil, err
	}
	if err := cert.CheckSignatureFrom(p.caCert); err != nil {
		return nil, err
	}
	if k, err := certAgreementKey(cert); err != nil || !k.Equal(pub) {
		return nil, errors.New("the certificate does not carry the X25519 key")
	}
	return out, nil
}
