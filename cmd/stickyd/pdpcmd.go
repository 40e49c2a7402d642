package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/stickypolicy/sticky/pdp/engine"
)

// runPDPEval implements `stickyd pdp eval --policy PATH --request FILE`:
// it evaluates an XACML request against a policy file, or against a policy
// directory whose root is Policy.xml (the other files resolve
// PolicyIdReference / PolicySetIdReference), and writes the XACML Response
// on stdout (one Result per individual request when the request repeats
// categories or uses MultiRequests). Exit 0 on a decision (whatever it is), 1 when the policy or
// request cannot be used, 2 on a usage error.
func runPDPEval(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("stickyd pdp eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	policyPath := fs.String("policy", "", "XACML policy file, or a directory of policies whose root is Policy.xml")
	requestPath := fs.String("request", "", "XACML request file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: stickyd pdp eval --policy PATH --request FILE")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *policyPath == "" || *requestPath == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	if err := ctx.Err(); err != nil {
		fmt.Fprintf(stderr, "stickyd pdp eval: %v\n", err)
		return 1
	}
	pol, err := loadPolicy(*policyPath)
	if err != nil {
		fmt.Fprintf(stderr, "stickyd pdp eval: policy %s: %v\n", *policyPath, err)
		return 1
	}
	data, err := os.ReadFile(*requestPath)
	if err != nil {
		fmt.Fprintf(stderr, "stickyd pdp eval: %v\n", err)
		return 1
	}
	reqs, err := engine.ParseRequests(data)
	if err != nil {
		fmt.Fprintf(stderr, "stickyd pdp eval: request %s: %v\n", *requestPath, err)
		return 1
	}
	resps := make([]engine.Response, len(reqs))
	for i, req := range reqs {
		resps[i] = pol.Evaluate(req)
	}
	out, err := engine.MarshalResponses(resps)
	if err != nil {
		fmt.Fprintf(stderr, "stickyd pdp eval: writing the response: %v\n", err)
		return 1
	}
	if _, err := stdout.Write(out); err != nil {
		fmt.Fprintf(stderr, "stickyd pdp eval: %v\n", err)
		return 1
	}
	return 0
}

func loadPolicy(path string) (*engine.Policy, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return engine.LoadDirectory(path)
	}
	// References from a single file resolve against the policies next to it.
	return engine.LoadFile(path, engine.WithResolver(engine.DirectoryResolver(filepath.Dir(path), filepath.Base(path))))
}
