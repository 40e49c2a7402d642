package compliance

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stickypolicy/sticky/internal/audit"
)

const (
	alice   = "alice@example.org" // the data subject
	bob     = "bob@example.org"   // the delegate the policies permit
	carol   = "carol@example.org" // nobody the policies name
	erin    = "erin@example.org"  // the permitted downstream recipient
	mallory = "mallory@example.org"

	service   = "https://w3id.org/dpv#ServiceProvision"
	marketing = "https://w3id.org/dpv#Marketing"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func day(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// logBuilder writes a record's log the way the server does: pseudonyms
// under alice's key, sealed entries, the policies embedded by hash.
type logBuilder struct {
	t        testing.TB
	key      []byte
	entries  []audit.Entry
	idents   map[string]string
	policies []audit.PolicyRef
	hash     string
}

func readPolicy(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// newLog starts a log with alice storing the record at t0 under policy file.
func newLog(t testing.TB, file string) *logBuilder {
	b := &logBuilder{t: t, key: []byte("alice's subject key"), idents: map[string]string{}}
	b.usePolicy(file, 0)
	b.add(0, audit.TypeStored, alice, "", "", "Permit", "")
	return b
}

func (b *logBuilder) usePolicy(file string, at time.Duration) {
	xml := readPolicy(b.t, file)
	b.hash = audit.PolicyHash(xml)
	b.policies = append(b.policies, audit.PolicyRef{Hash: b.hash, Version: int64(len(b.policies) + 1), Since: t0.Add(at), XML: string(xml)})
}

func (b *logBuilder) ps(identity string) string {
	p := audit.Pseudonym(b.key, identity)
	if p != "" {
		b.idents[p] = identity
	}
	return p
}

// add appends an entry at t0+at.
func (b *logBuilder) add(at time.Duration, typ, principal, purpose, recipient, decision, reason string) *logBuilder {
	prev := ""
	if n := len(b.entries); n > 0 {
		prev = b.entries[n-1].Hash
	}
	b.entries = append(b.entries, audit.Seal(prev, audit.Entry{
		PII: "rec-1", Seq: int64(len(b.entries) + 1), Time: t0.Add(at), Type: typ, Principal: b.ps(principal),
		Purpose: purpose, Recipient: b.ps(recipient), Decision: decision, Reason: reason, PolicyHash: b.hash,
	}))
	return b
}

func (b *logBuilder) read(at time.Duration, who, purpose string) *logBuilder {
	return b.add(at, audit.TypeAccessed, who, purpose, "", "Permit", "")
}

// notified is the inbox notification obligation-2 sends about an access.
func (b *logBuilder) notified(at time.Duration, purpose string) *logBuilder {
	return b.add(at, audit.TypeNotified, "", purpose, alice, "", "obligation-2 by inbox about accessed")
}

func (b *logBuilder) deleted(at time.Duration) *logBuilder {
	return b.add(at, audit.TypeDeleted, alice, "", "", "Permit", "")
}

func (b *logBuilder) updatePolicy(at time.Duration, file string) *logBuilder {
	b.usePolicy(file, at)
	return b.add(at, audit.TypePolicyUpdated, alice, "", "", "Permit", "")
}

func (b *logBuilder) log(identities bool) *audit.Log {
	h := audit.Header{PII: "rec-1", Subject: audit.Pseudonym(b.key, alice), Policies: b.policies, Policy: b.hash}
	if identities {
		h.Identities = b.idents
	}
	l := audit.NewLog(h, b.entries)
	if err := l.Verify(); err != nil {
		b.t.Fatalf("test log does not verify: %v", err)
	}
	return l
}

func check(t testing.TB, l *audit.Log, at time.Time) Report {
	t.Helper()
	pols, err := LogPolicies(l, nil)
	if err != nil {
		t.Fatal(err)
	}
	return NewChecker().Check(Input{Log: l, Policies: pols, At: at})
}

type want struct {
	rule Rule
	seq  int64
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name  string
		build func(t testing.TB) *logBuilder
		at    time.Duration
		want  []want
	}{
		{"compliant life", func(t testing.TB) *logBuilder {
			return newLog(t, "basic.xml").
				read(time.Hour, bob, service).notified(time.Hour+10*time.Second, service).
				add(2*time.Hour, audit.TypeDenied, carol, service, "", "Deny", "not permitted").
				add(3*time.Hour, audit.TypeSubjectAccess, alice, "", "", "Permit", "").
				deleted(day(29))
		}, day(40), nil},
		{"notification not yet due", func(t testing.TB) *logBuilder {
			return newLog(t, "basic.xml").read(time.Hour, bob, service)
		}, time.Hour + 30*time.Second, nil},
		{"purpose not allowed", func(t testing.TB) *logBuilder {
			return newLog(t, "basic.xml").read(time.Hour, bob, marketing).notified(time.Hour+time.Second, marketing)
		}, day(1), []want{{RulePurpose, 2}}},
		{"no purpose declared", func(t testing.TB) *logBuilder {
			return newLog(t, "basic.xml").read(time.Hour, bob, "").notified(time.Hour+time.Second, "")
		}, day(1), []want{{RulePurpose, 2}}},
		{"principal not permitted", func(t testing.TB) *logBuilder {
			return newLog(t, "basic.xml").read(time.Hour, carol, service).notified(time.Hour+time.Second, service)
		}, day(1), []want{{RulePrincipal, 2}}},
		{"principal not permitted for a purpose not allowed", func(t testing.TB) *logBuilder {
			return newLog(t, "basic.xml").read(time.Hour, carol, marketing).notified(time.Hour+time.Second, marketing)
		}, day(1), []want{{RulePrincipal, 2}, {RulePurpose, 2}}},
		{"use after delete", func(t testing.TB) *logBuilder {
			return newLog(t, "basic.xml").deleted(day(1)).read(day(2), bob, service).notified(day(2)+time.Second, service)
		}, day(3), []want{{RuleUseAfterDeletion, 3}}},
		{"use after deadline and deletion missing", func(t testing.TB) *logBuilder {
			return newLog(t, "basic.xml").read(day(31), bob, service).notified(day(31)+time.Second, service)
		}, day(32), []want{{RuleDeletionMissing, 1}, {RuleUseAfterDeadline, 2}}},
		{"deletion late", func(t testing.TB) *logBuilder {
			return newLog(t, "basic.xml").deleted(day(30) + time.Hour)
		}, day(40), []want{{RuleDeletionLate, 2}}},
		{"deletion on time within the grace", func(t testing.TB) *logBuilder {
			return newLog(t, "basic.xml").deleted(day(30) + time.Second)
		}, day(40), nil},
		{"deletion missing", func(t testing.TB) *logBuilder {
			return newLog(t, "basic.xml")
		}, day(31), []want{{RuleDeletionMissing, 1}}},
		{"deletion not yet due", func(t testing.TB) *logBuilder {
			return newLog(t, "basic.xml")
		}, day(29), nil},
		{"deleted, restored, deleted again", func(t testing.TB) *logBuilder {
			return newLog(t, "basic.xml").deleted(day(1)).add(day(2), audit.TypeRestored, alice, "", "", "Permit", "").
				read(day(3), bob, service).notified(day(3)+time.Second, service).deleted(day(4)).
				add(day(5), audit.TypeErased, "", "", "", "", "restore window ended")
		}, day(40), nil},
		{"erased without a deletion", func(t testing.TB) *logBuilder {
			return newLog(t, "basic.xml").add(day(1), audit.TypeErased, "", "", "", "", "").read(day(2), bob, service).notified(day(2)+time.Second, service)
		}, day(3), []want{{RuleUseAfterDeletion, 3}}},
		{"double delete", func(t testing.TB) *logBuilder {
			return newLog(t, "basic.xml").deleted(day(1)).deleted(day(2))
		}, day(3), []want{{RuleDoubleDelete, 3}}},
		{"notification missing", func(t testing.TB) *logBuilder {
			return newLog(t, "basic.xml").read(time.Hour, bob, service)
		}, day(1), []want{{RuleNotificationMissing, 2}}},
		{"one notification for two reads", func(t testing.TB) *logBuilder {
			return newLog(t, "basic.xml").read(time.Hour, bob, service).read(2*time.Hour, bob, service).notified(2*time.Hour+time.Second, service)
		}, day(1), []want{{RuleNotificationMissing, 2}}},
		{"notifications naming their trigger", func(t testing.TB) *logBuilder {
			return newLog(t, "basic.xml").read(time.Hour, bob, service).read(time.Hour+time.Second, bob, service).
				add(time.Hour+2*time.Second, audit.TypeNotified, "", service, alice, "", "obligation-2 by inbox about accessed ("+audit.TriggerRef(3)+")").
				add(time.Hour+3*time.Second, audit.TypeNotified, "", service, alice, "", "obligation-2 by inbox about accessed ("+audit.TriggerRef(3)+")")
		}, day(1), []want{{RuleNotificationMissing, 2}}},
		{"notification late", func(t testing.TB) *logBuilder {
			return newLog(t, "basic.xml").read(time.Hour, bob, service).notified(time.Hour+5*time.Minute, service)
		}, day(1), []want{{RuleNotificationLate, 3}}},
		{"notification failed", func(t testing.TB) *logBuilder {
			return newLog(t, "basic.xml").read(time.Hour, bob, service).
				add(time.Hour+20*time.Second, audit.TypeObligationFail, "", service, alice, "", "obligation-2 (notify by inbox) failed after 5 tries: boom")
		}, day(1), []want{{RuleNotificationMissing, 2}}},
		{"periodic notifications on time", func(t testing.TB) *logBuilder {
			b := newLog(t, "periodic.xml")
			for h := 0; h <= 2; h++ {
				b.add(time.Duration(h)*time.Hour+time.Second, audit.TypeNotified, "", "", alice, "", "hourly-report by inbox about stored")
			}
			return b
		}, 2*time.Hour + 30*time.Minute, nil},
		{"periodic notification missing", func(t testing.TB) *logBuilder {
			b := newLog(t, "periodic.xml")
			for _, h := range []int{0, 2} {
				b.add(time.Duration(h)*time.Hour+time.Second, audit.TypeNotified, "", "", alice, "", "hourly-report by inbox about stored")
			}
			return b
		}, 2*time.Hour + 30*time.Minute, []want{{RuleNotificationMissing, 1}}},
		{"periodic notifications stop with the deletion", func(t testing.TB) *logBuilder {
			return newLog(t, "periodic.xml").
				add(time.Second, audit.TypeNotified, "", "", alice, "", "hourly-report by inbox about stored").deleted(30 * time.Minute)
		}, day(2), nil},
		{"disclosure forbidden", func(t testing.TB) *logBuilder {
			return newLog(t, "basic.xml").add(time.Hour, audit.TypeDisclosed, bob, service, erin, "Permit", "")
		}, day(1), []want{{RuleDisclosureForbidden, 2}}},
		{"disclosure to a permitted recipient", func(t testing.TB) *logBuilder {
			return newLog(t, "shared.xml").add(time.Hour, audit.TypeDisclosed, bob, service, erin, "Permit", "").
				read(70*time.Minute, erin, service).notified(70*time.Minute+time.Second, service).deleted(90 * time.Minute)
		}, day(1), nil},
		{"read by a recipient after deletion", func(t testing.TB) *logBuilder {
			return newLog(t, "shared.xml").add(time.Hour, audit.TypeDisclosed, bob, service, erin, "Permit", "").
				deleted(90*time.Minute).read(2*time.Hour, erin, service).notified(2*time.Hour+time.Second, service)
		}, day(1), []want{{RuleUseAfterDeletion, 4}}},
		{"disclosure to a non-permitted recipient", func(t testing.TB) *logBuilder {
			return newLog(t, "shared.xml").add(time.Hour, audit.TypeDisclosed, bob, service, mallory, "Permit", "").deleted(90 * time.Minute)
		}, day(1), []want{{RuleRecipientNotPermitted, 2}}},
		{"disclosure without a purpose", func(t testing.TB) *logBuilder {
			return newLog(t, "shared.xml").add(time.Hour, audit.TypeDisclosed, bob, "", erin, "Permit", "").deleted(90 * time.Minute)
		}, day(1), []want{{RulePurpose, 2}}},
		{"disclosure for a purpose not allowed", func(t testing.TB) *logBuilder {
			return newLog(t, "shared.xml").add(time.Hour, audit.TypeDisclosed, bob, marketing, erin, "Permit", "").deleted(90 * time.Minute)
		}, day(1), []want{{RulePurpose, 2}}},
		{"disclosure by someone not permitted", func(t testing.TB) *logBuilder {
			return newLog(t, "shared.xml").add(time.Hour, audit.TypeDisclosed, carol, service, erin, "Permit", "").deleted(90 * time.Minute)
		}, day(1), []want{{RulePrincipal, 2}}},
		{"disclosure passed on by a recipient", func(t testing.TB) *logBuilder {
			return newLog(t, "shared.xml").add(time.Hour, audit.TypeDisclosed, bob, service, erin, "Permit", "").
				add(time.Hour+time.Minute, audit.TypeDisclosed, erin, service, erin, "Permit", "").deleted(90 * time.Minute)
		}, day(1), nil},
		{"send then delete fulfilled", func(t testing.TB) *logBuilder {
			return newLog(t, "shared.xml").add(time.Hour, audit.TypeDisclosed, bob, service, erin, "Permit", "").deleted(90 * time.Minute)
		}, day(1), nil},
		{"send then delete unfulfilled", func(t testing.TB) *logBuilder {
			return newLog(t, "shared.xml").add(time.Hour, audit.TypeDisclosed, bob, service, erin, "Permit", "")
		}, 3 * time.Hour, []want{{RuleSentObligation, 2}}},
		{"send then delete late", func(t testing.TB) *logBuilder {
			return newLog(t, "shared.xml").add(time.Hour, audit.TypeDisclosed, bob, service, erin, "Permit", "").deleted(3 * time.Hour)
		}, day(1), []want{{RuleSentObligation, 3}}},
		{"policy update allows a new purpose", func(t testing.TB) *logBuilder {
			return newLog(t, "basic.xml").updatePolicy(day(1), "marketing.xml").
				read(day(2), bob, marketing).notified(day(2)+time.Second, marketing)
		}, day(3), nil},
		{"use before the policy allowed the purpose", func(t testing.TB) *logBuilder {
			return newLog(t, "basic.xml").read(time.Hour, bob, marketing).notified(time.Hour+time.Second, marketing).
				updatePolicy(day(1), "marketing.xml")
		}, day(3), []want{{RulePurpose, 2}}},
		{"entries after the check time are ignored", func(t testing.TB) *logBuilder {
			return newLog(t, "basic.xml").read(day(2), carol, marketing)
		}, day(1), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := check(t, tc.build(t).log(true), t0.Add(tc.at))
			var got []want
			for _, v := range rep.Violations {
				got = append(got, want{v.Rule, v.Seq})
				if v.Message == "" {
					t.Errorf("violation %s at %d has no message", v.Rule, v.Seq)
				}
			}
			slices.SortFunc(got, func(a, b want) int { return strings.Compare(string(a.rule), string(b.rule)) })
			wantSorted := slices.Clone(tc.want)
			slices.SortFunc(wantSorted, func(a, b want) int { return strings.Compare(string(a.rule), string(b.rule)) })
			if !slices.Equal(got, wantSorted) {
				t.Fatalf("violations = %v, want %v\nreport: %+v", got, wantSorted, rep)
			}
			wantVerdict := Compliant
			if len(tc.want) > 0 {
				wantVerdict = NonCompliant
			}
			if rep.Verdict != wantVerdict {
				t.Errorf("verdict = %s, want %s", rep.Verdict, wantVerdict)
			}
			if rep.PII != "rec-1" || !rep.CheckedAt.Equal(t0.Add(tc.at)) {
				t.Errorf("report header = %q %v", rep.PII, rep.CheckedAt)
			}
		})
	}
}

// TestCheckWithoutIdentities checks that a log with pseudonyms only still
// gets its purpose and time rules checked, and says that principals were not.
func TestCheckWithoutIdentities(t *testing.T) {
	b := newLog(t, "basic.xml").read(time.Hour, carol, marketing).notified(time.Hour+time.Second, marketing)
	rep := check(t, b.log(false), t0.Add(day(1)))
	if len(rep.Violations) != 1 || rep.Violations[0].Rule != RulePurpose {
		t.Fatalf("violations = %+v, want only %s", rep.Violations, RulePurpose)
	}
	if !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.Contains(n, "principals were not checked") }) {
		t.Errorf("notes = %q, want one saying principals were not checked", rep.Notes)
	}
	if strings.Contains(rep.Violations[0].Message, carol) {
		t.Errorf("message %q names an identity the log does not carry", rep.Violations[0].Message)
	}
}

