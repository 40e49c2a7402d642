package xacml

import "strings"

// Attribute categories.
const (
	CategoryAccessSubject = "urn:oasis:names:tc:xacml:1.0:subject-category:access-subject"
	CategoryResource      = "urn:oasis:names:tc:xacml:3.0:attribute-category:resource"
	CategoryAction        = "urn:oasis:names:tc:xacml:3.0:attribute-category:action"
	CategoryEnvironment   = "urn:oasis:names:tc:xacml:3.0:attribute-category:environment"
)

// Well-known attribute identifiers.
const (
	AttrSubjectID       = "urn:oasis:names:tc:xacml:1.0:subject:subject-id"
	AttrRole            = "urn:oasis:names:tc:xacml:2.0:subject:role"
	AttrResourceID      = "urn:oasis:names:tc:xacml:1.0:resource:resource-id"
	AttrActionID        = "urn:oasis:names:tc:xacml:1.0:action:action-id"
	AttrCurrentTime     = "urn:oasis:names:tc:xacml:1.0:environment:current-time"
	AttrCurrentDate     = "urn:oasis:names:tc:xacml:1.0:environment:current-date"
	AttrCurrentDateTime = "urn:oasis:names:tc:xacml:1.0:environment:current-dateTime"
)

// Data type identifiers.
const (
	TypeString            = "http://www.w3.org/2001/XMLSchema#string"
	TypeBoolean           = "http://www.w3.org/2001/XMLSchema#boolean"
	TypeInteger           = "http://www.w3.org/2001/XMLSchema#integer"
	TypeDouble            = "http://www.w3.org/2001/XMLSchema#double"
	TypeTime              = "http://www.w3.org/2001/XMLSchema#time"
	TypeDate              = "http://www.w3.org/2001/XMLSchema#date"
	TypeDateTime          = "http://www.w3.org/2001/XMLSchema#dateTime"
	TypeDayTimeDuration   = "http://www.w3.org/2001/XMLSchema#dayTimeDuration"
	TypeYearMonthDuration = "http://www.w3.org/2001/XMLSchema#yearMonthDuration"
	TypeAnyURI            = "http://www.w3.org/2001/XMLSchema#anyURI"
	TypeHexBinary         = "http://www.w3.org/2001/XMLSchema#hexBinary"
	TypeBase64Binary      = "http://www.w3.org/2001/XMLSchema#base64Binary"
	TypeRFC822Name        = "urn:oasis:names:tc:xacml:1.0:data-type:rfc822Name"
	TypeX500Name          = "urn:oasis:names:tc:xacml:1.0:data-type:x500Name"
	TypeIPAddress         = "urn:oasis:names:tc:xacml:2.0:data-type:ipAddress"
	TypeDNSName           = "urn:oasis:names:tc:xacml:2.0:data-type:dnsName"
	TypeXPathExpression   = "urn:oasis:names:tc:xacml:3.0:data-type:xpathExpression"

	legacyDayTimeDuration   = "http://www.w3.org/TR/2002/WD-xquery-operators-20020816#dayTimeDuration"
	legacyYearMonthDuration = "http://www.w3.org/TR/2002/WD-xquery-operators-20020816#yearMonthDuration"
)

// DataType is a standard XACML data type.
type DataType uint8

// The standard data types. DTUnknown is the zero value.
const (
	DTUnknown DataType = iota
	DTString
	DTBoolean
	DTInteger
	DTDouble
	DTTime
	DTDate
	DTDateTime
	DTDayTimeDuration
	DTYearMonthDuration
	DTAnyURI
	DTHexBinary
	DTBase64Binary
	DTRFC822Name
	DTX500Name
	DTIPAddress
	DTDNSName
	DTXPathExpression
	numDataTypes
)

var dataTypeURIs = [numDataTypes]string{
	"", TypeString, TypeBoolean, TypeInteger, TypeDouble, TypeTime, TypeDate, TypeDateTime,
	TypeDayTimeDuration, TypeYearMonthDuration, TypeAnyURI, TypeHexBinary, TypeBase64Binary,
	TypeRFC822Name, TypeX500Name, TypeIPAddress, TypeDNSName, TypeXPathExpression,
}

var dataTypeShort = [numDataTypes]string{
	"", "string", "boolean", "integer", "double", "time", "date", "dateTime",
	"dayTimeDuration", "yearMonthDuration", "anyURI", "hexBinary", "base64Binary",
	"rfc822Name", "x500Name", "ipAddress", "dnsName", "xpathExpression",
}

// URI returns the data type's canonical identifier.
func (t DataType) URI() string {
	if t >= numDataTypes {
		return ""
	}
	return dataTypeURIs[t]
}

