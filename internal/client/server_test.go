package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/internal/client"
	"github.com/stickypolicy/sticky/internal/client/clienttest"
)

const (
	purposeService   = "https://w3id.org/dpv#ServiceProvision"
	purposeMarketing = "https://w3id.org/dpv#Marketing"
)

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// as returns a client of srv acting as the named principal.
func as(t *testing.T, srv *clienttest.Server, name string) *client.Client {
	t.Helper()
	c, err := client.New(srv.URL, srv.Token(name))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func store(t *testing.T, c *client.Client, data, policyFile string) *client.Stored {
	t.Helper()
	st, err := c.Store(context.Background(), client.StoreRequest{Data: strings.NewReader(data), ContentType: "text/plain", Policy: testdata(t, policyFile)})
	if err != nil {
		t.Fatalf("store: %v", err)
	}
	return st
}

func read(t *testing.T, c *client.Client, id, purpose string) (string, string, error) {
	t.Helper()
	obj, err := c.Get(context.Background(), id, purpose)
	if err != nil {
		return "", "", err
	}
	defer obj.Body.Close()
	b, err := io.ReadAll(obj.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), obj.ContentType, nil
}

// wantStatus checks that err is a *client.Error of status with a message.
func wantStatus(t *testing.T, what string, err error, status int, sentinel error) *client.Error {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) {
		t.Fatalf("%s: %v, want HTTP %d", what, err, status)
	}
	if ce.Status != status || !errors.Is(err, sentinel) {
		t.Fatalf("%s: HTTP %d (%s), want %d", what, ce.Status, ce.Message, status)
	}
	if strings.TrimSpace(ce.Message) == "" {
		t.Fatalf("%s: the error has no message", what)
	}
	return ce
}

