// Package engine is the XACML 3.0 evaluation engine: it compiles a policy
// model (package policies/xacml) once into a tree of closures and typed
// values and evaluates requests against it without re-walking XML.
//
// Compile resolves every identifier, type-checks every expression, folds
// constants, precompiles regular expressions (XML Schema syntax translated
// to RE2) and interns the attributes the policy reads into slots. Evaluate
// indexes a request's attributes by those slots in scratch space the
// Request owns, so a typical decision allocates nothing. Decisions are
// values (Response), never errors; problems become Indeterminate with a
// status, following the extended Indeterminate{D,P,DP} of XACML 3.0.
//
// The package passes all 455 mandatory cases of the XACML 3.0 conformance
// suite (pdp/testdata/xacml-3.0, TestConformance). XPath (AttributeSelector,
// xpathExpression) is not supported and is rejected at load time.
package engine
