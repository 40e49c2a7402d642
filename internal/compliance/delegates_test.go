package compliance

import (
	"testing"
	"time"

	"github.com/stickypolicy/sticky/internal/audit"
)

// delegateNotice is the "notified" entry the server writes, in the stored
// (or policy_updated) event's own transaction, for the notice that tells a
// delegate the policy names (bob) that it was given access.
func (b *logBuilder) delegateNotice(at time.Duration, to string, triggerSeq int) *logBuilder {
	return b.add(at, audit.TypeNotified, "", "", to, "", "sticky:delegate-notice by inbox about stored ("+audit.TriggerRef(int64(triggerSeq))+")")
}

// TestDelegateNotices: the notices Sticky sends delegates are its own, not
// obligations of the policy: a log with them is compliant, and they never
// stand in for a notification the policy owes.
func TestDelegateNotices(t *testing.T) {
	tests := []struct {
		name string
		log  *logBuilder
		want []Rule
	}{
		{"stored, bob told, bob reads, alice told", newLog(t, "basic.xml").delegateNotice(0, bob, 1).
			read(time.Hour, bob, service).notified(time.Hour+time.Second, service), nil},
		{"the delegate notice is no notification of the use", newLog(t, "basic.xml").delegateNotice(0, bob, 1).
			read(time.Hour, bob, service), []Rule{RuleNotificationMissing}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, ids := range []bool{true, false} {
				rep := check(t, tc.log.log(ids), t0.Add(day(1)))
				var got []Rule
				for _, v := range rep.Violations {
					got = append(got, v.Rule)
				}
				if len(got) != len(tc.want) || (len(got) == 1 && got[0] != tc.want[0]) {
					t.Errorf("identities %v: violations %+v, want %v", ids, rep.Violations, tc.want)
				}
			}
		})
	}
}
