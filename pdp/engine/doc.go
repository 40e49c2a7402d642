// Package engine is the XACML 3.0 evaluation engine: it compiles a policy
// model once into a tree of closures and typed values and evaluates requests
// against it without re-walking XML.
package engine
