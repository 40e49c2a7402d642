//go:build !stickyh2

package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/stickypolicy/sticky/pep/rules"
)

// The data-subject rights commands need the pep service, which builds once
// the policy engine has landed (the stickyh2 tag, as serve.go).
// TODO(H8): delete this file with the stickyh2 build tags.

var errNoEngine = errors.New("this build has no policy engine yet (build with -tags stickyh2)")

func runForget(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintf(stderr, "stickyd forget: %v\n", errNoEngine)
	return exitFailure
}

func rulesRun(ctx context.Context, data string, set *rules.RuleSet, dryRun bool) (any, error) {
	return nil, errNoEngine
}
