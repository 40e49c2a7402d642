package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strings"

	"github.com/stickypolicy/sticky/internal/client"
)

func cmdPut(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "put", "put --policy FILE [--subject ID] [--encrypt-for IDS] [--content-type T] FILE|-")
	conn := addConnFlags(fs)
	policy := fs.String("policy", "", "the PPL policy XML file (required)")
	subject := fs.String("subject", "", "whose data this is (a controller storing data about a subject)")
	encryptFor := fs.String("encrypt-for", "", "comma-separated identities the server encrypts the data to")
	contentType := fs.String("content-type", "", "the data's content type (default: from the file name, else application/octet-stream)")
	pos, code, ok := parse(e, fs, args, 1, 1)
	if !ok {
		return code
	}
	if *policy == "" {
		return usageError(e, fs, "--policy FILE is required")
	}
	pol, err := os.ReadFile(*policy)
	if err != nil {
		return fail(e, "put", err)
	}
	var data io.Reader
	name := pos[0]
	if name == "-" {
		data, name = e.stdin, "data"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return fail(e, "put", err)
		}
		defer f.Close()
		data = f
	}
	ct := *contentType
	if ct == "" {
		ct = mime.TypeByExtension(filepath.Ext(name))
	}
	var ids []string
	for _, id := range strings.Split(*encryptFor, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	c, err := e.client(conn)
	if err != nil {
		return fail(e, "put", err)
	}
	st, err := c.Store(ctx, client.StoreRequest{Data: data, Filename: filepath.Base(name), ContentType: ct, Policy: pol, Subject: *subject, EncryptFor: ids})
	if err != nil {
		return fail(e, "put", err)
	}
	return printJSON(e, "put", st.Raw)
}

func cmdGet(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "get", "get [--purpose IRI] [--out FILE] ID")
	conn := addConnFlags(fs)
	purpose := fs.String("purpose", "", "the purpose IRI of this use (the data subject reading its own data needs none)")
	out := fs.String("out", "", "write the data to FILE (mode 0600) instead of standard output")
	c, pos, code, ok := connect(e, fs, conn, args, 1, 1)
	if !ok {
		return code
	}
	obj, err := c.Get(ctx, pos[0], *purpose)
	if err != nil {
		return fail(e, "get", err)
	}
	defer obj.Body.Close()
	if err := writeOut(e, *out, obj.Body); err != nil {
		return fail(e, "get", err)
	}
	return exitOK
}

func cmdList(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "list", "list")
	conn := addConnFlags(fs)
	c, _, code, ok := connect(e, fs, conn, args, 0, 0)
	if !ok {
		return code
	}
	recs, err := c.List(ctx)
	if err != nil {
		return fail(e, "list", err)
	}
	raws := make([]json.RawMessage, len(recs))
	for i, r := range recs {
		raws[i] = r.Raw
	}
	return printValue(e, "list", raws)
}

func cmdPolicyGet(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "policy get", "policy get ID")
	conn := addConnFlags(fs)
	c, pos, code, ok := connect(e, fs, conn, args, 1, 1)
	if !ok {
		return code
	}
	xml, err := c.Policy(ctx, pos[0])
	if err != nil {
		return fail(e, "policy get", err)
	}
	return writeText(e, "policy get", xml)
}

func cmdPolicySet(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "policy set", "policy set ID FILE")
	conn := addConnFlags(fs)
	pos, code, ok := parse(e, fs, args, 2, 2)
	if !ok {
		return code
	}
	xml, err := os.ReadFile(pos[1])
	if err != nil {
		return fail(e, "policy set", err)
	}
	c, err := e.client(conn)
	if err != nil {
		return fail(e, "policy set", err)
	}
	ans, err := c.SetPolicy(ctx, pos[0], xml)
	if err != nil {
		return fail(e, "policy set", err)
	}
	if len(bytes.TrimSpace(ans)) == 0 {
		fmt.Fprintf(e.stdout, "policy of %s replaced\n", pos[0])
		return exitOK
	}
	return printJSON(e, "policy set", ans)
}

func cmdDelete(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "delete", "delete ID")
	conn := addConnFlags(fs)
	c, pos, code, ok := connect(e, fs, conn, args, 1, 1)
	if !ok {
		return code
	}
	if err := c.Delete(ctx, pos[0]); err != nil {
		return fail(e, "delete", err)
	}
	fmt.Fprintf(e.stdout, "deleted %s\n", pos[0])
	return exitOK
}

func cmdDisclose(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "disclose", "disclose --to ID --purpose IRI ID")
	conn := addConnFlags(fs)
	to := fs.String("to", "", "the recipient's identity (required)")
	purpose := fs.String("purpose", "", "the purpose IRI of the disclosure (required)")
	pos, code, ok := parse(e, fs, args, 1, 1)
	if !ok {
		return code
	}
	if *to == "" || *purpose == "" {
		return usageError(e, fs, "--to and --purpose are required")
	}
	c, err := e.client(conn)
	if err != nil {
		return fail(e, "disclose", err)
	}
	d, err := c.Disclose(ctx, pos[0], *to, *purpose)
	if err != nil {
		return fail(e, "disclose", err)
	}
	return printJSON(e, "disclose", d.Raw)
}

