package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/pep"
)

// inbox returns who's notifications as raw JSON objects.
func (e *env) inbox(who string) []map[string]any {
	e.t.Helper()
	r := e.do(http.MethodGet, "/v1/notifications", who, nil, nil)
	wantStatus(e.t, r, http.StatusOK)
	var ns []map[string]any
	r.json(e.t, &ns)
	return ns
}

// withDelegate returns the testdata policy with one more Permit rule naming
// delegate as subject-id.
func withDelegate(t *testing.T, policy []byte, delegate string) []byte {
	t.Helper()
	rule := `<Rule RuleId="more" Effect="Permit"><Target><Subjects><Subject>
      <SubjectMatch MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal">
        <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">` + delegate + `</AttributeValue>
        <SubjectAttributeDesignator DataType="http://www.w3.org/2001/XMLSchema#string"
            AttributeId="urn:oasis:names:tc:xacml:1.0:subject:subject-id"/>
      </SubjectMatch></Subject></Subjects></Target></Rule>
  <ppl:DataHandlingPreferences>`
	out := bytes.Replace(policy, []byte("<ppl:DataHandlingPreferences>"), []byte(rule), 1)
	if bytes.Equal(out, policy) {
		t.Fatal("the testdata policy has no ppl:DataHandlingPreferences")
	}
	return out
}

