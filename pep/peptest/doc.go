// Package peptest is the conformance suite for implementations of pep.Store:
// Exercise runs every behaviour pep relies on against a fresh store.
package peptest
