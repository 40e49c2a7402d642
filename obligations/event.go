package obligations

import "time"

// EventType names what happened to a record. The values are the event types
// of the record's event log (CONTRACT.md) plus the ones the obligation
// handler adds.
type EventType string

// The event types the planner understands.
const (
	EventStored           EventType = "stored"
	EventAccessed         EventType = "accessed"
	EventDenied           EventType = "denied"
	EventDisclosed        EventType = "disclosed"
	EventPolicyUpdated    EventType = "policy_updated"
	EventDeleted          EventType = "deleted"
	EventNotified         EventType = "notified"
	EventSubjectAccess    EventType = "subject_access"
	EventObligationFailed EventType = "obligation_failed"
	// EventLogged is written by an ActionLog or ActionSecureLog obligation:
	// a log line the policy asked for on top of the event that triggered it.
	EventLogged EventType = "logged"
	// EventAnonymised is written when an ActionAnonymizePersonalData
	// obligation replaced the data by its anonymised form.
	EventAnonymised EventType = "anonymised"
)

// Event is one thing that happened to one record, as the obligation handler
// sees it. The PEP builds it in the transaction that writes the event to the
// log and hands it to Plan.
type Event struct {
	Type EventType
	// PII is the record id.
	PII string
	// Owner is the record's data subject (its identity).
	Owner string
	// Principal is who acted (its identity); empty for the system.
	Principal string
	// Purpose is the declared purpose IRI, when one was declared.
	Purpose string
	// Recipient is the downstream recipient of a disclosure.
	Recipient string
	// Time is when the event happened.
	Time time.Time
	// StoredAt is when the record was stored (the StartNow of time
	// triggers). Zero means Time.
	StoredAt time.Time
	// Seq is the event's sequence number in the record's log when known;
	// it makes the ids of the jobs planned from two otherwise identical
	// events differ.
	Seq int64
	// Reason says why, for obligation_failed events (no data in it).
	Reason string
	// Delegates are the identities the record's XACML rules name as
	// subject-id (see Delegates); at EventStored (and, for the delegates a
	// new policy adds, at EventPolicyUpdated) each one is told, in its
	// inbox, that it was given access. Optional.
	Delegates []string
}

func (ev Event) storedAt() time.Time {
	if ev.StoredAt.IsZero() {
		return ev.Time
	}
	return ev.StoredAt
}
