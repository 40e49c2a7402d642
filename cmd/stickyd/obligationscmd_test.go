package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/internal/store"
	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/obligations/outboxtest"
)

func TestObligationsFailed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := st.Enqueue(ctx, []obligations.Job{outboxtest.Job("job_x", "pii-1", now, true), outboxtest.Job("job_ok", "pii-2", now.Add(time.Hour), true)}); err != nil {
		t.Fatal(err)
	}
	jobs, err := st.Claim(ctx, obligations.LaneRemote, now, 1, time.Minute)
	if err != nil || len(jobs) != 1 {
		t.Fatal(jobs, err)
	}
	if err := st.Fail(ctx, jobs[0], obligations.Failure{Now: now, Err: "webhook refused with status 410", Final: true}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	var out, errb bytes.Buffer
	if code := run(ctx, []string{"obligations", "failed", "--data", dir}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("output %q; want one failed obligation", out.String())
	}
	var got failedJSON
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	if got.ID != "job_x" || got.PII != "pii-1" || got.Attempts != 1 || got.Error != "webhook refused with status 410" || got.Media != "webhook" {
		t.Fatalf("listed %+v", got)
	}

	for name, c := range map[string]struct {
		args []string
		code int
		msg  string
	}{
		"no_database":   {[]string{"obligations", "failed", "--data", filepath.Join(dir, "nope")}, exitFailure, "no Sticky database"},
		"extra_arg":     {[]string{"obligations", "failed", "--data", dir, "x"}, exitUsage, "takes no arguments"},
		"bad_limit":     {[]string{"obligations", "failed", "--data", dir, "--limit", "0"}, exitUsage, "positive --limit"},
		"unknown_flag":  {[]string{"obligations", "failed", "--nope"}, exitUsage, "flag provided but not defined"},
		"no_subcommand": {[]string{"obligations"}, exitUsage, "unknown command"},
	} {
		t.Run(name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(ctx, c.args, &out, &errb); code != c.code || !strings.Contains(errb.String(), c.msg) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errb.String(), c.code, c.msg)
			}
		})
	}
}
