package main

// The offline identity-based encryption commands: encrypt, decrypt and
// key verify. They need no server: encrypt needs the PKG's public parameters
// (GET /v1/ibe/params), decrypt the delegate's key (POST /v1/ibe/key).

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/stickypolicy/sticky/ibe"
)

// maxParamsFile bounds the parameters file read by encrypt and key verify.
const maxParamsFile = 1 << 20

// runEncrypt implements `sticky encrypt --params FILE --to ID[,ID...]
// [--epoch E] [--in FILE] [--out FILE]`: it encrypts the input (default
// stdin) to the identities and writes the ciphertext (default stdout).
func runEncrypt(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sticky encrypt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	paramsFile := fs.String("params", "", "the PKG's public parameters (JSON from GET /v1/ibe/params)")
	to := fs.String("to", "", "comma-separated recipient identities, e.g. bob@example.org,carol@example.org")
	epoch := fs.String("epoch", "", "validity epoch added to every recipient, e.g. 2026-11 (optional)")
	in := fs.String("in", "-", "plaintext file (- for stdin)")
	out := fs.String("out", "-", "ciphertext file (- for stdout)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sticky encrypt --params FILE --to ID[,ID...] [--epoch E] [--in FILE] [--out FILE]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sticky encrypt: unexpected argument %q (use --in FILE)\n", fs.Arg(0))
		return exitUsage
	}
	if *paramsFile == "" || strings.TrimSpace(*to) == "" {
		fmt.Fprintln(stderr, "sticky encrypt: --params and --to are required")
		fs.Usage()
		return exitUsage
	}
	var ids []string
	for _, s := range strings.Split(*to, ",") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		if *epoch != "" {
			id, err := ibe.ParseIdentity(s)
			if err != nil {
				return ibeFail(stderr, "encrypt", err)
			}
			if id.Epoch != "" && id.Epoch != strings.ToLower(strings.TrimSpace(*epoch)) {
				fmt.Fprintf(stderr, "sticky encrypt: %s already has an epoch; --epoch %s would change it\n", id, *epoch)
				return exitUsage
			}
			s = id.Name + ";epoch=" + *epoch
		}
		canon, err := ibe.CanonicalIdentity(s)
		if err != nil {
			return ibeFail(stderr, "encrypt", err)
		}
		ids = append(ids, canon)
	}
	if len(ids) == 0 {
		fmt.Fprintln(stderr, "sticky encrypt: --to names no identity")
		return exitUsage
	}
	params, err := readParams(*paramsFile)
	if err != nil {
		return ibeFail(stderr, "encrypt", err)
	}
	r, closeIn, err := openInput(*in)
	if err != nil {
		return ibeFail(stderr, "encrypt", err)
	}
	defer closeIn()
	err = writeOutput(*out, stdout, func(w io.Writer) error {
		return ibe.Encrypt(w, ctxReader{ctx, r}, params, ids, nil)
	})
	if err != nil {
		return ibeFail(stderr, "encrypt", err)
	}
	return exitOK
}

// runDecrypt implements `sticky decrypt --key KEYFILE [--in FILE] [--out
// FILE]`. With --out, the file appears only if the whole ciphertext
// decrypted and authenticated. On stdout, every chunk written is authentic,
// but a failure later on (truncation, tampering) ends with exit status 1: the
// output is complete only when the exit status is 0.
func runDecrypt(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sticky decrypt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFile := fs.String("key", "", "your identity key: what POST /v1/ibe/key returned (string or PEM certificate bundle)")
	in := fs.String("in", "-", "ciphertext file (- for stdin)")
	out := fs.String("out", "-", "plaintext file (- for stdout)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sticky decrypt --key KEYFILE [--in FILE] [--out FILE]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sticky decrypt: unexpected argument %q (use --in FILE)\n", fs.Arg(0))
		return exitUsage
	}
	if *keyFile == "" {
		fmt.Fprintln(stderr, "sticky decrypt: --key is required")
		fs.Usage()
		return exitUsage
	}
	key, err := readKey(*keyFile)
	if err != nil {
		return ibeFail(stderr, "decrypt", err)
	}
	r, closeIn, err := openInput(*in)
	if err != nil {
		return ibeFail(stderr, "decrypt", err)
	}
	defer closeIn()
	err = writeOutput(*out, stdout, func(w io.Writer) error {
		return ibe.Decrypt(w, ctxReader{ctx, r}, key)
	})
	if err != nil {
		return ibeFail(stderr, "decrypt", explainDecrypt(err, key))
	}
	return exitOK
}

