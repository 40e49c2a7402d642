package xacml

import "github.com/beevik/etree"

// Policy is an XACML Policy.
type Policy struct {
	ID                 string
	Version            string // "1.0" when absent
	RuleCombiningAlgID string // canonical identifier (legacy ids kept as written)
	MaxDelegationDepth string
	Description        string
	XPathVersion       string // PolicyDefaults/XPathVersion
	Target             *Target
	CombinerParameters []CombinerParameter
	RuleCombinerParams []RuleCombinerParameters
	Variables          []*VariableDefinition
	Rules              []*Rule
	Obligations        []*ObligationExpression
	Advice             []*AdviceExpression
	// Extensions are foreign-namespace children of a Policy nested in a
	// PolicySet (a nested ppl:Policy's data handling parts); the root's
	// are in Root.Extensions.
	Extensions []*etree.Element
	Line       int
}

// PolicySet is an XACML PolicySet.
type PolicySet struct {
	ID                   string
	Version              string
	PolicyCombiningAlgID string
	MaxDelegationDepth   string
	Description          string
	XPathVersion         string
	Target               *Target
	// Children are the policies, policy sets and references in order.
	Children           []Child
	CombinerParameters []CombinerParameter
	// ChildCombinerParams are PolicyCombinerParameters and
	// PolicySetCombinerParameters.
	ChildCombinerParams []ChildCombinerParameters
	Obligations         []*ObligationExpression
	Advice              []*AdviceExpression
	Line                int
}

// Child is one member of a PolicySet: exactly one field is set.
type Child struct {
	Policy    *Policy
	PolicySet *PolicySet
	Ref       *Reference
}

// RefKind tells a PolicyIdReference from a PolicySetIdReference.
type RefKind uint8

// Reference kinds.
const (
	PolicyRef RefKind = iota + 1
	PolicySetRef
)

// Reference is a PolicyIdReference or PolicySetIdReference.
type Reference struct {
	Kind            RefKind
	ID              string
	Version         string
	EarliestVersion string
	LatestVersion   string
	Line            int
}

// Target is a conjunction of AnyOf; an empty Target matches everything.
// XACML 2.0 Subjects/Resources/Actions/Environments are converted: each
// becomes one AnyOf whose AllOf are its Subject/Resource/... children.
type Target struct {
	AnyOf []AnyOf
}

// AnyOf is a disjunction of AllOf.
type AnyOf struct {
	AllOf []AllOf
}

// AllOf is a conjunction of Match.
type AllOf struct {
	Matches []Match
}

// Match applies MatchID to Value and each value of the attribute bag the
// Designator or Selector yields.
type Match struct {
	MatchID    string
	Value      *AttributeValue
	Designator *AttributeDesignator
	Selector   *AttributeSelector
	Line       int
}

// Effect is Permit or Deny.
type Effect uint8

// Effects.
const (
	Deny Effect = iota
	Permit
)

func (e Effect) String() string {
	if e == Permit {
		return "Permit"
	}
	return "Deny"
}

// Rule is an XACML Rule.
type Rule struct {
	ID          string
	Effect      Effect
	Description string
	Target      *Target
	Condition   Expression // nil when absent
	Obligations []*ObligationExpression
	Advice      []*AdviceExpression
	Line        int
}

// VariableDefinition names an expression within a Policy.
type VariableDefinition struct {
	ID   string
	Expr Expression
	Line int
}

// ObligationExpression is an ObligationExpression (or a 2.0 Obligation,
// whose AttributeAssignments become expressions holding their value).
type ObligationExpression struct {
	ID          string
	FulfillOn   Effect
	Assignments []*AttributeAssignmentExpression
	Line        int
}

// AdviceExpression is an AdviceExpression.
type AdviceExpression struct {
	ID          string
	AppliesTo   Effect
	Assignments []*AttributeAssignmentExpression
	Line        int
}

// AttributeAssignmentExpression assigns the value(s) of Expr to an
// attribute of an obligation or advice.
type AttributeAssignmentExpression struct {
	AttributeID string
	Category    string
	Issuer      string
	Expr        Expression
	Line        int
}

// CombinerParameter is a named value passed to a combining algorithm.
type CombinerParameter struct {
	Name  string
	Value *AttributeValue
}

// RuleCombinerParameters are combiner parameters for one rule.
type RuleCombinerParameters struct {
	RuleIDRef  string
	Parameters []CombinerParameter
}

// ChildCombinerParameters are PolicyCombinerParameters (Kind PolicyRef)
// or PolicySetCombinerParameters (Kind PolicySetRef).
type ChildCombinerParameters struct {
	Kind       RefKind
	IDRef      string
	Parameters []CombinerParameter
}

// Expression is one of *Apply, *Function, *AttributeValue,
// *AttributeDesignator, *AttributeSelector, *VariableReference.
type Expression interface {
	isExpression()
}

// Apply applies a function to arguments.
type Apply struct {
	FunctionID  string
	Description string
	Args        []Expression
	Line        int
}

// Function names a function passed to a higher-order function.
type Function struct {
	ID   string
	Line int
}

// AttributeValue is a literal value as written: its data type and lexical
// form. Other attributes (such as XPathCategory of an xpathExpression) are
// kept in Attrs.
type AttributeValue struct {
	DataType string
	Value    string
	Attrs    []etree.Attr
	Line     int
}

// AttributeDesignator fetches a bag of attribute values from the request.
type AttributeDesignator struct {
	Category      string
	AttributeID   string
	DataType      string
	Issuer        string
	MustBePresent bool
	Line          int
}

// AttributeSelector fetches values by XPath from request content. It is
// parsed and serialized; the engine does not evaluate XPath.
type AttributeSelector struct {
	Category          string
	ContextSelectorID string
	Path              string
	DataType          string
	MustBePresent     bool
	Line              int
}

// VariableReference refers to a VariableDefinition of the same Policy.
type VariableReference struct {
	ID   string
	Line int
}

func (*Apply) isExpression()               {}
func (*Function) isExpression()            {}
func (*AttributeValue) isExpression()      {}
func (*AttributeDesignator) isExpression() {}
func (*AttributeSelector) isExpression()   {}
func (*VariableReference) isExpression()   {}
