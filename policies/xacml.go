package policies

// XACMLPolicy is the XACML part of a document: a Policy or a PolicySet.
// Placeholder: the full AST is defined by the XACML model work (issue 2).
type XACMLPolicy struct{}
