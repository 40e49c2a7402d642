// Package policies is Sticky's policy model: it parses PPL (PrimeLife Policy
// Language) documents and plain XACML 3.0 and 2.0 policies into one model,
// validates them with errors that name the element, attribute and value at
// fault, serializes them back, holds the purpose taxonomy (W3C DPV, P3P and
// PPL's wildcard) and matches a data subject's preferences against a data
// controller's data handling policy.
//
// The package is pure: it uses etree and the standard library only.
package policies
