package policies

import (
	"os"
	"strings"
	"testing"
	"time"
)

func dur(s string) *Duration {
	d := MustParseDuration(s)
	return &d
}

func deleteAfter(delay string) Obligation {
	return Obligation{Triggers: []Trigger{{Kind: TriggerAtTime, Start: &Start{Now: true}, MaxDelay: dur(delay)}},
		Action: Action{Kind: ActionDeletePersonalData}}
}

func deleteAt(at string, delay string) Obligation {
	return Obligation{Triggers: []Trigger{{Kind: TriggerAtTime, Start: &Start{At: date(at)}, MaxDelay: dur(delay)}},
		Action: Action{Kind: ActionDeletePersonalData}}
}

func notifyOn(tr Trigger, media, addr string) Obligation {
	return Obligation{Triggers: []Trigger{tr}, Action: Action{Kind: ActionNotifyDataSubject, Media: media, Address: addr}}
}

func accessed(delay string, purposes ...string) Trigger {
	return Trigger{Kind: TriggerPersonalDataAccessedForPurpose, MaxDelay: dur(delay), Purposes: purposes}
}

func sent(delay, id string) Trigger {
	return Trigger{Kind: TriggerPersonalDataSent, MaxDelay: dur(delay), ID: id}
}

func dh(purposes []string, down *Downstream, obs ...Obligation) *DataHandling {
	return &DataHandling{Authorizations: Authorizations{Purposes: purposes, Downstream: down}, Obligations: obs}
}

func purposes(names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		if strings.Contains(n, ":") {
			out[i] = n
		} else {
			out[i] = DPVPrefix + n
		}
	}
	return out
}

var (
	allowDown = &Downstream{Allowed: true}
	denyDown  = &Downstream{Allowed: false}
)

