package obligations_test

import (
	"fmt"
	"time"

	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/policies"
)

// ExamplePlan plans the jobs of alice's policy: at storage, the retention
// deletion due 30 days later; at bob's use, a notification to her inbox.
func ExamplePlan() {
	thirtyDays, oneMinute := policies.Duration{Days: 30}, policies.Duration{Clock: time.Minute}
	terms := &policies.DataHandling{Obligations: []policies.Obligation{
		{Triggers: []policies.Trigger{{Kind: policies.TriggerAtTime, Start: &policies.Start{Now: true}, MaxDelay: &thirtyDays}},
			Action: policies.Action{Kind: policies.ActionDeletePersonalData}},
		{Triggers: []policies.Trigger{{Kind: policies.TriggerPersonalDataAccessedForPurpose, MaxDelay: &oneMinute}},
			Action: policies.Action{Kind: policies.ActionNotifyDataSubject, Media: "inbox", Address: "alice@example.org"}},
	}}
	stored := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for _, ev := range []obligations.Event{
		{Type: obligations.EventStored, PII: "r1", Owner: "alice@example.org", Principal: "alice@example.org", Time: stored},
		{Type: obligations.EventAccessed, PII: "r1", Owner: "alice@example.org", Principal: "bob@example.org",
			Purpose: "https://w3id.org/dpv#ServiceProvision", Time: stored.Add(time.Hour), StoredAt: stored},
	} {
		for _, j := range obligations.Plan(terms, ev) {
			fmt.Printf("%s: %s %s due %s, deadline %s\n", ev.Type, j.Action, j.Media, j.Due.Format(time.RFC3339), j.Deadline.Format(time.RFC3339))
			if j.Media == obligations.MediaInbox {
				fmt.Println(obligations.Text(j))
			}
		}
	}
	// Output:
	// stored: ActionDeletePersonalData  due 2026-12-23T09:00:00Z, deadline 2026-12-23T09:00:00Z
	// accessed: ActionNotifyDataSubject inbox due 2026-11-23T10:00:00Z, deadline 2026-11-23T10:01:00Z
	// bob@example.org used record r1 for purpose https://w3id.org/dpv#ServiceProvision at 2026-11-23T10:00:00Z.
}