// Short returns the data type's short name as used in function names
// ("string", "dateTime", "rfc822Name").
func (t DataType) Short() string {
	if t >= numDataTypes {
		return ""
	}
	return dataTypeShort[t]
}

func (t DataType) String() string { return t.Short() }

// AllDataTypes lists the standard data types.
func AllDataTypes() []DataType {
	out := make([]DataType, 0, numDataTypes-1)
	for t := DTString; t < numDataTypes; t++ {
		out = append(out, t)
	}
	return out
}

// LookupDataType resolves a DataType identifier, including the XQuery
// working-draft duration identifiers of XACML 1.x/2.0.
func LookupDataType(uri string) (DataType, bool) {
	switch uri {
	case legacyDayTimeDuration:
		return DTDayTimeDuration, true
	case legacyYearMonthDuration:
		return DTYearMonthDuration, true
	}
	for t := DTString; t < numDataTypes; t++ {
		if dataTypeURIs[t] == uri {
			return t, true
		}
	}
	return DTUnknown, false
}

// Combining algorithm identifiers.
const (
	ruleAlgPrefix   = "rule-combining-algorithm:"
	policyAlgPrefix = "policy-combining-algorithm:"
)

// CombiningAlg is a standard combining algorithm.
type CombiningAlg uint8

// The combining algorithms. The Legacy variants are the XACML 1.0/1.1
// identifiers, which keep their 1.x semantics.
const (
	AlgUnknown CombiningAlg = iota
	AlgDenyOverrides
	AlgPermitOverrides
	AlgOrderedDenyOverrides
	AlgOrderedPermitOverrides
	AlgDenyUnlessPermit
	AlgPermitUnlessDeny
	AlgFirstApplicable
	AlgOnlyOneApplicable
	AlgLegacyDenyOverrides
	AlgLegacyPermitOverrides
	AlgLegacyOrderedDenyOverrides
	AlgLegacyOrderedPermitOverrides
)

type algID struct {
	version string
	name    string
	alg     CombiningAlg
	rule    bool // valid as a rule-combining algorithm
	policy  bool // valid as a policy-combining algorithm
}

var algIDs = []algID{
	{"3.0", "deny-overrides", AlgDenyOverrides, true, true},
	{"3.0", "permit-overrides", AlgPermitOverrides, true, true},
	{"3.0", "ordered-deny-overrides", AlgOrderedDenyOverrides, true, true},
	{"3.0", "ordered-permit-overrides", AlgOrderedPermitOverrides, true, true},
	{"3.0", "deny-unless-permit", AlgDenyUnlessPermit, true, true},
	{"3.0", "permit-unless-deny", AlgPermitUnlessDeny, true, true},
	{"1.0", "first-applicable", AlgFirstApplicable, true, true},
	{"1.0", "only-one-applicable", AlgOnlyOneApplicable, false, true},
	{"1.0", "deny-overrides", AlgLegacyDenyOverrides, true, true},
	{"1.0", "permit-overrides", AlgLegacyPermitOverrides, true, true},
	{"1.1", "ordered-deny-overrides", AlgLegacyOrderedDenyOverrides, true, true},
	{"1.1", "ordered-permit-overrides", AlgLegacyOrderedPermitOverrides, true, true},
}

// LookupCombiningAlg resolves a RuleCombiningAlgId (rule true) or a
// PolicyCombiningAlgId (rule false).
func LookupCombiningAlg(id string, rule bool) (CombiningAlg, bool) {
	rest, ok := strings.CutPrefix(id, "urn:oasis:names:tc:xacml:")
	if !ok {
		return AlgUnknown, false
	}
	version, rest, ok := strings.Cut(rest, ":")
	if !ok {
		return AlgUnknown, false
	}
	prefix := policyAlgPrefix
	if rule {
		prefix = ruleAlgPrefix
	}
	name, ok := strings.CutPrefix(rest, prefix)
	if !ok {
		return AlgUnknown, false
	}
	for _, a := range algIDs {
		if a.version == version && a.name == name && ((rule && a.rule) || (!rule && a.policy)) {
			return a.alg, true
		}
	}
	return AlgUnknown, false
}

// CombiningAlgID returns the identifier of a combining algorithm as a rule
// (rule true) or policy combining algorithm.
func CombiningAlgID(a CombiningAlg, rule bool) string {
	prefix := policyAlgPrefix
	if rule {
		prefix = ruleAlgPrefix
	}
	for _, x := range algIDs {
		if x.alg == a {
			return "urn:oasis:names:tc:xacml:" + x.version + ":" + prefix + x.name
		}
	}
	return ""
}

