package obligations

import (
	"fmt"
	"time"

	"github.com/stickypolicy/sticky/policies"
)

// ErasureNoticeID is the ObligationID of the notice a downstream recipient
// gets when a record shared with it was erased on its data subject's
// request (pep's forget).
const ErasureNoticeID = "sticky:erasure-notice"

// Text is the sentence a notification carries: who did what with which
// record, when, and for which purpose. It never contains the data itself.
func Text(j Job) string {
	ev := j.Event
	when := ev.Time.UTC().Format(time.RFC3339)
	who := ev.Principal
	if who == "" {
		who = "Sticky"
	}
	purpose := ""
	if ev.Purpose != "" {
		purpose = " for purpose " + ev.Purpose
	}
	if j.ObligationID == DelegateNoticeID {
		switch ev.Type {
		case EventDisclosed:
			return fmt.Sprintf("%s shared record %s of %s with you%s at %s.", who, ev.PII, ev.Owner, purpose, when)
		default:
			return fmt.Sprintf("%s gave you access to record %s at %s.", ownerOr(ev.Owner, who), ev.PII, when)
		}
	}
	if j.ObligationID == ErasureNoticeID { // data-subject rights (pep/forget.go)
		return fmt.Sprintf("Record %s, which was shared with you, was erased at %s at its data subject's request (right to erasure): erase every copy you hold.", ev.PII, when)
	}
	switch j.Trigger {
	case policies.TriggerAtTime, policies.TriggerPeriodic:
		return fmt.Sprintf("Reminder from the policy of record %s (%s), due %s.", ev.PII, j.ObligationID, j.Due.UTC().Format(time.RFC3339))
	}
	switch ev.Type {
	case EventAccessed:
		return fmt.Sprintf("%s used record %s%s at %s.", who, ev.PII, purpose, when)
	case EventSubjectAccess:
		return fmt.Sprintf("%s read its own record %s at %s.", who, ev.PII, when)
	case EventDisclosed:
		return fmt.Sprintf("%s disclosed record %s to %s%s at %s.", who, ev.PII, ev.Recipient, purpose, when)
	case EventDeleted:
		return fmt.Sprintf("Record %s was deleted by %s at %s.", ev.PII, who, when)
	case EventDenied:
		return fmt.Sprintf("%s was refused access to record %s%s at %s.", who, ev.PII, purpose, when)
	}
	return fmt.Sprintf("Event %s on record %s by %s at %s.", ev.Type, ev.PII, who, when)
}

func ownerOr(owner, other string) string {
	if owner != "" {
		return owner
	}
	return other
}