// TestDelegatesAreNotified: a delegate the policy names (bob) is told in its
// inbox that it was given access when the record is stored; nobody else is
// (carol, the owner); a policy update tells only the delegates it adds; a
// delegate with a registered e-mail address is also told by e-mail.
func TestDelegatesAreNotified(t *testing.T) {
	e := newEnv(t)
	const data = "secret-payload-7731"
	id := e.put("alice", data, "subject-policy.xml")

	t.Run("bob is told", func(t *testing.T) {
		ns := e.inbox("bob")
		if len(ns) != 1 {
			t.Fatalf("bob's inbox = %+v, want one notice", ns)
		}
		n := ns[0]
		if n["pii"] != id || n["event"] != "stored" {
			t.Errorf("notice = %+v, want record %s, event stored", n, id)
		}
		text, _ := n["text"].(string)
		if !strings.Contains(text, id) || !strings.Contains(text, "gave you access") {
			t.Errorf("notice text %q does not say which record he was given access to", text)
		}
		// The notice says who gave access to which record and when; nothing
		// of the data, the policy, its purposes or its other obligations.
		raw, _ := json.Marshal(n)
		for _, leak := range []string{data, "ServiceProvision", "DataHandling", "obligation-"} {
			if strings.Contains(string(raw), leak) {
				t.Errorf("notice carries %q: %s", leak, raw)
			}
		}
		for k := range n {
			switch k {
			case "id", "time", "delivered", "pii", "event", "principal", "purpose", "text":
			default:
				t.Errorf("notice has an unexpected field %q: %s", k, raw)
			}
		}
	})
	t.Run("carol and alice are not", func(t *testing.T) {
		if ns := e.inbox("carol"); len(ns) != 0 {
			t.Errorf("carol's inbox = %+v, want empty", ns)
		}
		if ns := e.inbox("alice"); len(ns) != 0 {
			t.Errorf("alice's inbox = %+v, want empty (the owner is not her own delegate)", ns)
		}
	})
	t.Run("a policy update tells only the new delegate", func(t *testing.T) {
		xml := withDelegate(t, readTestdata(t, "subject-policy.xml"), "carol@example.org")
		wantStatus(t, e.do(http.MethodPut, "/v1/pii/"+id+"/policy", "alice", bytes.NewReader(xml),
			map[string]string{"Content-Type": "application/xml"}), http.StatusOK)
		ns := e.inbox("carol")
		if len(ns) != 1 || ns[0]["pii"] != id || ns[0]["event"] != "policy_updated" {
			t.Errorf("carol's inbox = %+v, want one notice of the update", ns)
		}
		if ns := e.inbox("bob"); len(ns) != 1 {
			t.Errorf("bob's inbox = %+v, want still the one notice (he was named before)", ns)
		}
		// The same policy again names nobody new.
		wantStatus(t, e.do(http.MethodPut, "/v1/pii/"+id+"/policy", "alice", bytes.NewReader(xml),
			map[string]string{"Content-Type": "application/xml"}), http.StatusOK)
		if ns := e.inbox("carol"); len(ns) != 1 {
			t.Errorf("carol's inbox after a second identical update = %+v, want one notice", ns)
		}
	})
	t.Run("not the controller that stored it", func(t *testing.T) {
		// bob stores alice's data under his own policy, which names him: he
		// knows; nobody is told.
		wantStatus(t, e.do(http.MethodPut, "/v1/subjects/me/preferences", "dave", bytes.NewReader(readTestdata(t, "preferences.xml")),
			map[string]string{"Content-Type": "application/xml"}), http.StatusOK)
		before := len(e.inbox("bob"))
		r := e.post("bob", part{name: "data", value: []byte("dave's account")}, part{name: "subject", value: []byte("dave@example.org")},
			part{name: "policy", value: readTestdata(t, "controller-policy.xml")})
		wantStatus(t, r, http.StatusCreated)
		if after := e.inbox("bob"); len(after) != before {
			t.Errorf("bob's inbox after he stored dave's data = %+v, want no new notice", after)
		}
	})
	t.Run("by e-mail when registered", func(t *testing.T) {
		ctx := context.Background()
		_, hash, err := pep.NewToken(strings.NewReader(strings.Repeat("frank", 8)))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.st.AddPrincipal(ctx, pep.Principal{Name: "frank@example.org", Role: pep.RoleController,
			Email: "frank.mail@example.net"}, hash); err != nil {
			t.Fatal(err)
		}
		xml := withDelegate(t, readTestdata(t, "subject-policy.xml"), "frank@example.org")
		r := e.post("alice", part{name: "data", contentType: "text/plain", value: []byte("x")}, part{name: "policy", value: xml})
		wantStatus(t, r, http.StatusCreated)
		var c struct{ ID string }
		r.json(t, &c)
		jobs, err := e.st.Jobs(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		media := map[string]string{}
		for _, j := range jobs {
			if j.ObligationID == "sticky:delegate-notice" {
				media[j.Address] = j.Media
			}
		}
		// Inbox notices are delivered in the store's own transaction: they
		// are in the inboxes, not in the jobs table.
		for _, who := range []string{"bob@example.org", "frank@example.org"} {
			ns, err := e.st.Notifications(ctx, who)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range ns {
				if n.PII == c.ID {
					media[who] = "inbox"
				}
			}
		}
		// bob (no address) by inbox; frank by inbox and by e-mail to his
		// registered address.
		want := map[string]string{"bob@example.org": "inbox", "frank@example.org": "inbox", "frank.mail@example.net": "email"}
		if len(media) != len(want) {
			t.Fatalf("delegate notices = %v, want %v", media, want)
		}
		for a, m := range want {
			if media[a] != m {
				t.Errorf("delegate notice to %s by %q, want %q (all: %v)", a, media[a], m, media)
			}
		}
	})
}

// TestDelegateEmailIsDelivered: the obligations runner sends the e-mail
// copy of a delegate's notice to its registered address, once, and logs it.
func TestDelegateEmailIsDelivered(t *testing.T) {
	r := newRightsEnv(t)
	xml := withDelegate(t, r.zoePolicy(), "erin@example.org") // erin registered erin-mail@example.net
	resp := r.post("zoe", part{name: "data", contentType: "text/plain", value: []byte("zoe's data")}, part{name: "policy", value: xml})
	wantStatus(t, resp, http.StatusCreated)
	var c struct{ ID string }
	resp.json(t, &c)
	r.runDue()
	r.runDue() // a second run sends nothing again
	r.mail.mu.Lock()
	sent := append([]obligations.Mail(nil), r.mail.sent...)
	r.mail.mu.Unlock()
	if len(sent) != 1 || sent[0].To != "erin-mail@example.net" || !strings.Contains(sent[0].Body, c.ID) ||
		!strings.Contains(sent[0].Body, "gave you access") || strings.Contains(sent[0].Body, "zoe's data") {
		t.Fatalf("mails = %+v, want one notice to erin-mail@example.net naming record %s", sent, c.ID)
	}
	var byEmail int
	for _, ev := range r.events(c.ID, "zoe") {
		if ev.Type == "notified" && strings.HasPrefix(ev.Reason, "sticky:delegate-notice by email about stored") {
			byEmail++
		}
	}
	if byEmail != 1 {
		t.Errorf("%d notified events for the e-mail notice, want 1", byEmail)
	}
}
