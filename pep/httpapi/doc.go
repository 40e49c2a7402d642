// Package httpapi is the HTTP API of Sticky over the pep use cases; it is the only user of gorilla/mux and maps errors to HTTP statuses in one place.
package httpapi
