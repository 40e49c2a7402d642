package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const ct = "../../pdp/testdata/xacml-3.0/xacml-3.0-from-2.0-ct/mandatory/"

func TestPDPEval(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr string
	}{
		{"permit", []string{"--policy", ct + "IIA001/Policy.xml", "--request", ct + "IIA001/Request.xml"}, 0,
			[]string{"<Decision>Permit</Decision>", "urn:oasis:names:tc:xacml:1.0:status:ok"}, ""},
		{"missing attribute", []string{"--policy", ct + "IIA007/Policy.xml", "--request", ct + "IIA007/Request.xml"}, 0,
			[]string{"<Decision>Indeterminate</Decision>", "missing-attribute"}, ""},
		{"policy directory with references", []string{"--policy", ct + "IIE001/Policies", "--request", ct + "IIE001/Request.xml"}, 0,
			[]string{"<Decision>Permit</Decision>"}, ""},
		{"policy file with references to its siblings", []string{"--policy", ct + "IIE002/Policies/Policy.xml", "--request", ct + "IIE002/Request.xml"}, 0,
			[]string{"<Decision>Permit</Decision>"}, ""},
		{"rejected policy", []string{"--policy", ct + "IIC003/Policy.xml", "--request", ct + "IIA001/Request.xml"}, 1,
			nil, "string-equal argument 2 must be a single string, not a bag"},
		{"no such policy", []string{"--policy", "nope.xml", "--request", ct + "IIA001/Request.xml"}, 1, nil, "nope.xml"},
		{"bad request", []string{"--policy", ct + "IIA001/Policy.xml", "--request", ct + "IIA001/Policy.xml"}, 1, nil, "expected a Request element"},
		{"missing flag", []string{"--policy", ct + "IIA001/Policy.xml"}, 2, nil, "usage: stickyd pdp eval"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := runPDPEval(context.Background(), tc.args, &out, &errb)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, errb.String())
			}
			for _, s := range tc.stdout {
				if !strings.Contains(out.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, out.String())
				}
			}
			if !strings.Contains(errb.String(), tc.stderr) {
				t.Errorf("stderr %q lacks %q", errb.String(), tc.stderr)
			}
			if tc.code != 0 && out.Len() > 0 {
				t.Errorf("output on failure: %s", out.String())
			}
		})
	}
}

func TestPDPEvalDispatch(t *testing.T) {
	dir := t.TempDir()
	req := filepath.Join(dir, "req.xml")
	data, err := os.ReadFile(ct + "IIA001/Request.xml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(req, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"pdp", "eval", "--policy", ct + "IIA001/Policy.xml", "--request", req}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "<Decision>Permit</Decision>") {
		t.Fatalf("run pdp eval: exit %d, %s %s", code, out.String(), errb.String())
	}
}
