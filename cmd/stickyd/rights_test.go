package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stickypolicy/sticky/internal/store"
	"github.com/stickypolicy/sticky/pep"
)

// rightsData makes a data directory holding zed's records (one text, one
// JSON) through the real service.
func rightsData(t *testing.T) (dir string, ids []string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "data")
	if code, _, errs := runCmd(t, "principal", "add", "--data", dir, "--role", "subject", "zed@example.org"); code != 0 {
		t.Fatalf("principal add: %s", errs)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	policy, err := os.ReadFile("testdata/rights-policy.xml")
	if err != nil {
		t.Fatal(err)
	}
	svc := pep.New(st)
	zed := pep.Principal{Name: "zed@example.org", Role: pep.RoleSubject}
	for _, in := range []pep.CreateInput{
		{ContentType: "text/plain", Data: []byte("ZED-TEXT-MARKER"), Policy: policy, Category: "notes"},
		{ContentType: "application/json", Data: []byte(`{"k":"ZED-JSON-MARKER"}`), Policy: policy},
	} {
		rec, err := svc.Create(ctx, zed, in)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rec.ID)
	}
	return dir, ids
}

func dbFiles(t *testing.T, dir string) []byte {
	t.Helper()
	var out []byte
	for _, name := range []string{store.FileName, store.FileName + "-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}

func TestForgetCommand(t *testing.T) {
	dir, ids := rightsData(t)
	before := dbFiles(t, dir)
	code, out, errs := runCmd(t, "forget", "--data", dir, "--dry-run", "zed@example.org")
	if code != 0 {
		t.Fatalf("forget --dry-run = %d: %s", code, errs)
	}
	var dry pep.ForgetReport
	if err := json.Unmarshal([]byte(out), &dry); err != nil || !dry.DryRun || len(dry.Records) != 2 {
		t.Fatalf("dry run report %v: %s", err, out)
	}
	if !bytes.Equal(before, dbFiles(t, dir)) {
		t.Error("the dry run changed the database files")
	}
	code, out, errs = runCmd(t, "forget", "--data", dir, "zed@example.org")
	if code != 0 {
		t.Fatalf("forget = %d: %s", code, errs)
	}
	var rep pep.ForgetReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.DryRun || strings.Join(rep.Records, ",") != strings.Join(ids, ",") || rep.TokensRevoked != 1 {
		t.Fatalf("report %v: %s", err, out)
	}
	after := dbFiles(t, dir)
	for _, s := range []string{"zed@example.org", "ZED-TEXT-MARKER", "ZED-JSON-MARKER"} {
		if bytes.Contains(after, []byte(s)) {
			t.Errorf("%s is still in the database files", s)
		}
	}
	code, out, _ = runCmd(t, "forget", "--data", dir, "zed@example.org")
	if code != 0 || !strings.Contains(out, `"already_forgotten": true`) {
		t.Errorf("second forget = %d: %s", code, out)
	}
	code, _, errs = runCmd(t, "forget", "--data", dir, "nobody@example.org")
	if code != 1 || !strings.Contains(errs, `no data subject "nobody@example.org" is known`) {
		t.Errorf("unknown subject = %d: %s", code, errs)
	}
	empty := filepath.Join(t.TempDir(), "none")
	if code, _, errs := runCmd(t, "forget", "--data", empty, "zed@example.org"); code != 1 || !strings.Contains(errs, "no Sticky database") {
		t.Errorf("forget on a directory without a database = %d: %s", code, errs)
	}
	if _, err := os.Stat(empty); !os.IsNotExist(err) {
		t.Error("forget created a data directory")
	}
	for _, args := range [][]string{{"forget", "--data", dir}, {"forget", "--data", dir, "a", "b"}, {"forget", "--data", dir, "has space"}, {"forget", "--nope"}} {
		if code, _, _ := runCmd(t, args...); code != 2 {
			t.Errorf("%v = %d, want 2", args, code)
		}
	}
}

func TestRulesCommand(t *testing.T) {
	dir, ids := rightsData(t)
	tmp := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", `{"rules":[
		{"name":"anon-notes","source":"GDPR Art. 5(1)(c)","type":"anonymise","categories":["notes"]},
		{"name":"pseud-json","source":"GDPR Art. 89(1)","type":"pseudonymise","categories":["application/json"],"filters":{"subject":"zed@example.org"}}]}`)
	bad := write("bad.json", `{"rules":[
		{"name":"ok","source":"s","type":"delete","categories":["*"]},
		{"name":"broken","source":"s","type":"delete","categories":["*"],"filters":{"older_than":"a while"}}]}`)

	if code, out, errs := runCmd(t, "rules", "validate", "--rules", good); code != 0 || !strings.Contains(out, "2 rules, valid") {
		t.Errorf("validate good = %d: %s %s", code, out, errs)
	}
	code, _, errs := runCmd(t, "rules", "validate", "--rules", bad)
	if code != 1 || !strings.Contains(errs, `rule 2 "broken": field "filters.older_than"`) {
		t.Errorf("validate bad = %d: %s", code, errs)
	}
	before := dbFiles(t, dir)
	if code, _, errs := runCmd(t, "rules", "execute", "--data", dir, "--rules", bad); code != 1 || !strings.Contains(errs, "no rule was applied") {
		t.Errorf("execute bad = %d: %s", code, errs)
	}
	code, out, errs := runCmd(t, "rules", "dry-run", "--data", dir, "--rules", good)
	if code != 0 {
		t.Fatalf("dry-run = %d: %s", code, errs)
	}
	var plan pep.RulesReport
	if err := json.Unmarshal([]byte(out), &plan); err != nil || len(plan.Changes) != 2 || plan.Applied != 0 ||
		plan.Changes[0].Record != ids[0] || plan.Changes[1].Record != ids[1] {
		t.Fatalf("dry-run report %v: %s", err, out)
	}
	if !bytes.Equal(before, dbFiles(t, dir)) {
		t.Error("the dry run (or the refused file) changed the database files")
	}
	code, out, errs = runCmd(t, "rules", "execute", "--data", dir, "--rules", good)
	var rep pep.RulesReport
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Applied != 2 {
		t.Fatalf("execute = %d: %s %s", code, out, errs)
	}
	if after := dbFiles(t, dir); bytes.Contains(after, []byte("ZED-TEXT-MARKER")) {
		t.Error("the anonymised text is still in the database files")
	}
	code, out, _ = runCmd(t, "rules", "execute", "--data", dir, "--rules", good)
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || len(rep.Changes) != 0 {
		t.Errorf("second execute = %d: %s", code, out)
	}
	for _, args := range [][]string{{"rules"}, {"rules", "shred"}, {"rules", "validate"}, {"rules", "validate", "--rules", good, "extra"}} {
		if code, _, _ := runCmd(t, args...); code != 2 {
			t.Errorf("%v = %d, want 2", args, code)
		}
	}
	if code, _, _ := runCmd(t, "rules", "validate", "--rules", filepath.Join(tmp, "missing.json")); code != 1 {
		t.Errorf("missing file = %d, want 1", code)
	}
}
