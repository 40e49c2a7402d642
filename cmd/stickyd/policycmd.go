package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/stickypolicy/sticky/pdp"
	"github.com/stickypolicy/sticky/policies"
	"github.com/stickypolicy/sticky/policies/xmlsafe"
)

// runPolicyCheck implements `stickyd policy check [--purposes FILE] FILE`:
// it validates a policy document (a ppl:Policy or a plain XACML policy, or
// a ppl:DataHandlingPreferences document) the way the server would, and
// compiles it. On success it prints "ok" and a summary (policy id,
// purposes, downstream usage, obligations) on stdout and exits 0; otherwise
// it prints every problem, one per line, on stderr and exits 1. Usage
// errors exit 2.
func runPolicyCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("stickyd policy check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	purposes := fs.String("purposes", "", "operator purpose file (JSON [{iri, parent, label}]) extending the taxonomy")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: stickyd policy check [--purposes FILE] FILE")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	path := fs.Arg(0)
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "stickyd policy check: "+format+"\n", args...)
		return exitFailure
	}
	if err := ctx.Err(); err != nil {
		return fail("%v", err)
	}
	tax, err := policies.LoadTaxonomy(*purposes)
	if err != nil {
		return fail("%v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fail("%v", err)
	}
	if isPreferences(data) {
		dh, err := policies.ParsePreferences(data)
		if err != nil {
			return problems(stderr, path, err)
		}
		fmt.Fprintf(stdout, "ok: %s: data handling preferences\n", path)
		summarize(stdout, dh, tax)
		return exitOK
	}
	doc, err := policies.Parse(data)
	if err != nil {
		return problems(stderr, path, err)
	}
	if _, err := pdp.CompileSticky(doc, pdp.WithTaxonomy(tax)); err != nil {
		return problems(stderr, path, err)
	}
	kind := "XACML policy"
	switch {
	case doc.XACML.Source.Namespace == policies.NSPPL:
		kind = "PPL policy"
	case doc.XACML.PolicySet != nil:
		kind = "XACML policy set"
	}
	fmt.Fprintf(stdout, "ok: %s: %s %q\n", path, kind, doc.XACML.ID())
	parts := []string{}
	if n := len(doc.DataHandlingPolicies); n > 0 {
		parts = append(parts, fmt.Sprintf("%d ppl:DataHandlingPolicy", n))
	}
	if doc.Preferences != nil {
		parts = append(parts, "ppl:DataHandlingPreferences")
	}
	if doc.Sticky != nil {
		parts = append(parts, "ppl:StickyPolicy")
	}
	if len(parts) == 0 {
		fmt.Fprintln(stdout, "data handling: none (no purpose is allowed; only the data subject can read the data)")
		return exitOK
	}
	fmt.Fprintf(stdout, "data handling: %s; terms in force:\n", strings.Join(parts, ", "))
	summarize(stdout, doc.Terms(), tax)
	return exitOK
}

// isPreferences reports whether the document's root element is
// ppl:DataHandlingPreferences (problems are left to the real parse).
func isPreferences(data []byte) bool {
	doc, err := xmlsafe.Parse(data, xmlsafe.Limits{MaxBytes: policies.DefaultMaxBytes, MaxDepth: policies.DefaultMaxDepth,
		MaxElements: policies.DefaultMaxElements})
	if err != nil {
		return false
	}
	root := doc.Root()
	return root.Tag == "DataHandlingPreferences" && root.NamespaceURI() == policies.NSPPL
}

// problems prints every problem of err, one per line, and returns 1.
func problems(stderr io.Writer, path string, err error) int {
	var ve *policies.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			fmt.Fprintf(stderr, "%s: %s\n", path, p)
		}
		fmt.Fprintf(stderr, "%s: %d problem(s)\n", path, len(ve.Problems))
		return exitFailure
	}
	fmt.Fprintf(stderr, "%s: %v\n", path, err)
	return exitFailure
}

// summarize prints purposes, downstream usage and obligations.
func summarize(w io.Writer, dh *policies.DataHandling, tax *policies.Taxonomy) {
	if dh.PolicyID != "" {
		fmt.Fprintf(w, "policy id: %s\n", dh.PolicyID)
	}
	if len(dh.Authorizations.Purposes) == 0 {
		fmt.Fprintln(w, "purposes: none")
	} else {
		fmt.Fprintln(w, "purposes:")
		for _, p := range dh.Authorizations.Purposes {
			note := ""
			switch {
			case p == policies.PurposeAny:
				note = " (any purpose)"
			case !tax.Known(p):
				note = " (not in the purpose taxonomy: covers only itself)"
			case tax.Label(p) != "":
				note = " (" + tax.Label(p) + ")"
			}
			fmt.Fprintf(w, "  %s%s\n", p, note)
		}
	}
	switch d := dh.Authorizations.Downstream; {
	case d == nil || !d.Allowed:
		fmt.Fprintln(w, "downstream: not allowed")
	case d.Policy != nil && d.Policy.XACML != nil:
		fmt.Fprintf(w, "downstream: allowed to the recipients policy %q permits\n", d.Policy.XACML.ID())
	default:
		fmt.Fprintln(w, "downstream: allowed to any recipient")
	}
	fmt.Fprintf(w, "obligations: %d\n", len(dh.Obligations))
	for _, ob := range dh.Obligations {
		id := ""
		if ob.ID != "" {
			id = ob.ID + ": "
		}
		fmt.Fprintf(w, "  %s%s\n", id, ob)
	}
}
