// Command checkimports enforces the dependency rules of DESIGN.md on the
// module's packages, as listed by `go list -json ./...`:
//
//   - policies, pdp and ibe (and their subpackages) never import pep,
//     obligations, internal/... or cmd/..., directly or indirectly;
//   - no package imports net/http or database/sql (or their subpackages)
//     except pep/httpapi and internal/store (and their tests),
//     internal/client, cmd/..., the tools under bench/ and internal/tools/,
//     and in package obligations the one file webhook.go (the webhook
//     notifier; obligations' test files may use net/http to exercise it),
//     and the tests of test-only packages (no code outside their tests, e.g.
//     the end-to-end harness obligations/crashtest that drives the binary);
//   - github.com/gorilla/mux is imported only by pep/httpapi (and its tests)
//     and the dependency pins under internal/tools/.
//
// Imports are checked file by file, so a violation names the file, the line
// and the import. It exits 0 when every rule holds, 1 on a violation and 2
// when the packages cannot be listed. Run it as `make check-imports`.
package main
