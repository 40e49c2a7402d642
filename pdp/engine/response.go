package engine

import (
	"bytes"
	"fmt"

	"github.com/beevik/etree"
	"github.com/stickypolicy/sticky/policies/xacml"
)

// Decision is an XACML decision. The three Indeterminate variants are the
// extended Indeterminate values of XACML 3.0: IndeterminateD could only
// have been Deny, IndeterminateP only Permit, IndeterminateDP either.
type Decision uint8

// Decisions.
const (
	NotApplicable Decision = iota
	Permit
	Deny
	IndeterminateD
	IndeterminateP
	IndeterminateDP
)

// IsIndeterminate reports whether d is one of the Indeterminate variants.
func (d Decision) IsIndeterminate() bool { return d >= IndeterminateD }

// Simple maps the extended Indeterminate values to Indeterminate
// (reported as IndeterminateDP); the others are unchanged.
func (d Decision) Simple() string {
	switch d {
	case Permit:
		return "Permit"
	case Deny:
		return "Deny"
	case NotApplicable:
		return "NotApplicable"
	}
	return "Indeterminate"
}

func (d Decision) String() string {
	switch d {
	case IndeterminateD:
		return "Indeterminate{D}"
	case IndeterminateP:
		return "Indeterminate{P}"
	case IndeterminateDP:
		return "Indeterminate{DP}"
	}
	return d.Simple()
}

// Status codes.
const (
	StatusOK               = "urn:oasis:names:tc:xacml:1.0:status:ok"
	StatusMissingAttribute = "urn:oasis:names:tc:xacml:1.0:status:missing-attribute"
	StatusSyntaxError      = "urn:oasis:names:tc:xacml:1.0:status:syntax-error"
	StatusProcessingError  = "urn:oasis:names:tc:xacml:1.0:status:processing-error"
)

// Status explains an Indeterminate decision.
type Status struct {
	Code    string
	Message string
	Missing []MissingAttributeDetail
}

func (s *Status) Error() string {
	if s == nil {
		return "ok"
	}
	return s.Message
}

// MissingAttributeDetail names an attribute a policy required
// (MustBePresent) that the request lacked.
type MissingAttributeDetail struct {
	Category    string
	AttributeID string
	DataType    string
	Issuer      string
}

func processingError(format string, args ...any) *Status {
	return &Status{Code: StatusProcessingError, Message: fmt.Sprintf(format, args...)}
}

// Obligation is an obligation or advice returned with a decision.
type Obligation struct {
	ID         string
	Attributes []Assignment
}

// Assignment is one AttributeAssignment of an obligation or advice.
type Assignment struct {
	AttributeID string
	Category    string
	Issuer      string
	Value       Value
}

// Attribute is a request attribute echoed in the response
// (IncludeInResult).
type Attribute struct {
	Category    string
	AttributeID string
	Issuer      string
	Value       Value
}

// Response is the result of one evaluation. Its slices may share storage
// with the Request that produced it: they stay valid until that Request is
// evaluated again or reset.
type Response struct {
	Decision    Decision
	Status      *Status // nil means ok
	Obligations []Obligation
	Advice      []Obligation
	Attributes  []Attribute // request attributes with IncludeInResult
	PolicyIDs   []PolicyIdentifier
}

// PolicyIdentifier is an applicable policy (ReturnPolicyIdList).
type PolicyIdentifier struct {
	Set     bool
	ID      string
	Version string
}

// Element writes the response as an XACML 3.0 Response element.
func (r Response) Element() *etree.Element {
	resp := etree.NewElement("Response")
	resp.CreateAttr("xmlns", xacml.NS30)
	resp.AddChild(r.result())
	return resp
}

// ResponsesElement writes several decisions (one per individual request)
// as one XACML Response with a Result each.
func ResponsesElement(rs []Response) *etree.Element {
	resp := etree.NewElement("Response")
	resp.CreateAttr("xmlns", xacml.NS30)
	for _, r := range rs {
		resp.AddChild(r.result())
	}
	return resp
}

// MarshalResponses returns several decisions as one indented XACML 3.0
// Response document.
func MarshalResponses(rs []Response) ([]byte, error) {
	return marshal(ResponsesElement(rs))
}

