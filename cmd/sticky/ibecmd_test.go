package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stickypolicy/sticky/ibe"
)

type ibeFixture struct {
	dir, params               string
	bobString, bobX509, carol string
	bobEpoch, otherPKGBobKey  string
}

func newIBEFixture(t *testing.T) ibeFixture {
	t.Helper()
	dir := t.TempDir()
	pkg, err := ibe.LoadOrCreatePKG(filepath.Join(dir, "pkg"), nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ibe.LoadOrCreatePKG(filepath.Join(dir, "other"), nil)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	extract := func(p *ibe.PKG, id string) *ibe.PrivateKey {
		k, err := p.Extract(id)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	params, _ := pkg.Params().MarshalText()
	bundle, err := pkg.KeyCertificate(extract(pkg, "bob@example.org"))
	if err != nil {
		t.Fatal(err)
	}
	return ibeFixture{
		dir:            dir,
		params:         write("params.json", params),
		bobString:      write("bob.key", []byte(ibe.EncodeKey(extract(pkg, "bob@example.org"))+"\n")),
		bobX509:        write("bob.pem", bundle),
		carol:          write("carol.key", []byte(ibe.EncodeKey(extract(pkg, "carol@example.org")))),
		bobEpoch:       write("bob-2026-11.key", []byte(ibe.EncodeKey(extract(pkg, "bob@example.org;epoch=2026-11")))),
		otherPKGBobKey: write("bob-other.key", []byte(ibe.EncodeKey(extract(other, "bob@example.org")))),
	}
}

func runIBE(f func(context.Context, []string, io.Writer, io.Writer) int, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := f(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestIBEEncryptDecryptFiles(t *testing.T) {
	fx := newIBEFixture(t)
	plain := bytes.Repeat([]byte("personal data\n"), 10000)
	in := filepath.Join(fx.dir, "plain.txt")
	os.WriteFile(in, plain, 0o600)
	ct := filepath.Join(fx.dir, "data.ibe")
	if code, _, errs := runIBE(runEncrypt, "--params", fx.params, "--to", "Bob@Example.org, dave@example.org", "--in", in, "--out", ct); code != 0 {
		t.Fatalf("encrypt exit %d: %s", code, errs)
	}
	for _, key := range []string{fx.bobString, fx.bobX509} {
		t.Run(filepath.Base(key), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "plain.out")
			if code, _, errs := runIBE(runDecrypt, "--key", key, "--in", ct, "--out", out); code != 0 {
				t.Fatalf("decrypt exit %d: %s", code, errs)
			}
			got, _ := os.ReadFile(out)
			if !bytes.Equal(got, plain) {
				t.Fatal("decrypted file differs")
			}
		})
	}
	failures := []struct {
		name, key, mention string
	}{
		{"carol is not a recipient", fx.carol, "not encrypted for carol@example.org"},
		{"key of another PKG", fx.otherPKGBobKey, "does not open"},
		{"key of another epoch", fx.bobEpoch, "not a recipient"},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "plain.out")
			code, stdout, errs := runIBE(runDecrypt, "--key", tt.key, "--in", ct, "--out", out)
			if code != 1 {
				t.Fatalf("exit %d, want 1", code)
			}
			if !strings.Contains(errs, tt.mention) {
				t.Fatalf("stderr %q does not mention %q", errs, tt.mention)
			}
			if stdout != "" {
				t.Fatalf("stdout %q, want nothing", stdout)
			}
			if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 0 {
				t.Fatalf("left %d files behind (%s)", len(entries), entries[0].Name())
			}
		})
	}
	t.Run("truncated file leaves no output", func(t *testing.T) {
		data, _ := os.ReadFile(ct)
		cut := filepath.Join(t.TempDir(), "cut.ibe")
		os.WriteFile(cut, data[:len(data)-100], 0o600)
		out := filepath.Join(filepath.Dir(cut), "plain.out")
		code, _, errs := runIBE(runDecrypt, "--key", fx.bobString, "--in", cut, "--out", out)
		if code != 1 || !strings.Contains(errs, "incomplete") {
			t.Fatalf("exit %d, stderr %q", code, errs)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Fatalf("output file exists after a failed decryption: %v", err)
		}
	})
}

