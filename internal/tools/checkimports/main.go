package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run checks the packages matched by args (default ./...) in the current
// directory's module.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	dir := "."
	if len(args) > 0 && (args[0] == "-C" || args[0] == "--dir") {
		if len(args) < 2 {
			fmt.Fprintln(stderr, "usage: checkimports [-C DIR] [PACKAGES]")
			return 2
		}
		dir, args = args[1], args[2:]
	}
	if len(args) == 0 {
		args = []string{"./..."}
	}
	module, pkgs, err := load(ctx, dir, args)
	if err != nil {
		fmt.Fprintf(stderr, "checkimports: %v\n", err)
		return 2
	}
	vs := Check(module, pkgs)
	for _, v := range vs {
		fmt.Fprintln(stderr, v.String())
	}
	if len(vs) > 0 {
		fmt.Fprintf(stderr, "checkimports: %d dependency rule violation(s)\n", len(vs))
		return 1
	}
	fmt.Fprintf(stdout, "checkimports: %d packages follow the dependency rules\n", len(pkgs))
	return 0
}

// listed is what `go list -json` says of one package.
type listed struct {
	Dir          string
	ImportPath   string
	Module       *struct{ Path, Dir string }
	GoFiles      []string
	CgoFiles     []string
	TestGoFiles  []string
	XTestGoFiles []string
	Deps         []string
	Error        *struct{ Err string }
}

// load lists the packages and reads every file's imports.
func load(ctx context.Context, dir string, patterns []string) (string, []Package, error) {
	cmd := exec.CommandContext(ctx, "go", append([]string{"list", "-e", "-json"}, patterns...)...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", nil, fmt.Errorf("go list: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	dec := json.NewDecoder(&stdout)
	var module, root string
	var pkgs []Package
	fset := token.NewFileSet()
	for {
		var l listed
		if err := dec.Decode(&l); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return "", nil, fmt.Errorf("reading go list output: %w", err)
		}
		if l.Module == nil {
			continue
		}
		module, root = l.Module.Path, l.Module.Dir
		p := Package{ImportPath: l.ImportPath, Deps: l.Deps}
		p.Rel = strings.TrimPrefix(strings.TrimPrefix(l.ImportPath, module), "/")
		add := func(names []string, test bool) error {
			for _, n := range names {
				full := filepath.Join(l.Dir, n)
				f, err := parser.ParseFile(fset, full, nil, parser.SkipObjectResolution)
				if err != nil {
					return fmt.Errorf("parsing %s: %w", full, err)
				}
				rel, err := filepath.Rel(root, full)
				if err != nil {
					rel = full
				}
				file := File{Path: filepath.ToSlash(rel), Test: test}
				for _, d := range f.Decls {
					if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.IMPORT {
						continue
					}
					file.Decls++
				}
				for _, is := range f.Imports {
					ip, err := strconv.Unquote(is.Path.Value)
					if err != nil {
						continue
					}
					file.Imports = append(file.Imports, Import{Path: ip, Line: fset.Position(is.Pos()).Line})
				}
				p.Files = append(p.Files, file)
			}
			return nil
		}
		if err := add(append(append([]string{}, l.GoFiles...), l.CgoFiles...), false); err != nil {
			return "", nil, err
		}
		if err := add(append(append([]string{}, l.TestGoFiles...), l.XTestGoFiles...), true); err != nil {
			return "", nil, err
		}
		pkgs = append(pkgs, p)
	}
	if module == "" {
		return "", nil, errors.New("go list found no package of a module")
	}
	return module, pkgs, nil
}