// runVerifyKey implements `sticky key verify --params FILE --key KEYFILE
// [--identity ID]`: it checks the key against the public parameters (and,
// with --identity, that it is the key of that identity).
func runVerifyKey(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sticky key verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	paramsFile := fs.String("params", "", "the PKG's public parameters (JSON from GET /v1/ibe/params)")
	keyFile := fs.String("key", "", "the identity key to check (string or PEM certificate bundle)")
	identity := fs.String("identity", "", "the identity the key must belong to (optional)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sticky key verify --params FILE --key KEYFILE [--identity ID]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 || *paramsFile == "" || *keyFile == "" {
		fmt.Fprintln(stderr, "sticky key verify: --params and --key are required, and nothing else")
		fs.Usage()
		return exitUsage
	}
	params, err := readParams(*paramsFile)
	if err != nil {
		return ibeFail(stderr, "key verify", err)
	}
	key, err := readKey(*keyFile)
	if err != nil {
		return ibeFail(stderr, "key verify", err)
	}
	if *identity != "" {
		want, err := ibe.CanonicalIdentity(*identity)
		if err != nil {
			return ibeFail(stderr, "key verify", err)
		}
		if key.Identity() != want {
			fmt.Fprintf(stderr, "sticky key verify: the key is for %s, not %s\n", key.Identity(), want)
			return exitFailure
		}
	}
	if err := key.Verify(params); err != nil {
		return ibeFail(stderr, "key verify", err)
	}
	how := "string key"
	if c := key.Certificate(); c != nil {
		how = fmt.Sprintf("certificate, valid until %s", c.NotAfter.UTC().Format("2006-01-02"))
	}
	fmt.Fprintf(stdout, "ok: the key for %s (%s) was issued by the PKG with fingerprint %s\n", key.Identity(), how, params.Fingerprint())
	return exitOK
}

func ibeFail(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "sticky %s: %v\n", cmd, err)
	return exitFailure
}

// explainDecrypt adds advice to the decryption errors a person can act on.
func explainDecrypt(err error, key *ibe.PrivateKey) error {
	switch {
	case errors.Is(err, ibe.ErrNotRecipient):
		return fmt.Errorf("%w\n(this data was not encrypted for %s: ask the owner to encrypt it for you, or use the key of a listed identity)", err, key.Identity())
	case errors.Is(err, ibe.ErrWrongKey):
		return fmt.Errorf("%w\n(check the key with `sticky key verify`, and that the data comes from the same server)", err)
	case errors.Is(err, ibe.ErrTruncated), errors.Is(err, ibe.ErrAuthentication), errors.Is(err, ibe.ErrTrailingData):
		return fmt.Errorf("%w\n(the output is incomplete and must not be used)", err)
	}
	return err
}

func readParams(path string) (*ibe.Params, error) {
	data, err := readSmallFile(path, maxParamsFile)
	if err != nil {
		return nil, err
	}
	p, err := ibe.ParseParams(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

func readKey(path string) (*ibe.PrivateKey, error) {
	data, err := readSmallFile(path, 1<<20)
	if err != nil {
		return nil, err
	}
	k, err := ibe.ParseKeyFile(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

func readSmallFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}

func openInput(path string) (io.Reader, func(), error) {
	if path == "" || path == "-" {
		return os.Stdin, func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

// writeOutput runs write against stdout (path "-" or "") or against a
// temporary file next to path that is renamed into place only on success
// and removed on failure.
func writeOutput(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "" || path == "-" {
		return write(stdout)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".partial-*")
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	ok = true
	return nil
}

// ctxReader stops reading once ctx is done, so an interrupt ends a long
// encryption or decryption.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
