// Package pdp is Sticky's Policy Decision Point: a XACML 3.0 engine (targets,
// datatypes, functions, conditions, variables, combining algorithms, policy
// sets and references, obligations and advice) over policies compiled once
// from the policies model, and the PPL sticky-policy decision on top of it
// (XACML permit AND purpose allowed AND within retention; downstream
// disclosure by AuthzDownstreamUsage).
//
// Decisions are values: evaluation never returns an error for a Deny or an
// Indeterminate; errors are reserved for policies that cannot be compiled.
package pdp
