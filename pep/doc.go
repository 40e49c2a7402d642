// Package pep is Sticky's policy enforcement point: the use cases (store, retrieve by purpose, disclose, update policy, delete, forget, export) that ask the pdp for decisions and record every decision as an event.
package pep
