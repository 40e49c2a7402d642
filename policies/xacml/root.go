package xacml

import "github.com/beevik/etree"

// Namespaces of the XACML policy schemas and of the PPL extensions.
const (
	NS30 = "urn:oasis:names:tc:xacml:3.0:core:schema:wd-17"
	NS20 = "urn:oasis:names:tc:xacml:2.0:policy:schema:os"
	NS10 = "urn:oasis:names:tc:xacml:1.0:policy"
	// NS20Context is the XACML 2.0 request/response context namespace.
	NS20Context = "urn:oasis:names:tc:xacml:2.0:context:schema:os"
)

// Root is a parsed top-level Policy or PolicySet (exactly one of the two is
// set) with the foreign-namespace children of the root element (PPL data
// handling parts and the like) kept in document order in Extensions.
type Root struct {
	Policy    *Policy
	PolicySet *PolicySet
	// Extensions are the root's child elements in a non-XACML namespace
	// (ppl:, ob:, sp:, ...), in order. Parse keeps them as they were read;
	// Element re-appends copies of them after the XACML children.
	Extensions []*etree.Element
	// Source describes where the root came from: its qualified tag (for
	// example "ppl:Policy"), its namespace URI and the namespace
	// declarations on it, so Element can write an equivalent root.
	Source Source
}

// Source remembers the syntax a Root was read in.
type Source struct {
	Tag       string       // qualified tag of the root element, e.g. "Policy" or "ppl:Policy"
	Namespace string       // namespace URI of the root element
	XMLNS     []etree.Attr // xmlns:prefix declarations on the root element (not the default one)
	Version   int          // 3 for XACML 3.0 syntax, 2 for 2.0/1.x syntax
}

// ID returns the PolicyId or PolicySetId of the root.
func (r *Root) ID() string {
	switch {
	case r == nil:
		return ""
	case r.Policy != nil:
		return r.Policy.ID
	case r.PolicySet != nil:
		return r.PolicySet.ID
	}
	return ""
}

// Version returns the Version attribute of the root policy (set).
func (r *Root) Version() string {
	switch {
	case r == nil:
		return ""
	case r.Policy != nil:
		return r.Policy.Version
	case r.PolicySet != nil:
		return r.PolicySet.Version
	}
	return ""
}
