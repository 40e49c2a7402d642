package store

import "context"

// ReferencesForTest exposes forget's reference scan to the external tests.
func ReferencesForTest(ctx context.Context, s *Store, identity string) (map[string]int, error) {
	return references(ctx, s.r, identity)
}
