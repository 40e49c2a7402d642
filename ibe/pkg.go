package ibe

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/cloudflare/circl/ecc/bls12381"
)

// Files the PKG keeps in its data directory.
const (
	// MasterKeyFile holds the master secret s (PEM "STICKY IBE MASTER KEY",
	// 32 bytes big-endian), mode 0600.
	MasterKeyFile = "ibe-master.pem"
	// CAKeyFile holds the CA's ECDSA P-256 private key (PKCS#8 PEM), mode 0600.
	CAKeyFile = "ibe-ca-key.pem"
	// CACertFile holds the CA's self-signed certificate (PEM), mode 0644.
	CACertFile = "ibe-ca.pem"

	masterPEMType = "STICKY IBE MASTER KEY"
)

// Clock tells the time; the PKG uses it for certificate validity.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// PKG is the private key generator: it holds the master secret s, publishes
// mpk = s·g2 and extracts identity keys d_id = s·H1(id). The master secret is
// never logged, printed or returned by any method.
type PKG struct {
	s      bls12381.Scalar
	params *Params
	caKey  crypto.Signer
	caCert *x509.Certificate
	rand   io.Reader
	clock  Clock
}

// PKGOption configures LoadOrCreatePKG.
type PKGOption func(*pkgConfig)

type pkgConfig struct {
	clock Clock
}

// WithClock sets the clock used for certificate validity (default: the
// system clock).
func WithClock(c Clock) PKGOption { return func(cfg *pkgConfig) { cfg.clock = c } }

// LoadOrCreatePKG loads the PKG kept in dir, creating dir (0700), the master
// secret and the certificate authority on first start. Secret files are
// created with mode 0600, written atomically (a temporary file linked into
// place, so concurrent first starts agree on one key), and refused with
// ErrInsecureKeyFile when group or others have any access to them. rand is the
// randomness source (nil means crypto/rand).
func LoadOrCreatePKG(dir string, rand io.Reader, opts ...PKGOption) (*PKG, error) {
	cfg := pkgConfig{clock: systemClock{}}
	for _, o := range opts {
		o(&cfg)
	}
	if rand == nil {
		rand = cryptoRand()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("ibe: creating the data directory: %w", err)
	}
	p := &PKG{rand: rand, clock: cfg.clock}
	if err := p.loadOrCreateMaster(dir); err != nil {
		return nil, err
	}
	if err := p.loadOrCreateCA(dir); err != nil {
		return nil, err
	}
	var mpk bls12381.G2
	mpk.ScalarMult(&p.s, bls12381.G2Generator())
	p.params = &Params{mpk: mpk, ca: p.caCert}
	return p, nil
}

// Params returns the PKG's public parameters.
func (p *PKG) Params() *Params { return p.params }

// Extract returns the private key for identity (a name, or a name with
// ";epoch=E"; see ParseIdentity): d_id = s·H1(id). The caller is responsible
// for making sure the requester owns the identity. Errors wrap
// ErrInvalidIdentity.
func (p *PKG) Extract(identity string) (*PrivateKey, error) {
	id, err := ParseIdentity(identity)
	if err != nil {
		return nil, err
	}
	return p.extract(id), nil
}

func (p *PKG) extract(id Identity) *PrivateKey {
	k := &PrivateKey{id: id}
	k.d.ScalarMult(&p.s, stickySuite().hashID(id.h1Input()))
	return k
}

// String describes the PKG without revealing its secret.
func (p *PKG) String() string { return "ibe.PKG{fingerprint: " + p.params.Fingerprint() + "}" }

// GoString is String, so %#v does not print the secret either.
func (p *PKG) GoString() string { return p.String() }

func (p *PKG) loadOrCreateMaster(dir string) error {
	path := filepath.Join(dir, MasterKeyFile)
	data, err := readSecretFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		var s bls12381.Scalar
		for s.IsZero() == 1 {
			if err := s.Random(p.rand); err != nil {
				return fmt.Errorf("ibe: generating the master secret: %w", err)
			}
		}
		raw, _ := s.MarshalBinary()
		block := pem.EncodeToMemory(&pem.Block{Type: masterPEMType, Bytes: raw})
		if err := writeNewFile(path, block, 0o600); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("ibe: writing the master secret: %w", err)
		}
		// Another process may have won the race: always load what is on disk.
		data, err = readSecretFile(path)
	}
	if err != nil {
		return err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != masterPEMType || len(block.Bytes) != bls12381.ScalarSize {
		return fmt.Errorf("%w: %s is not a Sticky IBE master key", ErrFormat, path)
	}
	if err := p.s.UnmarshalBinary(block.Bytes); err != nil || p.s.IsZero() == 1 {
		return fmt.Errorf("%w: %s holds an invalid master secret", ErrFormat, path)
	}
	return nil
}