func TestCheckUnknownPolicy(t *testing.T) {
	l := newLog(t, "basic.xml").read(time.Hour, bob, service).deleted(2*time.Hour).read(3*time.Hour, bob, service).log(true)
	rep := NewChecker().Check(Input{Log: l, Policies: map[string]Policy{}, At: t0.Add(day(40))})
	if rep.Verdict != NonCompliant || len(rep.Violations) != 1 || rep.Violations[0].Rule != RuleUseAfterDeletion {
		t.Fatalf("report = %+v, want only %s", rep, RuleUseAfterDeletion)
	}
	if len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "is not available") {
		t.Errorf("notes = %q, want one saying the policy is not available", rep.Notes)
	}
	def, err := ParsePolicy(readPolicy(t, "basic.xml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	l = newLog(t, "basic.xml").read(time.Hour, bob, service).log(true)
	rep = NewChecker().Check(Input{Log: l, Policies: map[string]Policy{}, Default: def, At: t0.Add(time.Hour + time.Second)})
	if rep.Verdict != Compliant || len(rep.Notes) != 0 {
		t.Fatalf("with the default policy: %+v", rep)
	}
}

func TestTampered(t *testing.T) {
	l := newLog(t, "basic.xml").read(time.Hour, bob, service).log(true)
	l.Entries[1].Purpose = marketing
	err := l.Verify()
	rep := Tampered("rec-1", t0, len(l.Entries), err)
	if rep.Verdict != TamperedLog || len(rep.Violations) != 1 || rep.Violations[0].Seq != 2 || rep.Violations[0].Rule != RuleTampered {
		t.Fatalf("report = %+v", rep)
	}
}
