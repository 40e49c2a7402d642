package pep_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/internal/store"
	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/pep"
	"github.com/stickypolicy/sticky/pep/rules"
)

// plainPolicy is a data subject's policy: service provision by anyone, no
// obligation.
const plainPolicy = `<ppl:Policy xmlns="urn:oasis:names:tc:xacml:2.0:policy:schema:os" xmlns:ppl="http://www.primelife.eu/ppl"
    PolicyId="plain" RuleCombiningAlgId="urn:oasis:names:tc:xacml:1.0:rule-combining-algorithm:permit-overrides">
  <Target/>
  <ppl:DataHandlingPreferences>
    <ppl:AuthorizationsSet>
      <ppl:AuthzUseForPurpose><ppl:Purpose>https://w3id.org/dpv#ServiceProvision</ppl:Purpose></ppl:AuthzUseForPurpose>
    </ppl:AuthorizationsSet>
  </ppl:DataHandlingPreferences>
</ppl:Policy>`

// cancellingStore is the real store, except that Forget cancels the
// request's context in the middle of its transaction (when the store asks
// for the recipients' notices, between the erasure and the statements
// after it): the moment a client disconnecting mid-forget hits.
type cancellingStore struct {
	*store.Store
	cancel context.CancelFunc
}

func (s cancellingStore) Forget(ctx context.Context, req pep.ForgetRequest) (pep.ForgetReport, error) {
	notices := req.Notices
	req.Notices = func(erased []pep.ErasedRecord) []obligations.Job {
		s.cancel()
		if notices == nil {
			return nil
		}
		return notices(erased)
	}
	return s.Store.Forget(ctx, req)
}

// TestWritesSurviveACancelledForget: a forget whose client goes away in the
// middle of its transaction still completes, and neither it nor the
// stores of other clients committed in the same group-commit batch are
// aborted.
func TestWritesSurviveACancelledForget(t *testing.T) {
	bg := context.Background()
	st := openStore(t)
	reqCtx, cancel := context.WithCancel(bg)
	defer cancel()
	svc := pep.New(cancellingStore{Store: st, cancel: cancel})

	alice := pep.Principal{Name: "alice@example.org", Role: pep.RoleSubject}
	var aliceIDs []string
	for i := range 20 {
		rec, err := svc.Create(bg, alice, pep.CreateInput{Data: fmt.Appendf(nil, "alice-%d", i), Policy: []byte(plainPolicy)})
		if err != nil {
			t.Fatal(err)
		}
		aliceIDs = append(aliceIDs, rec.ID)
	}

	// Other clients store continuously while the forget runs, so that
	// their writes share its group-commit batches.
	const writers, perWriter = 6, 25
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter)
	ids := make(chan string, writers*perWriter)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := pep.Principal{Name: fmt.Sprintf("subject%d@example.org", w), Role: pep.RoleSubject}
			<-start
			for i := range perWriter {
				rec, err := svc.Create(bg, p, pep.CreateInput{Data: fmt.Appendf(nil, "%d-%d", w, i), Policy: []byte(plainPolicy)})
				if err != nil {
					errs <- fmt.Errorf("%s's store %d: %w", p.Name, i, err)
					continue
				}
				ids <- rec.ID
			}
		}()
	}
	close(start)
	rep, ferr := svc.ForgetSubject(reqCtx, alice.Name, pep.SystemPrincipal, false)
	wg.Wait()
	close(errs)
	close(ids)

	if reqCtx.Err() == nil {
		t.Fatal("the test did not cancel the forget's context")
	}
	for err := range errs {
		t.Errorf("a store in flight failed: %v", err)
	}
	if ferr != nil {
		t.Fatalf("the forget whose client went away failed: %v", ferr)
	}
	if len(rep.Records) != len(aliceIDs) {
		t.Errorf("forget erased %d records, want %d", len(rep.Records), len(aliceIDs))
	}
	// Every acknowledged store is there; none of alice's records is.
	n := 0
	for id := range ids {
		n++
		if _, err := st.Record(bg, id); err != nil {
			t.Errorf("acknowledged record %s: %v", id, err)
		}
	}
	if n != writers*perWriter {
		t.Errorf("%d stores acknowledged, want %d", n, writers*perWriter)
	}
	for _, id := range aliceIDs {
		if _, err := st.Record(bg, id); !errors.Is(err, pep.ErrNotFound) {
			t.Errorf("alice's record %s after forget: %v", id, err)
		}
	}
	// A second forget finds nothing new: the first one was committed whole.
	again, err := svc.ForgetSubject(bg, alice.Name, pep.SystemPrincipal, false)
	if err != nil || !again.AlreadyForgotten {
		t.Errorf("second forget: %+v, %v", again, err)
	}
}

// armed marks the request context of the use case under test.
type armed struct{}

// cancelAtWrite is the real store, except that a write transaction of an
// armed request first cancels the request's context: the client went away
// after its write was queued, while the group-commit batch it shares with
// others runs.
type cancelAtWrite struct {
	*store.Store
}

