package policies

import "github.com/stickypolicy/sticky/policies/xacml"

// Document is one parsed policy document: a PPL policy (an XACML policy with
// data handling parts) or a plain XACML 3.0 / 2.0 Policy or PolicySet.
//
// The XACML part lives in XACML (package policies/xacml); the data handling parts are
// the ppl:DataHandlingPolicy elements, ppl:DataHandlingPreferences and
// ppl:StickyPolicy, in document order.
type Document struct {
	XACML                *xacml.Root
	DataHandlingPolicies []DataHandling
	Preferences          *DataHandling
	Sticky               *DataHandling
}

// Terms are the data handling terms in force for a stored record: the sticky
// policy when present, otherwise the preferences, otherwise the first data
// handling policy; nil when the document has none.
func (d *Document) Terms() *DataHandling {
	switch {
	case d == nil:
		return nil
	case d.Sticky != nil:
		return d.Sticky
	case d.Preferences != nil:
		return d.Preferences
	case len(d.DataHandlingPolicies) > 0:
		return &d.DataHandlingPolicies[0]
	}
	return nil
}
