//go:build !stickyh2

package main

import (
	"context"
	"fmt"
	"io"
)

// runServe is replaced by serve.go once the policy engine (policies.Parse,
// pdp.CompileSticky) has landed; until then this build cannot serve.
// TODO(H4): delete this file and the stickyh2 build tags when H2 lands.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "stickyd serve: this build has no policy engine yet (build with -tags stickyh2)")
	return exitFailure
}
