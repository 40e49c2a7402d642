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
// Subject/Resource/Action/Environment sections are mapped to categories)
// asking for one decision. A request with repeated categories asks for
// several: read it with ParseRequests.
func ParseRequest(data []byte) (*Request, error) {
	rs, err := ParseRequests(data)
	if err != nil {
		return nil, err
	}
	if len(rs) != 1 {
		return nil, fmt.Errorf("%w: the request asks for %d decisions (repeated categories); use ParseRequests", ErrBadRequest, len(rs))
	}
	return rs[0], nil
}

// ParseRequests reads a Request that may ask for several decisions (the
// Multiple Decision Profile's repeated categories): one individual request
// per combination of the repeated Attributes elements, in document order.
// CombinedDecision and MultiRequests are not supported.
func ParseRequests(data []byte) ([]*Request, error) {
	doc, err := xmlsafe.Parse(data, xmlsafe.DefaultLimits)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return RequestsFromElement(doc.Root())
}

// RequestFromElement reads a Request element asking for one decision.
func RequestFromElement(el *etree.Element) (*Request, error) {
	rs, err := RequestsFromElement(el)
	if err != nil {
		return nil, err
	}
	if len(rs) != 1 {
		return nil, fmt.Errorf("%w: the request asks for %d decisions (repeated categories)", ErrBadRequest, len(rs))
	}
	return rs[0], nil
}

// maxIndividualRequests bounds the decisions one request may ask for.
const maxIndividualRequests = 1024

// RequestsFromElement reads a Request element into its individual requests.
func RequestsFromElement(el *etree.Element) ([]*Request, error) {
	var probs xmlsafe.Problems
	if el == nil || el.Tag != "Request" {
		probs.Add(el, "", "", "expected a Request element")
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, probs.Err())
	}
	base := NewRequest()
	base.ReturnPolicyIDList = boolAttr(el, "ReturnPolicyIdList", &probs)
	base.CombinedDecision = boolAttr(el, "CombinedDecision", &probs)
	if base.CombinedDecision {
		probs.Add(el, "CombinedDecision", "true", "combined decisions (Multiple Decision Profile) are not supported")
	}
	// Each category's Attributes elements, in order of first appearance.
	var cats []string
	groups := map[string][]*Request{}
	byID := map[string]*Request{}
	var multi *etree.Element
	for _, c := range el.ChildElements() {
		cat := ""
		switch c.Tag {
		case "Attributes":
			cat = c.SelectAttrValue("Category", "")
			if cat == "" {
				probs.Add(c, "Category", "", "required attribute Category is missing")
			}
		case "Subject", "Resource", "Action", "Environment":
			cat = map[string]string{"Subject": CategorySubject, "Resource": CategoryResource,
				"Action": CategoryAction, "Environment": CategoryEnvironment}[c.Tag]
			if c.Tag == "Subject" {
				cat = c.SelectAttrValue("SubjectCategory", cat)
			}
		case "MultiRequests":
			multi = c
			continue
		case "RequestDefaults":
			continue
		default:
			probs.Add(c, "", "", "unexpected element in a Request")
			continue
		}
		part := NewRequest()
		part.readAttributes(c, cat, &probs)
		if id := c.SelectAttrValue("xml:id", ""); id != "" {
			byID[id] = part
		}
		if _, ok := groups[cat]; !ok {
			cats = append(cats, cat)
		}
		if c.Tag == "Attributes" || len(groups[cat]) == 0 {
			groups[cat] = append(groups[cat], part)
		} else {
			// XACML 2.0: several Subject elements of one category are one bag.
			g := groups[cat][0]
			g.attrs = append(g.attrs, part.attrs...)
		}
	}
	if multi != nil {
		return multiRequests(base, multi, byID, &probs)
	}
	if err := probs.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	out := []*Request{base}
	for _, cat := range cats {
		parts := groups[cat]
		if len(out)*len(parts) > maxIndividualRequests {
			return nil, fmt.Errorf("%w: the request asks for more than %d decisions", ErrBadRequest, maxIndividualRequests)
		}
		var next []*Request
		for _, r := range out {
			for _, part := range parts {
				n := &Request{ReturnPolicyIDList: r.ReturnPolicyIDList, CombinedDecision: r.CombinedDecision}
				n.attrs = append(append([]reqAttr(nil), r.attrs...), part.attrs...)
				n.Content = mergeContent(r.Content, part.Content)
				next = append(next, n)
			}
		}
		out = next
	}
	return out, nil
}

// multiRequests builds one individual request per RequestReference, from
// the Attributes elements it references by xml:id.
func multiRequests(base *Request, multi *etree.Element, byID map[string]*Request, probs *xmlsafe.Problems) ([]*Request, error) {
	var out []*Request
	for _, rr := range multi.ChildElements() {
		if rr.Tag != "RequestReference" {
			probs.Add(rr, "", "", "expected RequestReference")
			continue
		}
		n := &Request{ReturnPolicyIDList: base.ReturnPolicyIDList}
		for _, ar := range rr.ChildElements() {
			id := ar.SelectAttrValue("ReferenceId", "")
			part, ok := byID[id]
			if ar.Tag != "AttributesReference" || !ok {
				probs.Add(ar, "ReferenceId", id, "expected an AttributesReference to the xml:id of an Attributes element")
				continue
			}
			n.attrs = append(n.attrs, part.attrs...)
			n.Content = mergeContent(n.Content, part.Content)
		}
		out = append(out, n)
		if len(out) > maxIndividualRequests {
			return nil, fmt.Errorf("%w: the request asks for more than %d decisions", ErrBadRequest, maxIndividualRequests)
		}
	}
	if len(out) == 0 {
		probs.Add(multi, "", "", "MultiRequests needs at least one RequestReference")
	}
	if err := probs.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return out, nil
}

func mergeContent(a, b map[string]*etree.Element) map[string]*etree.Element {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	m := make(map[string]*etree.Element, len(a)+len(b))
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
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
