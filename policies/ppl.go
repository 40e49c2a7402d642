package policies

import "time"

// Namespaces used by PPL documents.
const (
	NSPPL        = "http://www.primelife.eu/ppl"
	NSObligation = "http://www.primelife.eu/ppl/obligation"
	NSSticky     = "http://www.primelife.eu/ppl/stickypolicy"
	NSXACML2     = "urn:oasis:names:tc:xacml:2.0:policy:schema:os"
	NSXACML3     = "urn:oasis:names:tc:xacml:3.0:core:schema:wd-17"
	PurposeAny   = "http://www.primelife.eu/purposes/any"
)

// TriggerKind names a PPL obligation trigger.
type TriggerKind string

// The PPL triggers (PPL.md).
const (
	TriggerAtTime                         TriggerKind = "TriggerAtTime"
	TriggerPeriodic                       TriggerKind = "TriggerPeriodic"
	TriggerPersonalDataAccessedForPurpose TriggerKind = "TriggerPersonalDataAccessedForPurpose"
	TriggerPersonalDataSent               TriggerKind = "TriggerPersonalDataSent"
	TriggerPersonalDataDeleted            TriggerKind = "TriggerPersonalDataDeleted"
	TriggerDataSubjectAccess              TriggerKind = "TriggerDataSubjectAccess"
	TriggerOnViolation                    TriggerKind = "TriggerOnViolation"
)

// ActionKind names a PPL obligation action.
type ActionKind string

// The PPL actions (PPL.md).
const (
	ActionDeletePersonalData    ActionKind = "ActionDeletePersonalData"
	ActionAnonymizePersonalData ActionKind = "ActionAnonymizePersonalData"
	ActionNotifyDataSubject     ActionKind = "ActionNotifyDataSubject"
	ActionLog                   ActionKind = "ActionLog"
	ActionSecureLog             ActionKind = "ActionSecureLog"
)

// Duration is an xs:duration: a calendar part (years, months, days) and a
// clock part. Durations compare as real durations by adding them to a
// reference time, never as strings.
type Duration struct {
	Negative bool
	Years    int
	Months   int
	Days     int
	Clock    time.Duration // hours, minutes, seconds (fractions allowed)
}

// Start is when a time trigger starts: the storage time (StartNow) or a fixed
// date and time.
type Start struct {
	Now bool
	At  time.Time // set when Now is false
}

// Trigger is one PPL trigger with the children its kind uses.
type Trigger struct {
	Kind     TriggerKind
	Start    *Start    // TriggerAtTime, TriggerPeriodic
	End      *Start    // TriggerPeriodic
	Period   *Duration // TriggerPeriodic
	MaxDelay *Duration // all but TriggerDataSubjectAccess
	Purposes []string  // TriggerPersonalDataAccessedForPurpose; empty = any purpose
	ID       string    // TriggerPersonalDataSent: the recipient, empty = any
	URL      string    // TriggerDataSubjectAccess
}

// Action is what an obligation performs.
type Action struct {
	Kind    ActionKind
	Media   string // ActionNotifyDataSubject: inbox, email or webhook
	Address string // ActionNotifyDataSubject: identity, email address or URL
}

// Obligation is "when any of these triggers fires, perform this action
// within MaxDelay".
type Obligation struct {
	ID       string // optional ob:Obligation/@ObligationId (or a stable index-based id)
	Triggers []Trigger
	Action   Action
}

// Downstream is AuthzDownstreamUsage: whether the data may be passed on, and
// the nested XACML policy that says to whom (subject-id = the recipient).
type Downstream struct {
	Allowed bool
	Policy  *Document // nil when no nested ppl:Policy is given
}

// Authorizations is ppl:AuthorizationsSet.
type Authorizations struct {
	Purposes   []string    // AuthzUseForPurpose/Purpose IRIs
	Downstream *Downstream // nil when AuthzDownstreamUsage is absent (= not allowed)
}

// DataHandling is the body shared by ppl:DataHandlingPolicy,
// ppl:DataHandlingPreferences and the agreed terms of a ppl:StickyPolicy.
type DataHandling struct {
	PolicyID       string // DataHandlingPolicy/@PolicyId when present
	Authorizations Authorizations
	Obligations    []Obligation
}
