package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// result is one finished run of the command.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the command line with stdin and a given environment.
func runCLI(t *testing.T, environ map[string]string, stdin io.Reader, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	e := &env{stdin: stdin, stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return environ[k] }}
	code := runEnv(context.Background(), args, e)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{"no command", nil, exitUsage, "", "usage: sticky"},
		{"help", []string{"help"}, exitOK, "usage: sticky", ""},
		{"-h", []string{"-h"}, exitOK, "usage: sticky", ""},
		{"unknown", []string{"frobnicate"}, exitUsage, "", `unknown command "frobnicate"`},
		{"unknown policy subcommand", []string{"policy", "burn", "x"}, exitUsage, "", `unknown command "policy burn"`},
		{"policy alone", []string{"policy"}, exitUsage, "", `unknown command "policy"`},
		{"put without policy", []string{"put", "file.txt"}, exitUsage, "", "--policy FILE is required"},
		{"put without file", []string{"put", "--policy", "p.xml"}, exitUsage, "", "missing argument"},
		{"get without id", []string{"get", "--purpose", "x"}, exitUsage, "", "missing argument"},
		{"get with two ids", []string{"get", "a", "b"}, exitUsage, "", `unexpected argument "b"`},
		{"get bad flag", []string{"get", "--porpoise", "x", "a"}, exitUsage, "", "flag provided but not defined: -porpoise"},
		{"get -h", []string{"get", "-h"}, exitOK, "", "usage: sticky get"},
		{"disclose without to", []string{"disclose", "--purpose", "p", "id"}, exitUsage, "", "--to and --purpose are required"},
		{"decide without purpose", []string{"decide", "id"}, exitUsage, "", "--purpose is required"},
		{"key bad format", []string{"key", "--format", "pem"}, exitUsage, "", `--format must be "string" or "x509"`},
		{"key public key without x509", []string{"key", "--public-key", "k.pem"}, exitUsage, "", "--public-key needs --format x509"},
		{"policy set one arg", []string{"policy", "set", "id"}, exitUsage, "", "missing argument"},
		{"list extra", []string{"list", "x"}, exitUsage, "", `unexpected argument "x"`},
		{"bad global flag", []string{"--bogus", "list"}, exitUsage, "", "flag provided but not defined"},
		{"bad url", []string{"--url", "ftp://x", "list"}, exitFailure, "", "bad server URL"},
		{"decrypt without key", []string{"decrypt"}, exitUsage, "", "--key"},
		{"encrypt without params", []string{"encrypt", "--to", "bob@example.org"}, exitUsage, "", "--params"},
		{"key verify without params", []string{"key", "verify"}, exitUsage, "", "--params"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, nil, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, tt.wantStdout) || !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stdout %q, stderr %q; want %q and %q", r.stdout, r.stderr, tt.wantStdout, tt.wantStderr)
			}
		})
	}
}

func TestUnreachableServer(t *testing.T) {
	r := runCLI(t, map[string]string{"STICKY_URL": "http://127.0.0.1:1", "STICKY_TOKEN": "t"}, nil, "list")
	if r.code != exitFailure || !strings.Contains(r.stderr, "cannot reach the Sticky server at http://127.0.0.1:1") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestURLWithoutScheme: STICKY_URL may be given as stickyd serve's --addr
// (HOST:PORT); http:// is assumed.
func TestURLWithoutScheme(t *testing.T) {
	r := runCLI(t, map[string]string{"STICKY_URL": "127.0.0.1:1", "STICKY_TOKEN": "t"}, nil, "list")
	if r.code != exitFailure || !strings.Contains(r.stderr, "cannot reach the Sticky server at http://127.0.0.1:1") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	for in, want := range map[string]string{"127.0.0.1:8080": "http://127.0.0.1:8080", "https://x.example": "https://x.example", "http://h:1/": "http://h:1/"} {
		if got := withScheme(in); got != want {
			t.Errorf("withScheme(%q) = %q, want %q", in, got, want)
		}
	}
}
