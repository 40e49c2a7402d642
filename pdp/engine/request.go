package engine

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/stickypolicy/sticky/policies/xacml"
	"github.com/stickypolicy/sticky/policies/xmlsafe"
)

// Attribute categories, re-exported for request builders.
const (
	CategorySubject     = xacml.CategoryAccessSubject
	CategoryResource    = xacml.CategoryResource
	CategoryAction      = xacml.CategoryAction
	CategoryEnvironment = xacml.CategoryEnvironment
)

// ErrBadRequest is wrapped by errors about malformed XACML requests.
var ErrBadRequest = errors.New("bad XACML request")

type reqAttr struct {
	cat, id, issuer string
	v               Value
	include         bool
}

// Request is an XACML request context: attributes by category. Build one
// with NewRequest and Add, or read one with ParseRequest. A Request holds
// scratch space for evaluation, so reuse it (Reset) to evaluate without
// allocating; it must not be used by two goroutines at once.
type Request struct {
	attrs []reqAttr
	// Now is the time the environment's current-time, current-date and
	// current-dateTime default to when the request does not carry them.
	// The zero value means the policy's clock at evaluation.
	Now time.Time
	// ReturnPolicyIDList asks for the applicable policies in the response.
	ReturnPolicyIDList bool
	// CombinedDecision is read from XML requests; only false is supported.
	CombinedDecision bool
	// Content holds the Content elements by category (AttributeSelector
	// input; the engine does not evaluate XPath).
	Content map[string]*etree.Element

	c evalCtx
}

// NewRequest returns an empty request.
func NewRequest() *Request { return &Request{} }

// Reset empties the request for reuse, keeping its storage.
func (r *Request) Reset() {
	clear(r.attrs)
	r.attrs = r.attrs[:0]
	r.Now = time.Time{}
	r.ReturnPolicyIDList = false
	r.CombinedDecision = false
	r.Content = nil
}

// Add appends a value of attribute attributeID in category. Adding the same
// attribute again makes a bag of several values.
func (r *Request) Add(category, attributeID string, v Value) *Request {
	r.attrs = append(r.attrs, reqAttr{cat: category, id: attributeID, v: v})
	return r
}

// AddIssued is Add with an Issuer and the IncludeInResult flag.
func (r *Request) AddIssued(category, attributeID, issuer string, includeInResult bool, v Value) *Request {
	r.attrs = append(r.attrs, reqAttr{cat: category, id: attributeID, issuer: issuer, v: v, include: includeInResult})
	return r
}

// Values returns the values of an attribute in the request (a new slice).
func (r *Request) Values(category, attributeID string) []Value {
	var out []Value
	for i := range r.attrs {
		if a := &r.attrs[i]; a.cat == category && a.id == attributeID {
			out = append(out, a.v)
		}
	}
	return out
}

// Len returns the number of attribute values in the request.
func (r *Request) Len() int { return len(r.attrs) }

// ParseRequest reads an XACML 3.0 Request (or a 2.0 Request, whose
// Subject/Resource/Action/Environment sections are mapped to categories).
func ParseRequest(data []byte) (*Request, error) {
	doc, err := xmlsafe.Parse(data, xmlsafe.DefaultLimits)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return RequestFromElement(doc.Root())
}

// RequestFromElement reads a Request element.
func RequestFromElement(el *etree.Element) (*Request, error) {
	var probs xmlsafe.Problems
	if el == nil || el.Tag != "Request" {
		probs.Add(el, "", "", "expected a Request element")
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, probs.Err())
	}
	r := NewRequest()
	r.ReturnPolicyIDList = boolAttr(el, "ReturnPolicyIdList", &probs)
	r.CombinedDecision = boolAttr(el, "CombinedDecision", &probs)
	if r.CombinedDecision {
		probs.Add(el, "CombinedDecision", "true", "the Multiple Decision Profile is not supported")
	}
	seenCat := map[string]bool{}
	for _, c := range el.ChildElements() {
		switch c.Tag {
		case "Attributes":
			cat := c.SelectAttrValue("Category", "")
			if cat == "" {
				probs.Add(c, "Category", "", "required attribute Category is missing")
			}
			if seenCat[cat] {
				probs.Add(c, "Category", cat, "repeated category: the Multiple Decision Profile is not supported")
			}
			seenCat[cat] = true
			r.readAttributes(c, cat, &probs)
		case "Subject", "Resource", "Action", "Environment":
			cat := map[string]string{"Subject": CategorySubject, "Resource": CategoryResource,
				"Action": CategoryAction, "Environment": CategoryEnvironment}[c.Tag]
			if c.Tag == "Subject" {
				cat = c.SelectAttrValue("SubjectCategory", cat)
			}
			r.readAttributes(c, cat, &probs)
		case "MultiRequests":
			probs.Add(c, "", "", "the Multiple Decision Profile is not supported")
		case "RequestDefaults":
		default:
			probs.Add(c, "", "", "unexpected element in a Request")
		}
	}
	if err := probs.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return r, nil
}

func boolAttr(el *etree.Element, name string, probs *xmlsafe.Problems) bool {
	v := strings.TrimSpace(el.SelectAttrValue(name, "false"))
	switch v {
	case "true", "1":
		return true
	case "false", "0":
		return false
	}
	probs.Add(el, name, v, "must be true or false")
	return false
}

func (r *Request) readAttributes(el *etree.Element, cat string, probs *xmlsafe.Problems) {
	for _, a := range el.ChildElements() {
		if a.Tag == "Content" || a.Tag == "ResourceContent" {
			if r.Content == nil {
				r.Content = map[string]*etree.Element{}
			}
			r.Content[cat] = a
			continue
		}
		if a.Tag != "Attribute" {
			probs.Add(a, "", "", "unexpected element in Attributes")
			continue
		}
		id := a.SelectAttrValue("AttributeId", "")
		if id == "" {
			probs.Add(a, "AttributeId", "", "required attribute AttributeId is missing")
		}
		issuer := a.SelectAttrValue("Issuer", "")
		include := boolAttr(a, "IncludeInResult", probs)
		dt2 := a.SelectAttrValue("DataType", "") // XACML 2.0 puts it on Attribute
		for _, v := range a.ChildElements() {
			if v.Tag != "AttributeValue" {
				probs.Add(v, "", "", "unexpected element in Attribute")
				continue
			}
			dt := v.SelectAttrValue("DataType", dt2)
			t, ok := xacml.LookupDataType(dt)
			if !ok {
				probs.Add(v, "DataType", dt, "unknown data type")
				continue
			}
			if len(v.ChildElements()) > 0 {
				probs.Add(v, "", "", "structured AttributeValue content is not supported")
				continue
			}
			val, err := xacml.ParseValue(t, v.Text())
			if err != nil {
				probs.Add(v, "", v.Text(), "not a valid %s: %v", t.Short(), err)
				continue
			}
			r.attrs = append(r.attrs, reqAttr{cat: cat, id: id, issuer: issuer, v: val, include: include})
		}
	}
}
