package pep_test

import (
	"context"
	"testing"

	"github.com/stickypolicy/sticky/internal/store"
)

// openStore opens a real store in a temporary folder, closed at the end of
// the test.
func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
