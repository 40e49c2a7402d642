package policies

import "github.com/stickypolicy/sticky/policies/xmlsafe"

// Problem, ValidationError and the sentinel errors are defined in xmlsafe so
// that the XACML model can share them; these aliases keep one vocabulary.
type (
	// Problem is one thing wrong with a policy document.
	Problem = xmlsafe.Problem
	// ValidationError lists every problem found in a document.
	ValidationError = xmlsafe.ValidationError
)

// Sentinel errors callers branch on with errors.Is.
var (
	ErrInvalid    = xmlsafe.ErrInvalid
	ErrHostileXML = xmlsafe.ErrHostileXML
)