func TestStoreAndReadByPurpose(t *testing.T) {
	ctx := context.Background()
	srv := clienttest.Start(t)
	alice, bob, carol := as(t, srv, "alice"), as(t, srv, "bob"), as(t, srv, "carol")

	before := time.Now()
	st := store(t, alice, "12 Rabbit Hole Lane", "policy.xml")
	if st.ID == "" || st.Subject != "alice@example.org" || st.Encrypted {
		t.Fatalf("stored %+v", st)
	}
	if st.DeleteAt == nil || st.DeleteAt.Sub(before) < 29*24*time.Hour || st.DeleteAt.Sub(before) > 31*24*time.Hour {
		t.Errorf("delete_at %v, want about 30 days from now", st.DeleteAt)
	}

	t.Run("delegate, allowed purpose", func(t *testing.T) {
		data, ct, err := read(t, bob, st.ID, purposeService)
		if err != nil || data != "12 Rabbit Hole Lane" || !strings.HasPrefix(ct, "text/plain") {
			t.Fatalf("bob read %q %q %v", data, ct, err)
		}
	})
	t.Run("delegate, other purpose", func(t *testing.T) {
		_, _, err := read(t, bob, st.ID, purposeMarketing)
		ce := wantStatus(t, "bob for marketing", err, 403, client.ErrForbidden)
		if ce.Decision != "Deny" || ce.Reason == "" {
			t.Errorf("403 without decision and reason: %+v", ce)
		}
	})
	t.Run("not a delegate", func(t *testing.T) {
		_, _, err := read(t, carol, st.ID, purposeService)
		wantStatus(t, "carol", err, 403, client.ErrForbidden)
	})
	t.Run("no purpose", func(t *testing.T) {
		_, _, err := read(t, bob, st.ID, "")
		wantStatus(t, "bob without purpose", err, 400, client.ErrBadRequest)
	})
	t.Run("owner without purpose", func(t *testing.T) {
		data, _, err := read(t, alice, st.ID, "")
		if err != nil || data != "12 Rabbit Hole Lane" {
			t.Fatalf("alice read %q %v", data, err)
		}
	})
	t.Run("another subject", func(t *testing.T) {
		_, _, err := read(t, as(t, srv, "dave"), st.ID, purposeService)
		wantStatus(t, "dave", err, 403, client.ErrForbidden)
	})
	t.Run("unknown id", func(t *testing.T) {
		_, _, err := read(t, bob, "nosuchrecord", purposeService)
		wantStatus(t, "unknown id", err, 404, client.ErrNotFound)
	})
	t.Run("bad token", func(t *testing.T) {
		c, _ := client.New(srv.URL, "sticky_notatoken")
		_, _, err := read(t, c, st.ID, purposeService)
		wantStatus(t, "bad token", err, 401, client.ErrUnauthorized)
	})
	t.Run("no token", func(t *testing.T) {
		c, _ := client.New(srv.URL, "")
		_, err := c.List(ctx)
		wantStatus(t, "no token", err, 401, client.ErrUnauthorized)
	})

	t.Run("decision", func(t *testing.T) {
		d, err := bob.Decide(ctx, client.DecisionRequest{PII: st.ID, Purpose: purposeService})
		if err != nil || d.Decision != "Permit" {
			t.Fatalf("decide service: %+v %v", d, err)
		}
		d, err = bob.Decide(ctx, client.DecisionRequest{PII: st.ID, Purpose: purposeMarketing})
		if err != nil || d.Decision != "Deny" {
			t.Fatalf("decide marketing: %+v %v", d, err)
		}
	})

	t.Run("events", func(t *testing.T) {
		evs, err := alice.Events(ctx, st.ID)
		if err != nil {
			t.Fatal(err)
		}
		// The decisions, in order; "notified" events (the owner told of
		// bob's use by the obligations runner) come in between when they
		// are delivered.
		var types []string
		var accessed client.Event
		for i, e := range evs {
			if e.Type != "notified" {
				types = append(types, e.Type)
			}
			if e.Type == "accessed" && accessed.Seq == 0 {
				accessed = e
			}
			if e.Seq <= 0 || e.Time.IsZero() || (i > 0 && e.Seq <= evs[i-1].Seq) {
				t.Errorf("event %d: %+v", i, e)
			}
		}
		got := strings.Join(types, ",")
		if !strings.HasPrefix(got, "stored,accessed,denied,denied") {
			t.Errorf("event types %s, want stored, accessed (bob), denied (bob, marketing), denied (carol), ...", got)
		}
		if accessed.Principal != "bob@example.org" || accessed.Purpose != purposeService {
			t.Errorf("the access event is %+v", accessed)
		}
		_, err = bob.Events(ctx, st.ID)
		wantStatus(t, "bob's events", err, 403, client.ErrForbidden)
		if _, err := as(t, srv, "admin").Events(ctx, st.ID); err != nil {
			t.Errorf("admin's events: %v", err)
		}
	})

	t.Run("list", func(t *testing.T) {
		has := func(c *client.Client) bool {
			recs, err := c.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if r.ID == st.ID {
					if r.Subject != "alice@example.org" || len(r.Raw) == 0 {
						t.Errorf("listed %+v", r)
					}
					return true
				}
			}
			return false
		}
		if !has(alice) || !has(bob) {
			t.Errorf("alice or bob does not list the record")
		}
		if has(carol) || has(as(t, srv, "dave")) {
			t.Errorf("carol or dave lists a record they may not use")
		}
	})

	t.Run("policy", func(t *testing.T) {
		xml, err := alice.Policy(ctx, st.ID)
		if err != nil || !bytes.Contains(xml, []byte(purposeService)) {
			t.Fatalf("alice's policy: %v %s", err, xml)
		}
		_, err = bob.Policy(ctx, st.ID)
		wantStatus(t, "bob reads the policy", err, 403, client.ErrForbidden)
		_, err = bob.SetPolicy(ctx, st.ID, testdata(t, "policy-marketing.xml"))
		wantStatus(t, "bob replaces the policy", err, 403, client.ErrForbidden)
		if _, err := alice.SetPolicy(ctx, st.ID, testdata(t, "policy-marketing.xml")); err != nil {
			t.Fatalf("alice replaces the policy: %v", err)
		}
		if data, _, err := read(t, bob, st.ID, purposeMarketing); err != nil || data != "12 Rabbit Hole Lane" {
			t.Fatalf("after the update bob reads for marketing: %q %v", data, err)
		}
		_, err = alice.SetPolicy(ctx, st.ID, testdata(t, "policy-invalid.xml"))
		ce := wantStatus(t, "invalid policy", err, 400, client.ErrBadRequest)
		if len(ce.Problems) == 0 {
			t.Errorf("invalid policy: no problems named: %s", ce.Body)
		}
	})

	t.Run("notifications", func(t *testing.T) {
		// The policy tells alice in her inbox of each permitted use, within
		// a minute; the runner delivers it at once.
		var ns []client.Notification
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			var err error
			if ns, err = alice.Notifications(ctx); err != nil {
				t.Fatal(err)
			}
			if len(ns) > 0 {
				break
			}
		}
		if len(ns) == 0 {
			t.Fatal("alice has no notification of bob's use")
		}
		n := ns[0]
		if n.PII != st.ID || n.Principal != "bob@example.org" || n.Purpose != purposeService || n.Text == "" || n.Time.IsZero() {
			t.Errorf("notification %+v", n)
		}
		// bob's inbox holds only the notice that alice's policy gave him
		// access (he is its delegate), nothing of his own uses.
		bobs, err := bob.Notifications(ctx)
		if err != nil || len(bobs) != 1 || bobs[0].PII != st.ID || bobs[0].Event != "stored" || bobs[0].Principal != "alice@example.org" {
			t.Errorf("bob's inbox: %v %+v", err, bobs)
		}
	})

	t.Run("delete", func(t *testing.T) {
		err := bob.Delete(ctx, st.ID)
		wantStatus(t, "bob deletes", err, 403, client.ErrForbidden)
		if err := alice.Delete(ctx, st.ID); err != nil {
			t.Fatal(err)
		}
		_, _, err = read(t, bob, st.ID, purposeService)
		wantStatus(t, "read after delete", err, 404, client.ErrNotFound)
		_, _, err = read(t, alice, st.ID, "")
		wantStatus(t, "owner reads after delete", err, 404, client.ErrNotFound)
		evs, err := alice.Events(ctx, st.ID)
		if err != nil || len(evs) == 0 || evs[len(evs)-1].Type != "deleted" {
			t.Fatalf("events after delete: %v %+v", err, evs)
		}
		err = alice.Delete(ctx, st.ID)
		wantStatus(t, "second delete", err, 404, client.ErrNotFound)
	})
}

