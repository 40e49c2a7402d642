package policies

import (
	"errors"
	"time"

	"github.com/beevik/etree"
)

// ErrNoXACML is returned by Marshal for a Document without an XACML part.
var ErrNoXACML = errors.New("the document has no XACML policy")

// Marshal serializes the document: the XACML part as XACML 3.0 syntax
// (package xacml) with the root keeping its tag (ppl:Policy or Policy /
// PolicySet), followed by the data handling parts written from the model
// with the prefixes ppl: and ob:, indented by two spaces, with an XML
// declaration. Parsing the output and marshalling again gives the same
// bytes.
func (d *Document) Marshal() ([]byte, error) {
	el, err := d.Element()
	if err != nil {
		return nil, err
	}
	return writeDoc(el)
}

// Element returns the document as an element tree (see Marshal).
func (d *Document) Element() (*etree.Element, error) {
	if d == nil || d.XACML == nil {
		return nil, ErrNoXACML
	}
	r := *d.XACML
	var ext []*etree.Element
	for i := range d.DataHandlingPolicies {
		ext = append(ext, dataHandlingElement("ppl:DataHandlingPolicy", &d.DataHandlingPolicies[i]))
	}
	if d.Preferences != nil {
		ext = append(ext, dataHandlingElement("ppl:DataHandlingPreferences", d.Preferences))
	}
	if d.Sticky != nil {
		ext = append(ext, dataHandlingElement("ppl:StickyPolicy", d.Sticky))
	}
	// The data handling parts are appended here rather than through
	// Root.Extensions, which xacml copies with their original context.
	r.Extensions = nil
	// The data handling parts are written with fixed prefixes: drop the
	// source's declarations of those prefixes and of the PPL namespaces,
	// and declare them afresh on a ppl:Policy root.
	r.Source.XMLNS = nil
	for _, a := range d.XACML.Source.XMLNS {
		switch {
		case a.Key == "ppl" || a.Key == "ob" || a.Key == "sp":
		case a.Value == NSPPL || a.Value == NSObligation || a.Value == NSSticky:
		default:
			r.Source.XMLNS = append(r.Source.XMLNS, a)
		}
	}
	if r.Source.Namespace == NSPPL {
		r.Source.Tag = "ppl:Policy"
		r.Source.XMLNS = append([]etree.Attr{
			{Space: "xmlns", Key: "ppl", Value: NSPPL},
			{Space: "xmlns", Key: "ob", Value: NSObligation},
		}, r.Source.XMLNS...)
	}
	el := r.Element()
	for _, x := range ext {
		el.AddChild(x)
	}
	return el, nil
}

// MarshalPreferences serializes dh as a ppl:DataHandlingPreferences
// document (what ParsePreferences reads).
func MarshalPreferences(dh *DataHandling) ([]byte, error) {
	if dh == nil {
		dh = &DataHandling{}
	}
	el := dataHandlingElement("ppl:DataHandlingPreferences", dh)
	el.CreateAttr("xmlns:ppl", NSPPL)
	el.CreateAttr("xmlns:ob", NSObligation)
	// Namespace declarations first, like a person would write them.
	n := len(el.Attr)
	el.Attr = append(el.Attr[n-2:], el.Attr[:n-2]...)
	return writeDoc(el)
}

func writeDoc(el *etree.Element) ([]byte, error) {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	doc.SetRoot(el)
	doc.Indent(2)
	return doc.WriteToBytes()
}

// dataHandlingElement writes the body shared by ppl:DataHandlingPolicy,
// ppl:DataHandlingPreferences and ppl:StickyPolicy.
func dataHandlingElement(tag string, dh *DataHandling) *etree.Element {
	el := etree.NewElement(tag)
	if dh.PolicyID != "" {
		el.CreateAttr("PolicyId", dh.PolicyID)
	}
	a := dh.Authorizations
	if len(a.Purposes) > 0 || a.Downstream != nil {
		as := el.CreateElement("ppl:AuthorizationsSet")
		if len(a.Purposes) > 0 {
			u := as.CreateElement("ppl:AuthzUseForPurpose")
			for _, p := range a.Purposes {
				u.CreateElement("ppl:Purpose").SetText(p)
			}
		}
		if d := a.Downstream; d != nil {
			du := as.CreateElement("ppl:AuthzDownstreamUsage")
			du.CreateAttr("allowed", boolText(d.Allowed))
			if d.Policy != nil && d.Policy.XACML != nil {
				if nested, err := d.Policy.Element(); err == nil {
					du.AddChild(withoutPPLDecls(nested))
				}
			}
		}
	}
	if len(dh.Obligations) > 0 {
		os := el.CreateElement("ob:ObligationsSet")
		for i := range dh.Obligations {
			os.AddChild(obligationElement(&dh.Obligations[i]))
		}
	}
	return el
}