func (r Response) result() *etree.Element {
	res := etree.NewElement("Result")
	res.CreateElement("Decision").SetText(r.Decision.Simple())
	st := res.CreateElement("Status")
	code := StatusOK
	if r.Status != nil && r.Status.Code != "" {
		code = r.Status.Code
	}
	st.CreateElement("StatusCode").CreateAttr("Value", code)
	if r.Status != nil {
		if r.Status.Message != "" {
			st.CreateElement("StatusMessage").SetText(r.Status.Message)
		}
		if len(r.Status.Missing) > 0 {
			d := st.CreateElement("StatusDetail")
			for _, m := range r.Status.Missing {
				e := d.CreateElement("MissingAttributeDetail")
				e.CreateAttr("Category", m.Category)
				e.CreateAttr("AttributeId", m.AttributeID)
				e.CreateAttr("DataType", m.DataType)
				if m.Issuer != "" {
					e.CreateAttr("Issuer", m.Issuer)
				}
			}
		}
	}
	if len(r.Obligations) > 0 {
		o := res.CreateElement("Obligations")
		for _, ob := range r.Obligations {
			e := o.CreateElement("Obligation")
			e.CreateAttr("ObligationId", ob.ID)
			writeAssignments(e, ob.Attributes)
		}
	}
	if len(r.Advice) > 0 {
		o := res.CreateElement("AssociatedAdvice")
		for _, ad := range r.Advice {
			e := o.CreateElement("Advice")
			e.CreateAttr("AdviceId", ad.ID)
			writeAssignments(e, ad.Attributes)
		}
	}
	var cats []string
	byCat := map[string]*etree.Element{}
	for _, a := range r.Attributes {
		c := byCat[a.Category]
		if c == nil {
			c = etree.NewElement("Attributes")
			c.CreateAttr("Category", a.Category)
			byCat[a.Category] = c
			cats = append(cats, a.Category)
		}
		var at *etree.Element
		for _, x := range c.ChildElements() {
			if x.SelectAttrValue("AttributeId", "") == a.AttributeID && x.SelectAttrValue("Issuer", "") == a.Issuer {
				at = x
			}
		}
		if at == nil {
			at = c.CreateElement("Attribute")
			at.CreateAttr("AttributeId", a.AttributeID)
			if a.Issuer != "" {
				at.CreateAttr("Issuer", a.Issuer)
			}
			at.CreateAttr("IncludeInResult", "true")
		}
		v := at.CreateElement("AttributeValue")
		v.CreateAttr("DataType", a.Value.Type.URI())
		v.SetText(a.Value.String())
	}
	for _, c := range cats {
		res.AddChild(byCat[c])
	}
	if len(r.PolicyIDs) > 0 {
		l := res.CreateElement("PolicyIdentifierList")
		for _, p := range r.PolicyIDs {
			tag := "PolicyIdReference"
			if p.Set {
				tag = "PolicySetIdReference"
			}
			e := l.CreateElement(tag)
			e.CreateAttr("Version", p.Version)
			e.SetText(p.ID)
		}
	}
	return res
}

func writeAssignments(e *etree.Element, as []Assignment) {
	for _, a := range as {
		x := e.CreateElement("AttributeAssignment")
		x.CreateAttr("AttributeId", a.AttributeID)
		if a.Category != "" {
			x.CreateAttr("Category", a.Category)
		}
		if a.Issuer != "" {
			x.CreateAttr("Issuer", a.Issuer)
		}
		x.CreateAttr("DataType", a.Value.Type.URI())
		x.SetText(a.Value.String())
	}
}

// MarshalXACML returns the response as an indented XACML 3.0 Response
// document.
func (r Response) MarshalXACML() ([]byte, error) {
	return marshal(r.Element())
}

func marshal(root *etree.Element) ([]byte, error) {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	doc.SetRoot(root)
	doc.Indent(2)
	var b bytes.Buffer
	if _, err := doc.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ErrorResponse is the response to a request that could not be read: an
// Indeterminate decision with a syntax-error status naming the problem.
func ErrorResponse(err error) Response {
	return Response{Decision: IndeterminateDP, Status: &Status{Code: StatusSyntaxError, Message: err.Error()}}
}