// functionVersions gives, for every standard function short name, the
// XACML version prefix of its canonical identifier.
var functionVersions = buildFunctionVersions()

func buildFunctionVersions() map[string]string {
	m := map[string]string{}
	add := func(v string, names ...string) {
		for _, n := range names {
			m[n] = v
		}
	}
	add("1.0", "integer-add", "double-add", "integer-subtract", "double-subtract", "integer-multiply",
		"double-multiply", "integer-divide", "double-divide", "integer-mod", "integer-abs", "double-abs",
		"round", "floor", "string-normalize-space", "string-normalize-to-lower-case", "double-to-integer",
		"integer-to-double", "or", "and", "n-of", "not", "x500Name-match", "rfc822Name-match",
		"string-regexp-match", "all-of-any", "any-of-all", "all-of-all")
	v1types := []string{"string", "boolean", "integer", "double", "time", "date", "dateTime", "anyURI",
		"hexBinary", "base64Binary", "x500Name", "rfc822Name"}
	for _, t := range v1types {
		add("1.0", t+"-equal", t+"-one-and-only", t+"-bag-size", t+"-is-in", t+"-bag",
			t+"-intersection", t+"-at-least-one-member-of", t+"-union", t+"-subset", t+"-set-equals")
	}
	for _, t := range []string{"integer", "double", "string", "time", "dateTime", "date"} {
		add("1.0", t+"-greater-than", t+"-greater-than-or-equal", t+"-less-than", t+"-less-than-or-equal")
	}
	add("2.0", "time-in-range", "string-concatenate", "uri-string-concatenate", "anyURI-regexp-match",
		"ipAddress-regexp-match", "dnsName-regexp-match", "rfc822Name-regexp-match", "x500Name-regexp-match")
	for _, t := range []string{"ipAddress", "dnsName"} {
		add("2.0", t+"-one-and-only", t+"-bag-size", t+"-bag")
		add("3.0", t+"-is-in", t+"-intersection", t+"-at-least-one-member-of", t+"-union", t+"-subset", t+"-set-equals")
	}
	for _, t := range []string{"dayTimeDuration", "yearMonthDuration"} {
		add("3.0", t+"-equal", t+"-one-and-only", t+"-bag-size", t+"-is-in", t+"-bag",
			t+"-intersection", t+"-at-least-one-member-of", t+"-union", t+"-subset", t+"-set-equals")
	}
	add("3.0", "string-equal-ignore-case", "dateTime-add-dayTimeDuration", "dateTime-add-yearMonthDuration",
		"dateTime-subtract-dayTimeDuration", "dateTime-subtract-yearMonthDuration",
		"date-add-yearMonthDuration", "date-subtract-yearMonthDuration",
		"string-starts-with", "anyURI-starts-with", "string-ends-with", "anyURI-ends-with",
		"string-contains", "anyURI-contains", "string-substring", "anyURI-substring",
		"any-of", "all-of", "any-of-any", "map", "xpath-node-count", "xpath-node-equal", "xpath-node-match",
		"access-permitted")
	for _, t := range []string{"boolean", "integer", "double", "time", "date", "dateTime", "anyURI",
		"dayTimeDuration", "yearMonthDuration", "x500Name", "rfc822Name", "ipAddress", "dnsName"} {
		add("3.0", t+"-from-string", "string-from-"+t)
	}
	return m
}

// FunctionPrefix is the common prefix of standard function identifiers
// (followed by the version, ":function:" and the short name).
const FunctionPrefix = "urn:oasis:names:tc:xacml:"

// CanonicalFunction resolves a standard function identifier. It accepts the
// identifier under any of the 1.0, 2.0 and 3.0 prefixes (earlier versions
// named some functions differently) and returns the short name (for example
// "string-equal") and the canonical XACML 3.0 identifier.
func CanonicalFunction(id string) (short, canonical string, ok bool) {
	rest, ok := strings.CutPrefix(id, FunctionPrefix)
	if !ok {
		return "", "", false
	}
	version, name, ok := strings.Cut(rest, ":function:")
	if !ok || (version != "1.0" && version != "2.0" && version != "3.0") {
		return "", "", false
	}
	v, ok := functionVersions[name]
	if !ok {
		return "", "", false
	}
	return name, FunctionPrefix + v + ":function:" + name, true
}

// FunctionNames lists the short names of all standard functions.
func FunctionNames() []string {
	out := make([]string, 0, len(functionVersions))
	for n := range functionVersions {
		out = append(out, n)
	}
	return out
}