// withoutPPLDecls removes the ppl/ob declarations a nested policy root
// would repeat; the outer root declares them.
func withoutPPLDecls(el *etree.Element) *etree.Element {
	kept := el.Attr[:0]
	for _, a := range el.Attr {
		if a.Space == "xmlns" && (a.Key == "ppl" || a.Key == "ob") {
			continue
		}
		kept = append(kept, a)
	}
	el.Attr = kept
	return el
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func obligationElement(ob *Obligation) *etree.Element {
	el := etree.NewElement("ob:Obligation")
	if ob.ID != "" {
		el.CreateAttr("ObligationId", ob.ID)
	}
	ts := el.CreateElement("ob:TriggersSet")
	for i := range ob.Triggers {
		ts.AddChild(triggerElement(&ob.Triggers[i]))
	}
	el.AddChild(actionElement(ob.Action))
	return el
}

func triggerElement(tr *Trigger) *etree.Element {
	el := etree.NewElement("ob:" + string(tr.Kind))
	for _, s := range triggerChildren[tr.Kind] {
		switch s.local {
		case "Start":
			startElement(el, "ob:Start", tr.Start)
		case "End":
			startElement(el, "ob:End", tr.End)
		case "MaxDelay":
			durationElement(el, "ob:MaxDelay", tr.MaxDelay)
		case "Period":
			durationElement(el, "ob:Period", tr.Period)
		case "Purpose":
			for _, p := range tr.Purposes {
				el.CreateElement("ppl:Purpose").SetText(p)
			}
		case "Id":
			if tr.ID != "" {
				el.CreateElement("ob:Id").SetText(tr.ID)
			}
		case "url":
			if tr.URL != "" {
				el.CreateElement("ob:url").SetText(tr.URL)
			}
		}
	}
	return el
}

func startElement(parent *etree.Element, tag string, st *Start) {
	if st == nil {
		return
	}
	el := parent.CreateElement(tag)
	if st.Now {
		el.CreateElement("ob:StartNow")
		return
	}
	el.CreateElement("ob:DateAndTime").SetText(st.At.Format(time.RFC3339Nano))
}

func durationElement(parent *etree.Element, tag string, d *Duration) {
	if d == nil {
		return
	}
	parent.CreateElement(tag).CreateElement("ob:Duration").SetText(d.String())
}

func actionElement(a Action) *etree.Element {
	el := etree.NewElement("ob:" + string(a.Kind))
	if a.Kind == ActionNotifyDataSubject {
		el.CreateElement("ob:Media").SetText(a.Media)
		el.CreateElement("ob:Address").SetText(a.Address)
	}
	return el
}

// Clone returns a deep copy of dh (nested downstream documents are shared:
// they are never modified after parsing).
func (dh *DataHandling) Clone() *DataHandling {
	if dh == nil {
		return nil
	}
	c := *dh
	c.Authorizations.Purposes = append([]string(nil), dh.Authorizations.Purposes...)
	if dh.Authorizations.Downstream != nil {
		d := *dh.Authorizations.Downstream
		c.Authorizations.Downstream = &d
	}
	c.Obligations = make([]Obligation, len(dh.Obligations))
	for i, ob := range dh.Obligations {
		ob.Triggers = append([]Trigger(nil), ob.Triggers...)
		for j := range ob.Triggers {
			ob.Triggers[j].Purposes = append([]string(nil), ob.Triggers[j].Purposes...)
		}
		c.Obligations[i] = ob
	}
	return &c
}
