// Package acceptance holds a black-box acceptance suite for Sticky's outside
// contract (CONTRACT.md): it builds the three real binaries (stickyd, sticky,
// loganalyser) once, starts `stickyd serve` on temporary data directories
// and checks every promise of the contract through HTTP and the command
// lines only, never through the packages' Go APIs. The suite is skipped
// under `go test -short`, because it builds and runs the binaries.
package acceptance
