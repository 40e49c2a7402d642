package ibe

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestKeyString(t *testing.T) {
	p := newTestPKG(t)
	for _, id := range []string{"bob@example.org", "bob@example.org;epoch=2026-11", "billing-service"} {
		t.Run(id, func(t *testing.T) {
			k := mustExtract(t, p, id)
			s := EncodeKey(k)
			if !strings.HasPrefix(s, "sticky-ibe-key-v1:"+id+":") {
				t.Fatalf("EncodeKey = %q", s)
			}
			k2, err := ParseKeyFile([]byte("\n  " + s + "\n"))
			if err != nil {
				t.Fatalf("ParseKeyFile: %v", err)
			}
			if k2.Identity() != id || !k2.d.IsEqual(&k.d) || k2.Certificate() != nil {
				t.Fatal("key string does not round-trip")
			}
			if err := k2.Verify(p.Params()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestParseKeyFileRejects(t *testing.T) {
	p := newTestPKG(t)
	good := EncodeKey(mustExtract(t, p, "bob@example.org"))
	b64 := good[strings.LastIndexByte(good, ':')+1:]
	raw, _ := base64.StdEncoding.DecodeString(b64)
	raw[5] ^= 1
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"random text", "hello"},
		{"no key part", "sticky-ibe-key-v1:bob@example.org"},
		{"not canonical", "sticky-ibe-key-v1:Bob@example.org:" + b64},
		{"bad identity", "sticky-ibe-key-v1:bob@@example.org:" + b64},
		{"not base64", "sticky-ibe-key-v1:bob@example.org:!!!"},
		{"short key", "sticky-ibe-key-v1:bob@example.org:" + base64.StdEncoding.EncodeToString(raw[:40])},
		{"not on curve", "sticky-ibe-key-v1:bob@example.org:" + base64.StdEncoding.EncodeToString(raw)},
		{"identity point", "sticky-ibe-key-v1:bob@example.org:" + base64.StdEncoding.EncodeToString(append([]byte{0xc0}, make([]byte, 47)...))},
		{"pem without certificate", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"},
		{"too large", "sticky-ibe-key-v1:" + strings.Repeat("a", maxKeyFile)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseKeyFile([]byte(tt.in)); !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v, want ErrFormat", err)
			}
		})
	}
}
