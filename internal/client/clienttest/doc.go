// Package clienttest starts a real Sticky server for tests of the client and
// the sticky command: the HTTP API of pep/httpapi over pep's use cases and the
// SQLite store on a temporary directory, behind httptest, with a fixed set of
// principals and their bearer tokens.
package clienttest
