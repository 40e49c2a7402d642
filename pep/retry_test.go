package pep_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stickypolicy/sticky/internal/store"
	"github.com/stickypolicy/sticky/pep"
)

// racingStore is the real store, except that while races > 0 each write
// transaction is preceded by another change of the record's policy: the
// record changes between a use case's decision and its write.
type racingStore struct {
	*store.Store
	races  *int
	change func()
}

func (s racingStore) Write(ctx context.Context, fn func(pep.Tx) error) error {
	if *s.races > 0 {
		*s.races--
		s.change()
	}
	return s.Store.Write(ctx, fn)
}

// TestStaleDecisionsAreRetried: a use case whose record changed between
// its decision and its write decides again under the new policy; one
// whose record keeps changing gives up with ErrConflict and writes no
// event of its own.
func TestStaleDecisionsAreRetried(t *testing.T) {
	bg := context.Background()
	tests := []struct {
		name    string
		races   int
		wantErr error
		// want is the record's event types after the use.
		want string
	}{
		{"changed once", 1, nil, "stored,policy_updated,subject_access"},
		{"keeps changing", 5, pep.ErrConflict, "stored,policy_updated,policy_updated,policy_updated,policy_updated,policy_updated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			alice := pep.Principal{Name: "alice@example.org", Role: pep.RoleSubject}
			races := 0
			var svc *pep.Service
			var id string
			version := 0
			svc = pep.New(racingStore{Store: st, races: &races, change: func() {
				version++
				saved := races
				races = 0 // the change itself is not raced
				if _, err := svc.UpdatePolicy(bg, alice, id, []byte(plainPolicy+strings.Repeat(" ", version))); err != nil {
					t.Errorf("the racing update: %v", err)
				}
				races = saved
			}})
			rec, err := svc.Create(bg, alice, pep.CreateInput{Data: []byte("x"), Policy: []byte(plainPolicy)})
			if err != nil {
				t.Fatal(err)
			}
			id = rec.ID
			races = tc.races
			_, data, err := svc.Retrieve(bg, alice, id, "")
			if !errors.Is(err, tc.wantErr) || (err == nil && string(data) != "x") {
				t.Fatalf("Retrieve = %q, %v; want error %v", data, err, tc.wantErr)
			}
			evs, err := st.Events(bg, id)
			if err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, e := range evs {
				types = append(types, e.Type)
			}
			if got := strings.Join(types, ","); got != tc.want {
				t.Errorf("events = %s, want %s", got, tc.want)
			}
		})
	}
}