func (s cancelAtWrite) Write(ctx context.Context, fn func(pep.Tx) error) error {
	cancel, _ := ctx.Value(armed{}).(context.CancelFunc)
	return s.Store.Write(ctx, func(tx pep.Tx) error {
		if cancel != nil {
			cancel()
		}
		return fn(tx)
	})
}

// TestWritePathsIgnoreACancelledRequest: every use case that writes
// carries out its transaction once it is running, even if its client's
// context is cancelled meanwhile.
func TestWritePathsIgnoreACancelledRequest(t *testing.T) {
	bg := context.Background()
	st := openStore(t)
	svc := pep.New(cancelAtWrite{Store: st}, pep.WithRestoreWindow(24*time.Hour))
	admin := pep.Principal{Name: "root@example.org", Role: pep.RoleAdmin}
	tests := []struct {
		name string
		run  func(ctx context.Context, p pep.Principal, id string) error
		// check says what is wrong after the write, "" when nothing is.
		check func(p pep.Principal, id string) string
	}{
		{"create", func(ctx context.Context, p pep.Principal, _ string) error {
			_, err := svc.Create(ctx, p, pep.CreateInput{Data: []byte("x"), Category: "health", Policy: []byte(plainPolicy)})
			return err
		}, func(p pep.Principal, _ string) string {
			if recs, err := st.RecordsBySubject(bg, p.Name); err != nil || len(recs) != 2 {
				return fmt.Sprintf("records after the store: %d %v", len(recs), err)
			}
			return ""
		}},
		{"update policy", func(ctx context.Context, p pep.Principal, id string) error {
			_, err := svc.UpdatePolicy(ctx, p, id, []byte(plainPolicy+" "))
			return err
		}, func(_ pep.Principal, id string) string {
			if r, err := st.Record(bg, id); err != nil || r.PolicyVersion != 2 {
				return fmt.Sprintf("record after update: %+v %v", r, err)
			}
			return ""
		}},
		{"delete into the restore bin", func(ctx context.Context, p pep.Principal, id string) error {
			return svc.Delete(ctx, p, id)
		}, func(_ pep.Principal, id string) string {
			if _, err := st.Binned(bg, id); err != nil {
				return fmt.Sprintf("not in the bin: %v", err)
			}
			return ""
		}},
		{"restore", func(ctx context.Context, p pep.Principal, id string) error {
			if err := svc.Delete(bg, p, id); err != nil {
				return err
			}
			_, err := svc.Restore(ctx, p, id)
			return err
		}, func(_ pep.Principal, id string) string {
			if _, err := st.Record(bg, id); err != nil {
				return fmt.Sprintf("not restored: %v", err)
			}
			return ""
		}},
		{"preferences", func(ctx context.Context, p pep.Principal, _ string) error {
			return svc.SetPreferences(ctx, p, []byte(`<ppl:DataHandlingPreferences xmlns:ppl="http://www.primelife.eu/ppl"><ppl:AuthorizationsSet/></ppl:DataHandlingPreferences>`))
		}, func(p pep.Principal, _ string) string {
			if _, err := st.Preferences(bg, p.Name); err != nil {
				return fmt.Sprintf("preferences: %v", err)
			}
			return ""
		}},
		{"operator rules", func(ctx context.Context, p pep.Principal, _ string) error {
			set, err := rules.Parse(fmt.Appendf(nil, `{"rules":[{"name":"anon","source":"test","type":"anonymise","categories":["*"],"filters":{"subject":%q}}]}`, p.Name))
			if err != nil {
				return err
			}
			_, err = svc.RunRules(ctx, set, false)
			return err
		}, func(_ pep.Principal, id string) string {
			if s, err := st.RuleState(bg, id); err != nil || s != pep.StateAnonymised {
				return fmt.Sprintf("rule state %q %v", s, err)
			}
			return ""
		}},
		{"export by an admin", func(ctx context.Context, p pep.Principal, _ string) error {
			_, err := svc.Export(ctx, admin, p.Name)
			return err
		}, func(_ pep.Principal, id string) string {
			evs, err := st.Events(bg, id)
			if err != nil || evs[len(evs)-1].Type != pep.EventExported {
				return fmt.Sprintf("events after export: %+v %v", evs, err)
			}
			return ""
		}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := pep.Principal{Name: fmt.Sprintf("subject%d@example.org", i), Role: pep.RoleSubject}
			rec, err := svc.Create(bg, p, pep.CreateInput{Data: []byte(`{"name":"Alice"}`), ContentType: "application/json", Policy: []byte(plainPolicy)})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(bg)
			defer cancel()
			ctx = context.WithValue(ctx, armed{}, cancel)
			if err := tc.run(ctx, p, rec.ID); err != nil {
				t.Fatalf("with the client gone mid-write: %v", err)
			}
			if ctx.Err() == nil {
				t.Fatal("no write transaction ran")
			}
			if msg := tc.check(p, rec.ID); msg != "" {
				t.Error(msg)
			}
		})
	}
}