func (p *PKG) loadOrCreateCA(dir string) error {
	keyPath, certPath := filepath.Join(dir, CAKeyFile), filepath.Join(dir, CACertFile)
	keyPEM, err := readSecretFile(keyPath)
	if errors.Is(err, fs.ErrNotExist) {
		key, gerr := ecdsa.GenerateKey(elliptic.P256(), p.rand)
		if gerr != nil {
			return fmt.Errorf("ibe: generating the CA key: %w", gerr)
		}
		der, merr := x509.MarshalPKCS8PrivateKey(key)
		if merr != nil {
			return fmt.Errorf("ibe: encoding the CA key: %w", merr)
		}
		err = writeNewFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("ibe: writing the CA key: %w", err)
		}
		keyPEM, err = readSecretFile(keyPath)
	}
	if err != nil {
		return err
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil || block.Type != "PRIVATE KEY" {
		return fmt.Errorf("%w: %s is not a PKCS#8 PEM private key", ErrFormat, keyPath)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrFormat, keyPath, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return fmt.Errorf("%w: %s is not a signing key", ErrFormat, keyPath)
	}
	// The self-signed certificate is public and can always be made again from
	// the key, so it is created whenever it is missing.
	certPEM, err := os.ReadFile(certPath)
	if errors.Is(err, fs.ErrNotExist) {
		now := p.clock.Now()
		tmpl := &x509.Certificate{
			SerialNumber:          randomSerial(p.rand),
			Subject:               pkix.Name{CommonName: "Sticky IBE PKG CA", Organization: []string{"Sticky"}},
			NotBefore:             now.Add(-time.Hour),
			NotAfter:              now.AddDate(20, 0, 0),
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
			BasicConstraintsValid: true,
			IsCA:                  true,
			MaxPathLenZero:        true,
		}
		der, cerr := x509.CreateCertificate(p.rand, tmpl, tmpl, signer.Public(), signer)
		if cerr != nil {
			return fmt.Errorf("ibe: creating the CA certificate: %w", cerr)
		}
		err = writeNewFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("ibe: writing the CA certificate: %w", err)
		}
		certPEM, err = os.ReadFile(certPath)
	}
	if err != nil {
		return fmt.Errorf("ibe: reading the CA certificate: %w", err)
	}
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return fmt.Errorf("%w: %s is not a PEM certificate", ErrFormat, certPath)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrFormat, certPath, err)
	}
	if pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(signer.Public()) {
		return fmt.Errorf("%w: %s does not belong to the key in %s", ErrFormat, certPath, keyPath)
	}
	p.caKey, p.caCert = signer, cert
	return nil
}

// readSecretFile reads a secret file, refusing one that group or others can
// access (on systems with Unix permissions).
func readSecretFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrFormat, path)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o; run chmod 600 on it (and check who may have read it)", ErrInsecureKeyFile, path, st.Mode().Perm())
	}
	return io.ReadAll(io.LimitReader(f, maxKeyFile))
}

// writeNewFile writes data to path only if path does not exist yet; it
// writes a temporary file, syncs it and hard-links it into place, so readers
// never see a partial file. It returns an error wrapping fs.ErrExist if path
// already exists.
func writeNewFile(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Link(tmp.Name(), path)
}

func randomSerial(r io.Reader) *big.Int {
	b := make([]byte, 16)
	if _, err := io.ReadFull(r, b); err != nil {
		// Fall back to the system source rather than issue a zero serial.
		_, _ = io.ReadFull(cryptoRand(), b)
	}
	b[0] &= 0x7f
	b[0] |= 0x40
	return new(big.Int).SetBytes(b)
}

func cryptoRand() io.Reader { return rand.Reader }
