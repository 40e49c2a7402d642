package xacml

// Root is a parsed Policy or PolicySet. Placeholder: the full model is
// written by the XACML model work (issue 2).
type Root struct{}