func TestIBEEncryptStdinStdout(t *testing.T) {
	fx := newIBEFixture(t)
	var ct bytes.Buffer
	stdin := os.Stdin
	r, w, _ := os.Pipe()
	os.Stdin = r
	defer func() { os.Stdin = stdin }()
	go func() { w.Write([]byte("hello bob")); w.Close() }()
	code := runEncrypt(context.Background(), []string{"--params", fx.params, "--to", "bob@example.org", "--epoch", "2026-11"}, &ct, os.Stderr)
	if code != 0 {
		t.Fatalf("encrypt exit %d", code)
	}
	if !ibe.IsCiphertext(ct.Bytes()) {
		t.Fatal("stdout is not a ciphertext")
	}
	in := filepath.Join(fx.dir, "x.ibe")
	os.WriteFile(in, ct.Bytes(), 0o600)
	code, out, errs := runIBE(runDecrypt, "--key", fx.bobEpoch, "--in", in)
	if code != 0 || out != "hello bob" {
		t.Fatalf("decrypt exit %d, out %q, stderr %q", code, out, errs)
	}
	if code, _, _ := runIBE(runDecrypt, "--key", fx.bobString, "--in", in); code != 1 {
		t.Fatalf("a key without epoch decrypted an epoch'd file (exit %d)", code)
	}
}

func TestIBEUsageErrors(t *testing.T) {
	fx := newIBEFixture(t)
	tests := []struct {
		name string
		f    func(context.Context, []string, io.Writer, io.Writer) int
		args []string
		code int
	}{
		{"encrypt without --to", runEncrypt, []string{"--params", fx.params}, 2},
		{"encrypt without --params", runEncrypt, []string{"--to", "bob@example.org"}, 2},
		{"encrypt unknown flag", runEncrypt, []string{"--bogus"}, 2},
		{"encrypt stray argument", runEncrypt, []string{"--params", fx.params, "--to", "bob@example.org", "file"}, 2},
		{"encrypt invalid identity", runEncrypt, []string{"--params", fx.params, "--to", "bob@@x"}, 1},
		{"encrypt conflicting epoch", runEncrypt, []string{"--params", fx.params, "--to", "bob@example.org;epoch=2026-10", "--epoch", "2026-11"}, 2},
		{"encrypt bad params file", runEncrypt, []string{"--params", fx.bobString, "--to", "bob@example.org"}, 1},
		{"encrypt missing input", runEncrypt, []string{"--params", fx.params, "--to", "bob@example.org", "--in", "/nonexistent"}, 1},
		{"decrypt without --key", runDecrypt, nil, 2},
		{"decrypt bad key file", runDecrypt, []string{"--key", fx.params}, 1},
		{"decrypt not a ciphertext", runDecrypt, []string{"--key", fx.bobString, "--in", fx.params}, 1},
		{"verify without --key", runVerifyKey, []string{"--params", fx.params}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runIBE(tt.f, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tt.code, errs)
			}
			if errs == "" {
				t.Fatal("no message on stderr")
			}
		})
	}
}

func TestIBEVerifyKeyCommand(t *testing.T) {
	fx := newIBEFixture(t)
	tests := []struct {
		name    string
		args    []string
		code    int
		mention string
	}{
		{"string key", []string{"--key", fx.bobString}, 0, "ok: the key for bob@example.org"},
		{"certificate bundle", []string{"--key", fx.bobX509}, 0, "certificate"},
		{"expected identity", []string{"--key", fx.bobString, "--identity", "BOB@example.org"}, 0, "ok"},
		{"other identity", []string{"--key", fx.bobString, "--identity", "carol@example.org"}, 1, "not carol@example.org"},
		{"key of another PKG", []string{"--key", fx.otherPKGBobKey}, 1, "does not verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runIBE(runVerifyKey, append([]string{"--params", fx.params}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tt.code, errs)
			}
			if !strings.Contains(out+errs, tt.mention) {
				t.Fatalf("output %q does not mention %q", out+errs, tt.mention)
			}
		})
	}
}
