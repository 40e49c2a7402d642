package httpapi_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stickypolicy/sticky/ibe"
	"github.com/stickypolicy/sticky/pep"
)

func newIBEEnv(t *testing.T) *env {
	t.Helper()
	pkg, err := ibe.LoadOrCreatePKG(t.TempDir(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return newEnvWith(t, []pep.Option{pep.WithIBE(pep.NewIBE(pkg, rand.Reader))})
}

// TestIBEEndToEnd: alice stores a file encrypted for bob; bob reads it by
// purpose, fetches his key in both formats and decrypts; carol is denied and
// her key does not open it.
func TestIBEEndToEnd(t *testing.T) {
	e := newIBEEnv(t)
	plaintext := bytes.Repeat([]byte("confidential report line\n"), 500)
	r := e.post("alice", part{name: "data", contentType: "text/plain", value: plaintext},
		part{name: "policy", value: readTestdata(t, "subject-policy.xml")},
		part{name: "encrypt_for", value: []byte("bob@example.org")})
	wantStatus(t, r, 201)
	var c struct {
		ID        string `json:"id"`
		Encrypted bool   `json:"encrypted"`
	}
	r.json(t, &c)
	if !c.Encrypted {
		t.Fatal("encrypted = false")
	}
	got := e.get(c.ID, "bob", purposeService)
	wantStatus(t, got, 200)
	if bytes.Contains(got.body, []byte("confidential")) || !ibe.IsCiphertext(got.body) {
		t.Fatal("the stored bytes are not an IBE ciphertext")
	}
	if got.header.Get("X-Sticky-Encrypted") != "true" {
		t.Error("X-Sticky-Encrypted is not true")
	}
	if dbContains(t, e, "confidential report line") {
		t.Error("the plaintext reached the database")
	}
	wantDenied(t, e.get(c.ID, "carol", purposeService), "")

	params := e.do(http.MethodGet, "/v1/ibe/params", "", nil, nil)
	wantStatus(t, params, 200)
	var p ibe.Params
	if err := p.UnmarshalText(params.body); err != nil {
		t.Fatalf("params: %v", err)
	}
	decrypt := func(keyFile []byte) ([]byte, error) {
		k, err := ibe.ParseKeyFile(keyFile)
		if err != nil {
			return nil, err
		}
		if err := k.Verify(&p); err != nil {
			return nil, err
		}
		var out bytes.Buffer
		err = ibe.Decrypt(&out, bytes.NewReader(got.body), k)
		return out.Bytes(), err
	}
	for _, format := range []string{"string", "x509"} {
		t.Run("bob's key as "+format, func(t *testing.T) {
			kr := e.jsonReq(http.MethodPost, "/v1/ibe/key", "bob", map[string]string{"format": format})
			wantStatus(t, kr, 200)
			if !bytes.Contains(kr.body, []byte("bob@example.org")) && format == "string" {
				t.Errorf("key %q does not name bob", kr.body)
			}
			out, err := decrypt(kr.body)
			if err != nil || !bytes.Equal(out, plaintext) {
				t.Fatalf("decrypting with bob's %s key: %v", format, err)
			}
		})
	}
	t.Run("x509 with the caller's public key", func(t *testing.T) {
		priv, err := ecdh.P256().GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKIXPublicKey(priv.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		kr := e.jsonReq(http.MethodPost, "/v1/ibe/key", "bob", map[string]string{"format": "x509", "public_key": string(pub)})
		wantStatus(t, kr, 200)
		if !bytes.HasPrefix(bytes.TrimSpace(kr.body), []byte("-----BEGIN CERTIFICATE-----")) {
			t.Errorf("answer is not a PEM certificate: %.60s", kr.body)
		}
		bad := e.jsonReq(http.MethodPost, "/v1/ibe/key", "bob", map[string]string{"format": "x509", "public_key": "not a key"})
		wantError(t, bad, 400, "")
	})
	t.Run("carol's key does not open it", func(t *testing.T) {
		kr := e.jsonReq(http.MethodPost, "/v1/ibe/key", "carol", map[string]string{"format": "string"})
		wantStatus(t, kr, 200)
		if _, err := decrypt(kr.body); !errors.Is(err, ibe.ErrNotRecipient) && !errors.Is(err, ibe.ErrWrongKey) {
			t.Errorf("carol's key: %v, want a not-a-recipient error", err)
		}
	})
	t.Run("a caller only gets its own key", func(t *testing.T) {
		// There is no way to name another identity: unknown fields are refused.
		r := e.jsonReq(http.MethodPost, "/v1/ibe/key", "carol", map[string]string{"format": "string", "identity": "bob@example.org"})
		wantError(t, r, 400, "identity")
		wantError(t, e.jsonReq(http.MethodPost, "/v1/ibe/key", "", map[string]string{"format": "string"}), 401, "")
	})
	t.Run("bad format", func(t *testing.T) {
		wantError(t, e.jsonReq(http.MethodPost, "/v1/ibe/key", "bob", map[string]string{"format": "pgp"}), 400, `"pgp"`)
		wantError(t, e.jsonReq(http.MethodPost, "/v1/ibe/key", "bob", map[string]string{}), 400, "format")
	})
	t.Run("offline-encrypted data is marked encrypted", func(t *testing.T) {
		var ct bytes.Buffer
		if err := ibe.Encrypt(&ct, strings.NewReader("sealed by alice"), &p, []string{"bob@example.org"}, rand.Reader); err != nil {
			t.Fatal(err)
		}
		r := e.post("alice", part{name: "data", value: ct.Bytes()}, part{name: "policy", value: readTestdata(t, "subject-policy.xml")})
		wantStatus(t, r, 201)
		if !strings.Contains(string(r.body), `"encrypted":true`) {
			t.Errorf("offline ciphertext stored as %s", r.body)
		}
	})
	t.Run("bad encrypt_for identity", func(t *testing.T) {
		r := e.post("alice", part{name: "data", value: []byte("x")}, part{name: "policy", value: readTestdata(t, "subject-policy.xml")},
			part{name: "encrypt_for", value: []byte("bob@example.org,not an identity")})
		wantError(t, r, 400, "encrypt_for")
	})
}