func TestMatch(t *testing.T) {
	tests := []struct {
		name     string
		prefs    *DataHandling
		policy   *DataHandling
		opts     []MatchOption
		elements []string // mismatch elements, in order; nil = match
		values   [][2]string
	}{
		{name: "same purpose", prefs: dh(purposes("ServiceProvision"), nil), policy: dh(purposes("ServiceProvision"), nil)},
		{name: "narrower purpose via taxonomy", prefs: dh(purposes("Marketing"), nil), policy: dh(purposes("TargetedAdvertising"), nil)},
		{name: "second parent in taxonomy", prefs: dh(purposes("Personalisation"), nil), policy: dh(purposes("PersonalisedAdvertising"), nil)},
		{name: "any purpose", prefs: dh([]string{PurposeAny}, nil), policy: dh(purposes("Marketing", "ResearchAndDevelopment"), nil)},
		{name: "broader purpose refused", prefs: dh(purposes("Advertising"), nil), policy: dh(purposes("Marketing"), nil),
			elements: []string{"ppl:Purpose"}, values: [][2]string{{DPVPrefix + "Advertising", DPVPrefix + "Marketing"}}},
		{name: "one of two purposes refused", prefs: dh(purposes("ServiceProvision"), nil), policy: dh(purposes("ServiceProvision", "Marketing"), nil),
			elements: []string{"ppl:Purpose"}, values: [][2]string{{DPVPrefix + "ServiceProvision", DPVPrefix + "Marketing"}}},
		{name: "unknown purpose only matches itself", prefs: dh([]string{"https://x.example/p"}, nil), policy: dh([]string{"https://x.example/p/child"}, nil),
			elements: []string{"ppl:Purpose"}},
		{name: "no purposes allowed", prefs: dh(nil, nil), policy: dh(purposes("ServiceProvision"), nil),
			elements: []string{"ppl:Purpose"}, values: [][2]string{{"none", DPVPrefix + "ServiceProvision"}}},
		{name: "downstream allowed by both", prefs: dh(nil, allowDown), policy: dh(nil, allowDown)},
		{name: "downstream not asked", prefs: dh(nil, denyDown), policy: dh(nil, denyDown)},
		{name: "downstream refused", prefs: dh(nil, denyDown), policy: dh(nil, allowDown),
			elements: []string{"ppl:AuthzDownstreamUsage"}, values: [][2]string{{"allowed=false", "allowed=true"}}},
		{name: "downstream refused when absent", prefs: dh(nil, nil), policy: dh(nil, allowDown),
			elements: []string{"ppl:AuthzDownstreamUsage"}},
		{name: "deletion sooner is fine", prefs: dh(nil, nil, deleteAfter("P30D")), policy: dh(nil, nil, deleteAfter("P7D"))},
		{name: "deletion equal", prefs: dh(nil, nil, deleteAfter("P30D")), policy: dh(nil, nil, deleteAfter("PT720H"))},
		{name: "deletion later refused", prefs: dh(nil, nil, deleteAfter("P30D")), policy: dh(nil, nil, deleteAfter("P90D")),
			elements: []string{"ob:MaxDelay"}, values: [][2]string{{"storage + P30D", "storage + P90D"}}},
		{name: "deletion missing", prefs: dh(nil, nil, deleteAfter("P30D")), policy: dh(nil, nil),
			elements: []string{"ob:ActionDeletePersonalData"}},
		{name: "P1M vs P30D without storage time", prefs: dh(nil, nil, deleteAfter("P30D")), policy: dh(nil, nil, deleteAfter("P1M")),
			elements: []string{"ob:MaxDelay"}},
		{name: "P1M vs P30D stored in February", prefs: dh(nil, nil, deleteAfter("P30D")), policy: dh(nil, nil, deleteAfter("P1M")),
			opts: []MatchOption{MatchAt(date("2026-02-01T00:00:00Z"))}},
		{name: "P1M vs P30D stored in March", prefs: dh(nil, nil, deleteAfter("P30D")), policy: dh(nil, nil, deleteAfter("P1M")),
			opts: []MatchOption{MatchAt(date("2026-03-01T00:00:00Z"))}, elements: []string{"ob:MaxDelay"}},
		{name: "PT9S vs PT10S is not string order", prefs: dh(nil, nil, notifyOn(accessed("PT10S"), MediaInbox, "alice")),
			policy: dh(nil, nil, notifyOn(accessed("PT9S"), MediaInbox, "alice"))},
		{name: "fixed deadline earlier", prefs: dh(nil, nil, deleteAt("2027-01-01T00:00:00Z", "P1D")),
			policy: dh(nil, nil, deleteAt("2026-12-01T00:00:00Z", "P1M"))},
		{name: "fixed deadline later", prefs: dh(nil, nil, deleteAt("2027-01-01T00:00:00Z", "P1D")),
			policy: dh(nil, nil, deleteAt("2027-01-01T00:00:00Z", "P2D")), elements: []string{"ob:MaxDelay"},
			values: [][2]string{{"2027-01-02T00:00:00Z", "2027-01-03T00:00:00Z"}}},
		{name: "fixed date vs storage without time", prefs: dh(nil, nil, deleteAt("2027-01-01T00:00:00Z", "PT0S")),
			policy: dh(nil, nil, deleteAfter("P30D")), elements: []string{"ob:Start"}},
		{name: "fixed date vs storage with time", prefs: dh(nil, nil, deleteAt("2027-01-01T00:00:00Z", "PT0S")),
			policy: dh(nil, nil, deleteAfter("P30D")), opts: []MatchOption{MatchAt(date("2026-06-01T00:00:00Z"))}},
		{name: "notification delay longer refused", prefs: dh(nil, nil, notifyOn(accessed("PT1M"), MediaEmail, "alice@example.org")),
			policy:   dh(nil, nil, notifyOn(accessed("PT1H"), MediaEmail, "alice@example.org")),
			elements: []string{"ob:MaxDelay"}, values: [][2]string{{"PT1M", "PT1H"}}},
		{name: "notification to another address", prefs: dh(nil, nil, notifyOn(accessed("PT1M"), MediaEmail, "alice@example.org")),
			policy:   dh(nil, nil, notifyOn(accessed("PT1M"), MediaEmail, "mallory@example.org")),
			elements: []string{"ob:ActionNotifyDataSubject"}},
		{name: "notification by other media", prefs: dh(nil, nil, notifyOn(accessed("PT1M"), MediaEmail, "alice@example.org")),
			policy:   dh(nil, nil, notifyOn(accessed("PT1M"), MediaInbox, "alice@example.org")),
			elements: []string{"ob:ActionNotifyDataSubject"}},
		{name: "notification on every use, policy only some", prefs: dh(nil, nil, notifyOn(accessed("PT1M"), MediaInbox, "alice")),
			policy:   dh(nil, nil, notifyOn(accessed("PT1M", DPVPrefix+"Marketing"), MediaInbox, "alice")),
			elements: []string{"ppl:Purpose"}, values: [][2]string{{"any purpose", DPVPrefix + "Marketing"}}},
		{name: "notification purposes covered by broader", prefs: dh(nil, nil, notifyOn(accessed("PT1M", DPVPrefix+"Advertising"), MediaInbox, "alice")),
			policy: dh(nil, nil, notifyOn(accessed("PT1M", DPVPrefix+"Marketing"), MediaInbox, "alice"))},
		{name: "notification purposes not covered", prefs: dh(nil, nil, notifyOn(accessed("PT1M", DPVPrefix+"Marketing"), MediaInbox, "alice")),
			policy:   dh(nil, nil, notifyOn(accessed("PT1M", DPVPrefix+"Advertising"), MediaInbox, "alice")),
			elements: []string{"ppl:Purpose"}},
		{name: "notification on every use, policy too", prefs: dh(nil, nil, notifyOn(accessed("PT1M", DPVPrefix+"Marketing"), MediaInbox, "alice")),
			policy: dh(nil, nil, notifyOn(accessed("PT30S"), MediaInbox, "alice"))},
		{name: "sent same recipient", prefs: dh(nil, nil, notifyOn(sent("PT1M", "carrier"), MediaInbox, "alice")),
			policy: dh(nil, nil, notifyOn(sent("PT1M", "carrier"), MediaInbox, "alice"))},
		{name: "sent any recipient is stricter", prefs: dh(nil, nil, notifyOn(sent("PT1M", "carrier"), MediaInbox, "alice")),
			policy: dh(nil, nil, notifyOn(sent("PT1M", ""), MediaInbox, "alice"))},
		{name: "sent other recipient", prefs: dh(nil, nil, notifyOn(sent("PT1M", "carrier"), MediaInbox, "alice")),
			policy:   dh(nil, nil, notifyOn(sent("PT1M", "broker"), MediaInbox, "alice")),
			elements: []string{"ob:Id"}, values: [][2]string{{"carrier", "broker"}}},
		{name: "wrong trigger kind", prefs: dh(nil, nil, notifyOn(sent("PT1M", ""), MediaInbox, "alice")),
			policy:   dh(nil, nil, notifyOn(accessed("PT1M"), MediaInbox, "alice")),
			elements: []string{"ob:TriggerPersonalDataSent"}},
		{name: "second candidate meets", prefs: dh(nil, nil, deleteAfter("P30D")),
			policy: dh(nil, nil, deleteAfter("P90D"), deleteAfter("P10D"))},
		{name: "periodic more often", prefs: dh(nil, nil, Obligation{Action: Action{Kind: ActionLog}, Triggers: []Trigger{{Kind: TriggerPeriodic,
			Start: &Start{Now: true}, Period: dur("P7D"), MaxDelay: dur("P1D")}}}),
			policy: dh(nil, nil, Obligation{Action: Action{Kind: ActionLog}, Triggers: []Trigger{{Kind: TriggerPeriodic,
				Start: &Start{Now: true}, Period: dur("P1D"), MaxDelay: dur("PT1H")}}})},
		{name: "periodic less often", prefs: dh(nil, nil, Obligation{Action: Action{Kind: ActionLog}, Triggers: []Trigger{{Kind: TriggerPeriodic,
			Start: &Start{Now: true}, Period: dur("P7D")}}}),
			policy: dh(nil, nil, Obligation{Action: Action{Kind: ActionLog}, Triggers: []Trigger{{Kind: TriggerPeriodic,
				Start: &Start{Now: true}, Period: dur("P1M"), End: &Start{At: date("2030-01-01T00:00:00Z")}}}}),
			elements: []string{"ob:End", "ob:Period"}, values: [][2]string{{"none", "2030-01-01T00:00:00Z"}, {"P7D", "P1M"}}},
		{name: "several mismatches at once", prefs: dh(purposes("ServiceProvision"), denyDown, deleteAfter("P30D")),
			policy:   dh(purposes("Marketing"), allowDown, deleteAfter("P1Y")),
			elements: []string{"ppl:Purpose", "ppl:AuthzDownstreamUsage", "ob:MaxDelay"}},
		{name: "no policy", prefs: dh(nil, nil), policy: nil, elements: []string{"ppl:DataHandlingPolicy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Match(tt.prefs, tt.policy, DefaultTaxonomy(), tt.opts...)
			var got []string
			for _, m := range res.Mismatches {
				got = append(got, m.Element)
				if m.Message == "" || m.Preference == "" || m.Policy == "" {
					t.Errorf("mismatch lacks a value or message: %+v", m)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.elements, ",") {
				t.Fatalf("mismatches = %v, want %v\n%+v", got, tt.elements, res.Mismatches)
			}
			for i, v := range tt.values {
				if m := res.Mismatches[i]; m.Preference != v[0] || m.Policy != v[1] {
					t.Errorf("mismatch %d values = (%q, %q), want (%q, %q)", i, m.Preference, m.Policy, v[0], v[1])
				}
			}
			if tt.elements == nil {
				if !res.OK() {
					t.Fatal("no sticky policy")
				}
				if res.Sticky == tt.policy {
					t.Error("sticky policy aliases the input")
				}
				if len(res.Sticky.Obligations) != len(tt.policy.Obligations) ||
					strings.Join(res.Sticky.Authorizations.Purposes, ",") != strings.Join(tt.policy.Authorizations.Purposes, ",") {
					t.Errorf("sticky terms differ from the policy's: %+v", res.Sticky)
				}
			} else if res.Sticky != nil {
				t.Error("a mismatch yielded a sticky policy")
			}
		})
	}
}

func TestMatchDownstreamTerms(t *testing.T) {
	nestedPrefs := &Document{}
	nestedPol := &Document{}
	res := Match(dh(nil, &Downstream{Allowed: true, Policy: nestedPrefs}), dh(nil, &Downstream{Allowed: true, Policy: nestedPol}), nil)
	if !res.OK() || res.Sticky.Authorizations.Downstream.Policy != nestedPrefs {
		t.Errorf("the preferences' downstream policy should win: %+v", res)
	}
	res = Match(dh(nil, &Downstream{Allowed: true}), dh(nil, &Downstream{Allowed: true, Policy: nestedPol}), nil)
	if !res.OK() || res.Sticky.Authorizations.Downstream.Policy != nestedPol {
		t.Errorf("the policy's downstream policy should be kept: %+v", res)
	}
	res = Match(dh(nil, &Downstream{Allowed: true}), dh(nil, &Downstream{Allowed: false, Policy: nestedPol}), nil)
	if !res.OK() || res.Sticky.Authorizations.Downstream.Allowed || res.Sticky.Authorizations.Downstream.Policy != nil {
		t.Errorf("not asked, not allowed: %+v", res.Sticky.Authorizations.Downstream)
	}
}

func TestMatchExampleFiles(t *testing.T) {
	data, err := os.ReadFile("testdata/preferences.xml")
	if err != nil {
		t.Fatal(err)
	}
	prefs, err := ParsePreferences(data)
	if err != nil {
		t.Fatal(err)
	}
	doc := mustParse(t, "controller-policy.xml")
	res := Match(prefs, &doc.DataHandlingPolicies[0], DefaultTaxonomy(), MatchAt(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)))
	if !res.OK() {
		t.Fatalf("the shop's policy should satisfy Alice's preferences: %+v", res.Mismatches)
	}
	// The agreed terms marshal as the document's sticky policy.
	doc.Sticky = res.Sticky
	out, err := doc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(out)
	if err != nil || back.Terms() == nil || back.Sticky == nil || back.Terms().PolicyID != "shop-dhp-1" {
		t.Fatalf("sticky policy did not survive marshalling: %v", err)
	}
}
