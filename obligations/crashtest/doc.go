// Package crashtest holds the crash test of the obligation handler: it runs
// the real stickyd binary, kills it with SIGKILL in the middle of reads,
// stores and due deletions, restarts it, and checks that nothing
// acknowledged or owed was lost. It has no non-test code.
package crashtest
