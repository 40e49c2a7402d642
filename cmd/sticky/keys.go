package main

import (
	"bytes"
	"context"
	"os"

	"github.com/stickypolicy/sticky/internal/client"
)

func cmdKey(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "key", "key [--format string|x509] [--public-key FILE] [--out FILE]")
	conn := addConnFlags(fs)
	format := fs.String("format", client.KeyFormatString, `the key's format: "string" or "x509" (a certificate)`)
	pubFile := fs.String("public-key", "", "with --format x509: your key-agreement public key (PEM) to certify")
	out := fs.String("out", "", "write the key to FILE (mode 0600) instead of standard output")
	if _, code, ok := parse(e, fs, args, 0, 0); !ok {
		return code
	}
	if *format != client.KeyFormatString && *format != client.KeyFormatX509 {
		return usageError(e, fs, "--format must be \"string\" or \"x509\", not %q", *format)
	}
	var pub []byte
	if *pubFile != "" {
		if *format != client.KeyFormatX509 {
			return usageError(e, fs, "--public-key needs --format x509")
		}
		var err error
		if pub, err = os.ReadFile(*pubFile); err != nil {
			return fail(e, "key", err)
		}
	}
	c, err := e.client(conn)
	if err != nil {
		return fail(e, "key", err)
	}
	key, err := c.IBEKey(ctx, *format, pub)
	if err != nil {
		return fail(e, "key", err)
	}
	if err := writeOut(e, *out, bytes.NewReader(key)); err != nil {
		return fail(e, "key", err)
	}
	return exitOK
}

func cmdParams(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "params", "params [--out FILE]")
	conn := addConnFlags(fs)
	out := fs.String("out", "", "write the parameters to FILE instead of standard output")
	c, _, code, ok := connect(e, fs, conn, args, 0, 0)
	if !ok {
		return code
	}
	p, err := c.IBEParams(ctx)
	if err != nil {
		return fail(e, "params", err)
	}
	if err := writeOut(e, *out, bytes.NewReader(p)); err != nil {
		return fail(e, "params", err)
	}
	return exitOK
}
