package pdp

// This file fixes the API the rest of Sticky codes against. The types are
// final; the implementation lives in sticky.go.

import (
	"time"

	"github.com/stickypolicy/sticky/policies"
)

// Decision is an XACML decision.
type Decision uint8

// The four XACML decisions.
const (
	NotApplicable Decision = iota
	Permit
	Deny
	Indeterminate
)

func (d Decision) String() string {
	switch d {
	case Permit:
		return "Permit"
	case Deny:
		return "Deny"
	case Indeterminate:
		return "Indeterminate"
	default:
		return "NotApplicable"
	}
}

// Action names what a principal wants to do with a record.
type Action string

// Actions understood by the sticky decision.
const (
	ActionRead     Action = "read"
	ActionDisclose Action = "disclose"
	ActionUpdate   Action = "update"
	ActionDelete   Action = "delete"
)

// AccessRequest is one use of one record, as the PEP sees it.
type AccessRequest struct {
	Subject   string    // the principal's identity (XACML subject-id)
	Roles     []string  // the principal's roles (subject, controller, admin)
	Owner     bool      // the principal is the record's data subject
	Resource  string    // the record id (XACML resource-id)
	Action    Action    // read, disclose, update, delete
	Purpose   string    // the declared purpose IRI; empty when none was declared
	Recipient string    // ActionDisclose: the downstream recipient
	Time      time.Time // the time of the request (injected clock)
	StoredAt  time.Time // when the record was stored (StartNow of time triggers)
}

// Result is a sticky decision: the decision, the XACML obligations and
// advice that apply, and a sentence a person understands when it is not a
// Permit.
type Result struct {
	Decision    Decision
	Obligations []Obligation
	Reason      string
}

// Obligation is an XACML obligation or advice returned with a decision.
type Obligation struct {
	ID         string
	Advice     bool
	Attributes []AssignedAttribute
}

// AssignedAttribute is one AttributeAssignment of an obligation or advice.
type AssignedAttribute struct {
	ID       string
	Category string
	DataType string
	Value    string
}

// The sticky decision API, implemented in sticky.go:
//
//	func CompileSticky(doc *policies.Document, opts ...StickyOption) (*StickyPolicy, error)
//	func WithTaxonomy(t *policies.Taxonomy) StickyOption
//	func WithEngineOptions(opts ...engine.Option) StickyOption
//	func (p *StickyPolicy) Decide(req AccessRequest) Result
//	func (p *StickyPolicy) Deadline(storedAt time.Time) (time.Time, bool) // retention deadline, if any
//	func (p *StickyPolicy) Document() *policies.Document
//	func (p *StickyPolicy) Terms() *policies.DataHandling
//
// The XACML request Decide builds uses AttrSubjectID, AttrRole,
// AttrResourceID, AttrActionID and AttrPurpose (see docs/policy-guide.md).
var _ = policies.PurposeAny
