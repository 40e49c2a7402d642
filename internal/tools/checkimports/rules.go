package main

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// File is one Go source file's imports.
type File struct {
	Path    string   // the file's path, relative to the module root
	Test    bool     // a _test.go file
	Imports []Import // in source order
	Decls   int      // top-level declarations other than imports
}

// Import is one import spec.
type Import struct {
	Path string
	Line int
}

// Package is one package of the module as the rules see it.
type Package struct {
	ImportPath string   // full import path
	Rel        string   // import path relative to the module ("" for the root)
	Files      []File   // every Go file of the package and its tests
	Deps       []string // transitive imports of the non-test package
}

// Violation is one broken rule.
type Violation struct {
	File   string // file path, or the package's path for an indirect import
	Line   int    // 0 for an indirect import
	Import string
	Rule   string
}

// String formats v as "file:line: imports X: rule".
func (v Violation) String() string {
	if v.Line > 0 {
		return fmt.Sprintf("%s:%d: imports %q: %s", v.File, v.Line, v.Import, v.Rule)
	}
	return fmt.Sprintf("%s: imports %q: %s", v.File, v.Import, v.Rule)
}

// within reports whether rel is dir or below it.
func within(rel, dir string) bool {
	return rel == dir || strings.HasPrefix(rel, dir+"/")
}

// isCore reports whether rel is a package that must stay free of the rest:
// policies, pdp, ibe and their subpackages.
func isCore(rel string) bool {
	return within(rel, "policies") || within(rel, "pdp") || within(rel, "ibe")
}

// forbiddenForCore reports whether the module-relative package dep is one a
// core package must not import.
func forbiddenForCore(dep string) bool {
	return within(dep, "pep") || within(dep, "obligations") || within(dep, "internal") || within(dep, "cmd")
}

// isIOImport reports whether imp is net/http, database/sql or below.
func isIOImport(imp string) bool {
	return within(imp, "net/http") || within(imp, "database/sql")
}

// testOnly reports whether p has no code outside its tests (its non-test
// files, if any, hold only the package clause and documentation): an
// end-to-end harness such as obligations/crashtest, which drives the real
// binary, and is never linked into anything.
func testOnly(p Package) bool {
	for _, f := range p.Files {
		if !f.Test && (f.Decls > 0 || len(f.Imports) > 0) {
			return false
		}
	}
	return true
}

// mayUseIO reports whether file f of package p (module-relative path rel)
// may import net/http or database/sql.
func mayUseIO(p Package, rel string, f File) bool {
	if f.Test && testOnly(p) {
		return true
	}
	switch {
	case rel == "pep/httpapi", within(rel, "internal/store"), within(rel, "internal/client"),
		within(rel, "cmd"), within(rel, "bench"), within(rel, "internal/tools"):
		return true
	case rel == "obligations":
		return path.Base(f.Path) == "webhook.go" || f.Test
	}
	return false
}

const muxPath = "github.com/gorilla/mux"

// Check returns every violation in pkgs of the module whose path is module,
// sorted by file and line.
func Check(module string, pkgs []Package) []Violation {
	var out []Violation
	rel := func(imp string) (string, bool) {
		if imp == module {
			return "", true
		}
		r, ok := strings.CutPrefix(imp, module+"/")
		return r, ok
	}
	for _, p := range pkgs {
		direct := map[string]bool{}
		for _, f := range p.Files {
			for _, imp := range f.Imports {
				if !f.Test {
					direct[imp.Path] = true
				}
				if r, ok := rel(imp.Path); ok && isCore(p.Rel) && forbiddenForCore(r) {
					out = append(out, Violation{File: f.Path, Line: imp.Line, Import: imp.Path,
						Rule: fmt.Sprintf("%s must not import pep, obligations, internal/... or cmd (DESIGN.md dependency rules)", topDir(p.Rel))})
				}
				if isIOImport(imp.Path) && !mayUseIO(p, p.Rel, f) {
					rule := "only pep/httpapi, internal/store, internal/client and cmd may import net/http or database/sql (DESIGN.md dependency rules)"
					if p.Rel == "obligations" {
						rule = "in obligations only webhook.go may import net/http (the webhook notifier is the one exception)"
					}
					out = append(out, Violation{File: f.Path, Line: imp.Line, Import: imp.Path, Rule: rule})
				}
				if imp.Path == muxPath && p.Rel != "pep/httpapi" && !within(p.Rel, "internal/tools") {
					out = append(out, Violation{File: f.Path, Line: imp.Line, Import: imp.Path,
						Rule: "only pep/httpapi may import gorilla/mux (DESIGN.md)"})
				}
			}
		}
		// Indirect imports of core packages: a core package importing
		// another that pulls in a forbidden one.
		if isCore(p.Rel) {
			for _, d := range p.Deps {
				if direct[d] {
					continue
				}
				if r, ok := rel(d); ok && forbiddenForCore(r) {
					out = append(out, Violation{File: p.ImportPath, Import: d,
						Rule: fmt.Sprintf("%s must not depend on pep, obligations, internal/... or cmd, even indirectly", topDir(p.Rel))})
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Line < out[j].Line
	})
	return out
}

func topDir(rel string) string {
	top, _, _ := strings.Cut(rel, "/")
	return top
}