func cmdEvents(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "events", "events ID")
	conn := addConnFlags(fs)
	c, pos, code, ok := connect(e, fs, conn, args, 1, 1)
	if !ok {
		return code
	}
	evs, err := c.Events(ctx, pos[0])
	if err != nil {
		return fail(e, "events", err)
	}
	raws := make([]json.RawMessage, len(evs))
	for i, ev := range evs {
		raws[i] = ev.Raw
	}
	return printValue(e, "events", raws)
}

func cmdNotifications(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "notifications", "notifications")
	conn := addConnFlags(fs)
	c, _, code, ok := connect(e, fs, conn, args, 0, 0)
	if !ok {
		return code
	}
	ns, err := c.Notifications(ctx)
	if err != nil {
		return fail(e, "notifications", err)
	}
	raws := make([]json.RawMessage, len(ns))
	for i, n := range ns {
		raws[i] = n.Raw
	}
	return printValue(e, "notifications", raws)
}

func cmdDecide(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "decide", "decide --purpose IRI [--action A] ID")
	conn := addConnFlags(fs)
	purpose := fs.String("purpose", "", "the purpose IRI of the intended use (required)")
	action := fs.String("action", "read", "the intended action")
	pos, code, ok := parse(e, fs, args, 1, 1)
	if !ok {
		return code
	}
	if *purpose == "" {
		return usageError(e, fs, "--purpose is required")
	}
	c, err := e.client(conn)
	if err != nil {
		return fail(e, "decide", err)
	}
	d, err := c.Decide(ctx, client.DecisionRequest{PII: pos[0], Purpose: *purpose, Action: *action})
	if err != nil {
		return fail(e, "decide", err)
	}
	return printJSON(e, "decide", d.Raw)
}

func cmdPreferencesSet(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "preferences set", "preferences set FILE")
	conn := addConnFlags(fs)
	pos, code, ok := parse(e, fs, args, 1, 1)
	if !ok {
		return code
	}
	xml, err := os.ReadFile(pos[0])
	if err != nil {
		return fail(e, "preferences set", err)
	}
	c, err := e.client(conn)
	if err != nil {
		return fail(e, "preferences set", err)
	}
	ans, err := c.SetPreferences(ctx, xml)
	if err != nil {
		return fail(e, "preferences set", err)
	}
	if len(bytes.TrimSpace(ans)) == 0 {
		fmt.Fprintln(e.stdout, "preferences registered")
		return exitOK
	}
	return printJSON(e, "preferences set", ans)
}

func cmdPreferencesGet(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "preferences get", "preferences get")
	conn := addConnFlags(fs)
	c, _, code, ok := connect(e, fs, conn, args, 0, 0)
	if !ok {
		return code
	}
	xml, err := c.Preferences(ctx)
	if err != nil {
		return fail(e, "preferences get", err)
	}
	return writeText(e, "preferences get", xml)
}

func cmdHealth(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "health", "health")
	conn := addConnFlags(fs)
	c, _, code, ok := connect(e, fs, conn, args, 0, 0)
	if !ok {
		return code
	}
	if err := c.Health(ctx); err != nil {
		return fail(e, "health", err)
	}
	fmt.Fprintln(e.stdout, "ok")
	return exitOK
}

// printJSON prints a JSON answer indented, or as it came when it is not JSON.
func printJSON(e *env, name string, raw []byte) int {
	var buf bytes.Buffer
	if err := json.Indent(&buf, bytes.TrimSpace(raw), "", "  "); err != nil {
		return writeText(e, name, raw)
	}
	buf.WriteByte('\n')
	if _, err := e.stdout.Write(buf.Bytes()); err != nil {
		return fail(e, name, err)
	}
	return exitOK
}

// printValue prints v as indented JSON.
func printValue(e *env, name string, v any) int {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fail(e, name, err)
	}
	b = append(b, '\n')
	if _, err := e.stdout.Write(b); err != nil {
		return fail(e, name, err)
	}
	return exitOK
}

// writeText writes text to stdout, ending with a newline.
func writeText(e *env, name string, text []byte) int {
	if len(text) > 0 && text[len(text)-1] != '\n' {
		text = append(text, '\n')
	}
	if _, err := e.stdout.Write(text); err != nil {
		return fail(e, name, err)
	}
	return exitOK
}

// writeOut copies r to the file path (created 0600, replaced atomically so
// that a failed download leaves no partial file) or to stdout when path is
// empty or "-".
func writeOut(e *env, path string, r io.Reader) error {
	if path == "" || path == "-" {
		_, err := io.Copy(e.stdout, r)
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