func TestStoreRefusals(t *testing.T) {
	ctx := context.Background()
	srv := clienttest.Start(t)
	alice, bob := as(t, srv, "alice"), as(t, srv, "bob")
	t.Run("invalid policy", func(t *testing.T) {
		_, err := alice.Store(ctx, client.StoreRequest{Data: strings.NewReader("x"), Policy: testdata(t, "policy-invalid.xml")})
		ce := wantStatus(t, "invalid policy", err, 400, client.ErrBadRequest)
		if len(ce.Problems) == 0 {
			t.Errorf("no problems named: %s", ce.Body)
		}
	})
	t.Run("not XML", func(t *testing.T) {
		_, err := alice.Store(ctx, client.StoreRequest{Data: strings.NewReader("x"), Policy: []byte("not xml at all")})
		wantStatus(t, "not XML", err, 400, client.ErrBadRequest)
	})
	t.Run("controller without subject", func(t *testing.T) {
		_, err := bob.Store(ctx, client.StoreRequest{Data: strings.NewReader("x"), Policy: testdata(t, "controller-policy.xml")})
		var ce *client.Error
		if !errors.As(err, &ce) || ce.Status < 400 || ce.Status >= 500 {
			t.Fatalf("bob stores without naming a subject: %v", err)
		}
	})
	t.Run("controller flow", func(t *testing.T) {
		if _, err := alice.SetPreferences(ctx, testdata(t, "preferences.xml")); err != nil {
			t.Fatalf("preferences: %v", err)
		}
		prefs, err := alice.Preferences(ctx)
		if err != nil || !bytes.Contains(prefs, []byte(purposeService)) {
			t.Fatalf("reading preferences back: %v %s", err, prefs)
		}
		_, err = bob.Store(ctx, client.StoreRequest{Data: strings.NewReader("x"), Policy: testdata(t, "controller-policy-marketing.xml"), Subject: "alice@example.org"})
		ce := wantStatus(t, "mismatching policy", err, 409, client.ErrConflict)
		if len(ce.Mismatches) == 0 {
			t.Errorf("409 without mismatches: %s", ce.Body)
		}
		st, err := bob.Store(ctx, client.StoreRequest{Data: strings.NewReader("order 66"), Policy: testdata(t, "controller-policy.xml"), Subject: "alice@example.org"})
		if err != nil || st.Subject != "alice@example.org" {
			t.Fatalf("matching policy: %+v %v", st, err)
		}
		if data, _, err := read(t, bob, st.ID, purposeService); err != nil || data != "order 66" {
			t.Errorf("bob reads what he stored: %q %v", data, err)
		}
		if data, _, err := read(t, alice, st.ID, ""); err != nil || data != "order 66" {
			t.Errorf("alice reads data about her: %q %v", data, err)
		}
	})
}

func TestDisclose(t *testing.T) {
	ctx := context.Background()
	srv := clienttest.Start(t)
	alice, bob, erin, carol := as(t, srv, "alice"), as(t, srv, "bob"), as(t, srv, "erin"), as(t, srv, "carol")
	shared := store(t, alice, "shared", "policy-downstream.xml")
	private := store(t, alice, "private", "policy.xml")

	_, _, err := read(t, erin, shared.ID, purposeService)
	wantStatus(t, "erin before disclosure", err, 403, client.ErrForbidden)
	d, err := bob.Disclose(ctx, shared.ID, "erin@example.org", purposeService)
	if err != nil || d.Recipient != "erin@example.org" || len(d.Raw) == 0 {
		t.Fatalf("disclose to erin: %+v %v", d, err)
	}
	if data, _, err := read(t, erin, shared.ID, purposeService); err != nil || data != "shared" {
		t.Fatalf("erin after disclosure: %q %v", data, err)
	}
	_, err = bob.Disclose(ctx, shared.ID, "carol@example.org", purposeService)
	wantStatus(t, "disclose to carol (not allowed downstream)", err, 403, client.ErrForbidden)
	_, err = bob.Disclose(ctx, private.ID, "erin@example.org", purposeService)
	wantStatus(t, "disclose when downstream usage is forbidden", err, 403, client.ErrForbidden)
	_, err = carol.Disclose(ctx, shared.ID, "erin@example.org", purposeService)
	wantStatus(t, "disclose by a non-holder", err, 403, client.ErrForbidden)
	evs, err := alice.Events(ctx, shared.ID)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range evs {
		if e.Type == "disclosed" && e.Recipient == "erin@example.org" {
			found = true
		}
	}
	if !found {
		t.Errorf("no disclosed event to erin in %+v", evs)
	}
}
