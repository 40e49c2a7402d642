package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const mod = "example.com/m"

func pkg(rel string, files ...File) Package {
	ip := mod
	if rel != "" {
		ip += "/" + rel
	}
	return Package{ImportPath: ip, Rel: rel, Files: files}
}

func file(path string, imports ...string) File {
	f := File{Path: path, Test: strings.HasSuffix(path, "_test.go")}
	for i, imp := range imports {
		f.Imports = append(f.Imports, Import{Path: imp, Line: 3 + i})
	}
	return f
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		pkgs []Package
		want []string // substrings of the violations, in order
	}{
		{"clean core", []Package{pkg("pdp", file("pdp/a.go", mod+"/policies", "fmt"))}, nil},
		{"pdp imports pep", []Package{pkg("pdp", file("pdp/a.go", "fmt", mod+"/pep"))},
			[]string{`pdp/a.go:4: imports "example.com/m/pep": pdp must not import`}},
		{"policies subpackage imports internal", []Package{pkg("policies/xacml", file("policies/xacml/x.go", mod+"/internal/store"))},
			[]string{`policies/xacml/x.go:3: imports "example.com/m/internal/store": policies must not import`}},
		{"ibe imports cmd", []Package{pkg("ibe", file("ibe/k.go", mod+"/cmd/sticky"))}, []string{`ibe must not import`}},
		{"ibe test imports obligations", []Package{pkg("ibe", file("ibe/k_test.go", mod+"/obligations"))}, []string{`ibe/k_test.go:3`}},
		{"pep may import obligations", []Package{pkg("pep", file("pep/a.go", mod+"/obligations", mod+"/pdp"))}, nil},
		{"pep imports net/http", []Package{pkg("pep", file("pep/a.go", "net/http"))},
			[]string{`pep/a.go:3: imports "net/http": only pep/httpapi`}},
		{"pep test imports httptest", []Package{pkg("pep", File{Path: "pep/a.go", Decls: 2}, file("pep/a_test.go", "net/http/httptest"))}, []string{`"net/http/httptest"`}},
		{"pdp imports database/sql/driver", []Package{pkg("pdp", file("pdp/a.go", "database/sql/driver"))}, []string{`"database/sql/driver"`}},
		{"allowed net/http and sql", []Package{
			pkg("pep/httpapi", file("pep/httpapi/api.go", "net/http", "github.com/gorilla/mux"), file("pep/httpapi/api_test.go", "net/http/httptest")),
			pkg("internal/store", file("internal/store/s.go", "database/sql"), file("internal/store/s_test.go", "database/sql")),
			pkg("internal/client", file("internal/client/c.go", "net/http")),
			pkg("cmd/stickyd", file("cmd/stickyd/serve.go", "net/http", "database/sql")),
			pkg("bench/load", file("bench/load/main.go", "net/http")),
		}, nil},
		{"obligations webhook only", []Package{pkg("obligations",
			file("obligations/webhook.go", "net/http"),
			file("obligations/runner.go", "fmt", "net/http"),
			file("obligations/webhook_test.go", "net/http/httptest"))},
			[]string{`obligations/runner.go:4: imports "net/http": in obligations only webhook.go`}},
		{"obligations subpackage has no exception", []Package{pkg("obligations/x", file("obligations/x/webhook.go", "net/http"))},
			[]string{`obligations/x/webhook.go:3`}},
		{"test-only harness may drive the server", []Package{pkg("obligations/crashtest",
			File{Path: "obligations/crashtest/doc.go"},
			file("obligations/crashtest/crash_test.go", "net/http", "net/http/httptest"))}, nil},
		{"a package with code is not test-only", []Package{pkg("obligations/x",
			File{Path: "obligations/x/x.go", Decls: 1},
			file("obligations/x/x_test.go", "net/http"))}, []string{`obligations/x/x_test.go:3: imports "net/http"`}},
		{"mux outside httpapi", []Package{
			pkg("pep", file("pep/r.go", "github.com/gorilla/mux")),
			pkg("cmd/stickyd", file("cmd/stickyd/serve.go", "github.com/gorilla/mux")),
		}, []string{`cmd/stickyd/serve.go:3: imports "github.com/gorilla/mux": only pep/httpapi`, `pep/r.go:3: imports "github.com/gorilla/mux"`}},
		{"indirect dependency of core", []Package{{ImportPath: mod + "/pdp", Rel: "pdp",
			Files: []File{file("pdp/a.go", mod+"/policies")},
			Deps:  []string{"fmt", mod + "/policies", mod + "/obligations"}}},
			[]string{`example.com/m/pdp: imports "example.com/m/obligations": pdp must not depend on pep, obligations, internal/... or cmd, even indirectly`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Check(mod, tt.pkgs)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d violations %v, want %d %q", len(got), got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i].String(), w) {
					t.Errorf("violation %d = %q, want it to contain %q", i, got[i].String(), w)
				}
			}
		})
	}
}

// TestRunOnModule runs the real `go list` on small modules written to disk.
func TestRunOnModule(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	write := func(t *testing.T, dir string, files map[string]string) {
		t.Helper()
		for name, text := range files {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	base := map[string]string{
		"go.mod":                 "module example.com/m\n\ngo 1.22\n",
		"policies/p.go":          "package policies\n\nfunc P() {}\n",
		"pep/pep.go":             "package pep\n\nimport _ \"example.com/m/policies\"\n",
		"obligations/webhook.go": "package obligations\n\nimport _ \"net/http\"\n",
	}
	tests := []struct {
		name     string
		extra    map[string]string
		wantCode int
		wantErr  []string
	}{
		{"clean", nil, 0, nil},
		{"policies imports pep", map[string]string{"policies/bad.go": "package policies\n\nimport (\n\t\"fmt\"\n\t_ \"example.com/m/pep\"\n)\n\nvar _ = fmt.Sprint\n"},
			1, []string{`policies/bad.go:5: imports "example.com/m/pep": policies must not import`, "1 dependency rule violation"}},
		{"obligations file other than webhook.go", map[string]string{"obligations/hook.go": "package obligations\n\nimport _ \"net/http\"\n"},
			1, []string{`obligations/hook.go:3: imports "net/http": in obligations only webhook.go`}},
		{"test file of pep", map[string]string{"pep/pep_test.go": "package pep\n\nimport _ \"net/http/httptest\"\n"},
			1, []string{`pep/pep_test.go:3: imports "net/http/httptest"`}},
		{"test-only package", map[string]string{
			"e2e/doc.go":      "// Package e2e drives the binary.\npackage e2e\n",
			"e2e/e2e_test.go": "package e2e\n\nimport _ \"net/http\"\n"}, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, base)
			write(t, dir, tt.extra)
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"-C", dir}, &stdout, &stderr)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, stderr.String())
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr does not contain %q:\n%s", w, stderr.String())
				}
			}
			if code == 0 && !strings.Contains(stdout.String(), "follow the dependency rules") {
				t.Errorf("stdout = %q", stdout.String())
			}
		})
	}
	t.Run("not a module", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"-C", t.TempDir()}, &stdout, &stderr); code != 2 {
			t.Fatalf("exit %d, want 2; stderr %s", code, stderr.String())
		}
	})
}
