package main

import (
	"bytes"
	"context"
	"encoding/json"
)

func cmdExport(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "export", "export [--out FILE] [SUBJECT]   (default: me, the caller)")
	conn := addConnFlags(fs)
	out := fs.String("out", "", "write the export to FILE (mode 0600) instead of standard output")
	pos, code, ok := parse(e, fs, args, 0, 1)
	if !ok {
		return code
	}
	subject := "me"
	if len(pos) == 1 {
		subject = pos[0]
	}
	c, err := e.client(conn)
	if err != nil {
		return fail(e, "export", err)
	}
	doc, err := c.Export(ctx, subject)
	if err != nil {
		return fail(e, "export", err)
	}
	var buf bytes.Buffer
	if json.Indent(&buf, doc, "", "  ") != nil {
		buf.Reset()
		buf.Write(doc)
	}
	buf.WriteByte('\n')
	if err := writeOut(e, *out, &buf); err != nil {
		return fail(e, "export", err)
	}
	return exitOK
}

func cmdForget(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "forget", "forget [--dry-run] SUBJECT")
	conn := addConnFlags(fs)
	dry := fs.Bool("dry-run", false, "report what would be erased without changing anything")
	c, pos, code, ok := connect(e, fs, conn, args, 1, 1)
	if !ok {
		return code
	}
	rep, err := c.Forget(ctx, pos[0], *dry)
	if err != nil {
		return fail(e, "forget", err)
	}
	return printJSON(e, "forget", rep)
}

func cmdRestore(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "restore", "restore ID")
	conn := addConnFlags(fs)
	c, pos, code, ok := connect(e, fs, conn, args, 1, 1)
	if !ok {
		return code
	}
	ans, err := c.Restore(ctx, pos[0])
	if err != nil {
		return fail(e, "restore", err)
	}
	return printJSON(e, "restore", ans)
}
