// Package policies is Sticky's policy model: it parses PPL (PrimeLife Policy
// Language) documents and plain XACML 3.0 and 2.0 policies into one model,
// validates them with errors that name the element, attribute and value at
// fault, serializes them back, holds the purpose taxonomy (W3C DPV, P3P and
// PPL's wildcard) and matches a data subject's preferences against a data
// controller's data handling policy.
//
// Entry points:
//
//   - Parse reads a whole policy document (ppl:Policy or plain XACML) into a
//     Document; ParsePreferences reads a ppl:DataHandlingPreferences
//     document into a DataHandling. Hostile XML is refused (ErrHostileXML);
//     every validation problem is reported at once (*ValidationError).
//   - (*Document).Marshal and MarshalPreferences write them back; the round
//     trip is byte-stable.
//   - ParseDuration, Duration.AddTo, Duration.Compare and
//     Duration.NoLongerThan handle xs:duration as real durations.
//   - DefaultTaxonomy, NewTaxonomy, LoadTaxonomy and (*Taxonomy).Covers
//     decide purpose coverage; NewPurposeSet prepares a set of allowed
//     purposes for repeated checks.
//   - Match compares preferences with a policy and yields the agreed terms
//     (the sticky policy) or the mismatches.
//
// The decision itself (XACML permit AND purpose allowed AND within
// retention) is package pdp's CompileSticky. docs/policy-guide.md is the
// user's guide.
//
// The package is pure: it uses etree and the standard library only.
package policies
