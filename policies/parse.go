package policies

import (
	"errors"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/beevik/etree"
	"github.com/stickypolicy/sticky/policies/xacml"
	"github.com/stickypolicy/sticky/policies/xmlsafe"
)

// MaxNestedPolicies bounds how deep ppl:Policy elements may nest through
// AuthzDownstreamUsage (a policy's downstream policy's downstream policy...).
const MaxNestedPolicies = 8

// Media of ActionNotifyDataSubject.
const (
	MediaInbox   = "inbox"
	MediaEmail   = "email"
	MediaWebhook = "webhook"
)

// Default limits of Parse and ParsePreferences: a policy stored with one
// record is small; 4 MiB still holds a policy of several thousand rules.
// WithLimits raises or lowers them.
const (
	DefaultMaxBytes    = 4 << 20
	DefaultMaxDepth    = 64
	DefaultMaxElements = 200_000
)

// ParseOption configures Parse and ParsePreferences.
type ParseOption func(*parseOptions)

type parseOptions struct {
	limits xmlsafe.Limits
}

// WithLimits sets the size, depth and element-count limits of the XML
// reader (zero fields mean xmlsafe.DefaultLimits, not the Default*
// constants above).
func WithLimits(l xmlsafe.Limits) ParseOption {
	return func(o *parseOptions) { o.limits = l }
}

func options(opts []ParseOption) parseOptions {
	o := parseOptions{limits: xmlsafe.Limits{MaxBytes: DefaultMaxBytes, MaxDepth: DefaultMaxDepth, MaxElements: DefaultMaxElements}}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Parse reads a whole policy document: a ppl:Policy (an XACML policy
// followed by ppl:DataHandlingPolicy*, ppl:DataHandlingPreferences? and
// ppl:StickyPolicy?) or a plain XACML 3.0 / 2.0 Policy or PolicySet (which
// then has no data handling part).
//
// Hostile documents are refused with an error wrapping ErrHostileXML
// (xmlsafe.Parse); documents that are not well-formed wrap
// xmlsafe.ErrMalformed; otherwise every problem found, in the XACML part
// and in the data handling parts, is reported in one *ValidationError
// (wrapping ErrInvalid) whose problems name the element, attribute, value
// and line at fault.
func Parse(data []byte, opts ...ParseOption) (*Document, error) {
	o := options(opts)
	xdoc, err := xmlsafe.Parse(data, o.limits)
	if err != nil {
		return nil, err
	}
	return ParseElement(xdoc.Root())
}

// ParseElement is Parse for an element already read (with xmlsafe.Parse,
// so that problems carry source lines).
func ParseElement(el *etree.Element) (*Document, error) {
	p := &parser{}
	doc := p.document(el, 0)
	if err := p.probs.Err(); err != nil {
		return nil, err
	}
	return doc, nil
}

// ParsePreferences reads a data subject's preferences: a document whose
// root is ppl:DataHandlingPreferences. Errors are as for Parse.
func ParsePreferences(data []byte, opts ...ParseOption) (*DataHandling, error) {
	o := options(opts)
	xdoc, err := xmlsafe.Parse(data, o.limits)
	if err != nil {
		return nil, err
	}
	p := &parser{}
	root := xdoc.Root()
	if !is(root, NSPPL, "DataHandlingPreferences") {
		p.add(root, "", "", "the root element of a preferences document must be ppl:DataHandlingPreferences (namespace %s)", NSPPL)
		return nil, p.probs.Err()
	}
	dh := p.dataHandling(root, 0)
	if err := p.probs.Err(); err != nil {
		return nil, err
	}
	return dh, nil
}

type parser struct {
	probs xmlsafe.Problems
}

func (p *parser) add(el *etree.Element, attr, value, format string, args ...any) {
	p.probs.Add(el, attr, value, format, args...)
}

// is reports whether el is the element local in namespace ns.
func is(el *etree.Element, ns, local string) bool {
	return el != nil && el.Tag == local && el.NamespaceURI() == ns
}

// prefixed names an expected element with its conventional prefix.
func prefixed(ns, local string) string {
	switch ns {
	case NSPPL:
		return "ppl:" + local
	case NSObligation:
		return "ob:" + local
	case NSSticky:
		return "sp:" + local
	}
	return local
}

// unexpected reports a child element that has no place in its parent.
func (p *parser) unexpected(c *etree.Element, parent string, expected string) {
	switch ns := c.NamespaceURI(); ns {
	case NSPPL, NSObligation, NSSticky:
		p.add(c, "", "", "unknown element %s in %s (expected %s)", prefixed(ns, c.Tag), parent, expected)
	case "":
		p.add(c, "", "", "element %s has no namespace; %s expects %s", c.Tag, parent, expected)
	default:
		p.add(c, "", "", "unexpected element in %s (namespace %s; expected %s)", parent, ns, expected)
	}
}

// leafText returns the trimmed text of an element that must hold text
// only.
func (p *parser) leafText(el *etree.Element) string {
	if len(el.ChildElements()) > 0 {
		p.add(el, "", "", "%s holds text only, not elements", el.FullTag())
	}
	return strings.TrimSpace(el.Text())
}

// empty checks that an element has no child elements and no text.
func (p *parser) empty(el *etree.Element) {
	if len(el.ChildElements()) > 0 || strings.TrimSpace(el.Text()) != "" {
		p.add(el, "", "", "%s must be empty", el.FullTag())
	}
}

// document parses a ppl:Policy or XACML Policy/PolicySet element.
func (p *parser) document(el *etree.Element, nesting int) *Document {
	if el == nil {
		p.probs = append(p.probs, Problem{Message: "no root element"})
		return nil
	}
	root, err := xacml.Parse(el)
	if err != nil {
		var ve *xmlsafe.ValidationError
		if errors.As(err, &ve) {
			p.probs = append(p.probs, ve.Problems...)
		} else {
			p.add(el, "", "", "%v", err)
		}
	}
	isPPL := is(el, NSPPL, "Policy")
	if !isPPL && el.NamespaceURI() == NSPPL {
		// xacml.Parse already said what the root should be.
		if el.Tag == "DataHandlingPreferences" && nesting == 0 {
			p.add(el, "", "", "this is a data handling preferences document (read it with ParsePreferences; "+
				"a data subject registers it at PUT /v1/subjects/me/preferences); a policy needs a ppl:Policy root")
		}
		return nil
	}
	doc := &Document{XACML: root}
	const order = "the data handling parts come after the XACML children, in the order ppl:DataHandlingPolicy*, ppl:DataHandlingPreferences?, ppl:StickyPolicy?"
	stage := 0 // 0: policies, 1: preferences seen, 2: sticky seen
	seenExt := false
	for _, c := range el.ChildElements() {
		ns := c.NamespaceURI()
		if xacml.IsXACMLNamespace(ns) {
			if seenExt {
				p.add(c, "", "", "XACML element %s after a data handling part: %s", c.Tag, order)
			}
			continue
		}
		seenExt = true
		if !isPPL {
			if ns == NSPPL || ns == NSObligation || ns == NSSticky {
				p.add(c, "", "", "data handling parts are only allowed in a ppl:Policy, not in a plain XACML %s", el.Tag)
			} else {
				p.unexpected(c, el.FullTag(), "XACML elements")
			}
			continue
		}
		switch {
		case is(c, NSPPL, "DataHandlingPolicy"):
			if stage > 0 {
				p.add(c, "", "", "ppl:DataHandlingPolicy out of order: %s", order)
			}
			if dh := p.dataHandling(c, nesting); dh != nil {
				doc.DataHandlingPolicies = append(doc.DataHandlingPolicies, *dh)
			}
		case is(c, NSPPL, "DataHandlingPreferences"):
			switch {
			case stage == 1:
				p.add(c, "", "", "a ppl:Policy has at most one ppl:DataHandlingPreferences")
			case stage > 1:
				p.add(c, "", "", "ppl:DataHandlingPreferences out of order: %s", order)
			}
			stage = max(stage, 1)
			if dh := p.dataHandling(c, nesting); dh != nil && doc.Preferences == nil {
				doc.Preferences = dh
			}
		case is(c, NSPPL, "StickyPolicy"):
			if stage == 2 {
				p.add(c, "", "", "a ppl:Policy has at most one ppl:StickyPolicy")
			}
			stage = 2
			if dh := p.dataHandling(c, nesting); dh != nil && doc.Sticky == nil {
				doc.Sticky = dh
			}
		default:
			p.unexpected(c, "ppl:Policy", "XACML elements, then ppl:DataHandlingPolicy, ppl:DataHandlingPreferences or ppl:StickyPolicy")
		}
	}
	if root == nil {
		return nil
	}
	return doc
}

// dataHandling parses the body of ppl:DataHandlingPolicy,
// ppl:DataHandlingPreferences and ppl:StickyPolicy.
func (p *parser) dataHandling(el *etree.Element, nesting int) *DataHandling {
	dh := &DataHandling{}
	if id := el.SelectAttr("PolicyId"); id != nil {
		dh.PolicyID = strings.TrimSpace(id.Value)
		if dh.PolicyID == "" {
			p.add(el, "PolicyId", id.Value, "PolicyId is empty; leave it out or give an identifier")
		}
	}
	name := prefixed(NSPPL, el.Tag)
	stage := 0
	for _, c := range el.ChildElements() {
		switch {
		case is(c, NSPPL, "AuthorizationsSet"):
			if stage >= 1 {
				p.add(c, "", "", "%s holds at most one ppl:AuthorizationsSet, before the ob:ObligationsSet", name)
			}
			stage = 1
			p.authorizations(c, &dh.Authorizations, nesting)
		case is(c, NSObligation, "ObligationsSet"):
			if stage >= 2 {
				p.add(c, "", "", "%s holds at most one ob:ObligationsSet", name)
			}
			stage = 2
			p.obligations(c, dh)
		default:
			p.unexpected(c, name, "ppl:AuthorizationsSet then ob:ObligationsSet")
		}
	}
	return dh
}

func (p *parser) authorizations(el *etree.Element, a *Authorizations, nesting int) {
	for _, c := range el.ChildElements() {
		switch {
		case is(c, NSPPL, "AuthzUseForPurpose"):
			n := 0
			for _, pe := range c.ChildElements() {
				if !is(pe, NSPPL, "Purpose") {
					p.unexpected(pe, "ppl:AuthzUseForPurpose", "ppl:Purpose")
					continue
				}
				n++
				if iri := p.purpose(pe); iri != "" && !slices.Contains(a.Purposes, iri) {
					a.Purposes = append(a.Purposes, iri)
				}
			}
			if n == 0 {
				p.add(c, "", "", "ppl:AuthzUseForPurpose needs at least one ppl:Purpose")
			}
		case is(c, NSPPL, "AuthzDownstreamUsage"):
			if a.Downstream != nil {
				p.add(c, "", "", "ppl:AuthorizationsSet holds at most one ppl:AuthzDownstreamUsage")
			}
			d := p.downstream(c, nesting)
			if a.Downstream == nil {
				a.Downstream = d
			}
		default:
			p.unexpected(c, "ppl:AuthorizationsSet", "ppl:AuthzUseForPurpose or ppl:AuthzDownstreamUsage")
		}
	}
}

// purpose reads a ppl:Purpose: an absolute IRI.
func (p *parser) purpose(el *etree.Element) string {
	iri := p.leafText(el)
	switch {
	case iri == "":
		p.add(el, "", "", "ppl:Purpose is empty; give a purpose IRI such as https://w3id.org/dpv#ServiceProvision")
		return ""
	case !IsAbsoluteIRI(iri):
		p.add(el, "", iri, "a purpose must be an absolute IRI, such as https://w3id.org/dpv#ServiceProvision")
		return ""
	}
	return iri
}

func (p *parser) downstream(el *etree.Element, nesting int) *Downstream {
	d := &Downstream{}
	switch at := el.SelectAttr("allowed"); {
	case at == nil:
		p.add(el, "allowed", "", `ppl:AuthzDownstreamUsage needs allowed="true" or allowed="false"`)
	default:
		switch strings.TrimSpace(at.Value) {
		case "true", "1":
			d.Allowed = true
		case "false", "0":
		default:
			p.add(el, "allowed", at.Value, `allowed must be "true" or "false"`)
		}
	}
	for _, c := range el.ChildElements() {
		isPolicy := is(c, NSPPL, "Policy") || (xacml.IsXACMLNamespace(c.NamespaceURI()) && (c.Tag == "Policy" || c.Tag == "PolicySet"))
		switch {
		case !isPolicy:
			p.unexpected(c, "ppl:AuthzDownstreamUsage", "one nested ppl:Policy")
		case d.Policy != nil:
			p.add(c, "", "", "ppl:AuthzDownstreamUsage holds at most one nested policy")
		case nesting+1 > MaxNestedPolicies:
			p.add(c, "", "", "downstream policies are nested more than %d deep", MaxNestedPolicies)
			return d
		default:
			d.Policy = p.document(c, nesting+1)
			if d.Policy == nil {
				d.Policy = &Document{} // problems reported; keep the slot taken
			}
		}
	}
	return d
}

func (p *parser) obligations(el *etree.Element, dh *DataHandling) {
	for _, c := range el.ChildElements() {
		if !is(c, NSObligation, "Obligation") {
			p.unexpected(c, "ob:ObligationsSet", "ob:Obligation")
			continue
		}
		if ob, ok := p.obligation(c); ok {
			dh.Obligations = append(dh.Obligations, ob)
		}
	}
}

// actionKinds are the PPL actions by element name.
var actionKinds = map[string]ActionKind{
	string(ActionDeletePersonalData):    ActionDeletePersonalData,
	string(ActionAnonymizePersonalData): ActionAnonymizePersonalData,
	string(ActionNotifyDataSubject):     ActionNotifyDataSubject,
	string(ActionLog):                   ActionLog,
	string(ActionSecureLog):             ActionSecureLog,
}

const actionList = "ob:ActionDeletePersonalData, ob:ActionAnonymizePersonalData, ob:ActionNotifyDataSubject, ob:ActionLog or ob:ActionSecureLog"

func (p *parser) obligation(el *etree.Element) (Obligation, bool) {
	var ob Obligation
	before := len(p.probs)
	if id := el.SelectAttr("ObligationId"); id != nil {
		ob.ID = strings.TrimSpace(id.Value)
		if ob.ID == "" {
			p.add(el, "ObligationId", id.Value, "ObligationId is empty; leave it out or give an identifier")
		}
	}
	var sawTriggers, sawAction bool
	for _, c := range el.ChildElements() {
		switch {
		case is(c, NSObligation, "TriggersSet"):
			if sawTriggers {
				p.add(c, "", "", "an ob:Obligation holds one ob:TriggersSet")
				continue
			}
			if sawAction {
				p.add(c, "", "", "ob:TriggersSet must come before the action")
			}
			sawTriggers = true
			ob.Triggers = p.triggers(c)
		case c.NamespaceURI() == NSObligation && actionKinds[c.Tag] != "":
			if sawAction {
				p.add(c, "", "", "an ob:Obligation holds exactly one action; %s is a second one", prefixed(NSObligation, c.Tag))
				continue
			}
			sawAction = true
			ob.Action = p.action(c, actionKinds[c.Tag])
		default:
			p.unexpected(c, "ob:Obligation", "ob:TriggersSet then one of "+actionList)
		}
	}
	if !sawTriggers {
		p.add(el, "", "", "ob:Obligation has no ob:TriggersSet (when should the action happen?)")
	}
	if !sawAction {
		p.add(el, "", "", "ob:Obligation has no action: add one of %s", actionList)
	}
	return ob, len(p.probs) == before
}

// triggerKinds are the PPL triggers by element name.
var triggerKinds = map[string]TriggerKind{
	string(TriggerAtTime):                         TriggerAtTime,
	string(TriggerPeriodic):                       TriggerPeriodic,
	string(TriggerPersonalDataAccessedForPurpose): TriggerPersonalDataAccessedForPurpose,
	string(TriggerPersonalDataSent):               TriggerPersonalDataSent,
	string(TriggerPersonalDataDeleted):            TriggerPersonalDataDeleted,
	string(TriggerDataSubjectAccess):              TriggerDataSubjectAccess,
	string(TriggerOnViolation):                    TriggerOnViolation,
}

// triggerChildren lists, per trigger, its children in order: the local
// name, its namespace and whether it is required and repeatable.
type childSpec struct {
	ns, local          string
	required, multiple bool
}

var (
	specStart    = childSpec{NSObligation, "Start", true, false}
	specEnd      = childSpec{NSObligation, "End", false, false}
	specMaxDelay = childSpec{NSObligation, "MaxDelay", false, false}
	specPeriod   = childSpec{NSObligation, "Period", true, false}
	specPurpose  = childSpec{NSPPL, "Purpose", false, true}
	specID       = childSpec{NSObligation, "Id", false, false}
	specURL      = childSpec{NSObligation, "url", false, false}
)

var triggerChildren = map[TriggerKind][]childSpec{
	TriggerAtTime:                         {specStart, specMaxDelay},
	TriggerPeriodic:                       {specStart, specEnd, specMaxDelay, specPeriod},
	TriggerPersonalDataAccessedForPurpose: {specPurpose, specMaxDelay},
	TriggerPersonalDataSent:               {specID, specMaxDelay},
	TriggerPersonalDataDeleted:            {specMaxDelay},
	TriggerDataSubjectAccess:              {specURL},
	TriggerOnViolation:                    {specMaxDelay},
}

func specNames(specs []childSpec) string {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = prefixed(s.ns, s.local)
		if s.multiple {
			names[i] += "*"
		} else if !s.required {
			names[i] += "?"
		}
	}
	return strings.Join(names, ", ")
}

func (p *parser) triggers(el *etree.Element) []Trigger {
	var out []Trigger
	for _, c := range el.ChildElements() {
		kind := triggerKinds[c.Tag]
		if c.NamespaceURI() != NSObligation || kind == "" {
			p.unexpected(c, "ob:TriggersSet", "a PPL trigger such as ob:TriggerAtTime or ob:TriggerPersonalDataAccessedForPurpose")
			continue
		}
		out = append(out, p.trigger(c, kind))
	}
	if len(out) == 0 && len(el.ChildElements()) == 0 {
		p.add(el, "", "", "ob:TriggersSet needs at least one trigger")
	}
	return out
}

func (p *parser) trigger(el *etree.Element, kind TriggerKind) Trigger {
	tr := Trigger{Kind: kind}
	specs := triggerChildren[kind]
	name := prefixed(NSObligation, el.Tag)
	seen := make([]bool, len(specs))
	pos := 0
	for _, c := range el.ChildElements() {
		idx := -1
		for i, s := range specs {
			if is(c, s.ns, s.local) {
				idx = i
				break
			}
		}
		if idx < 0 {
			p.unexpected(c, name, specNames(specs))
			continue
		}
		s := specs[idx]
		switch {
		case seen[idx] && !s.multiple:
			p.add(c, "", "", "%s holds at most one %s", name, prefixed(s.ns, s.local))
			continue
		case idx < pos-1:
			p.add(c, "", "", "%s out of order: %s holds %s in this order", prefixed(s.ns, s.local), name, specNames(specs))
			continue
		}
		seen[idx] = true
		pos = idx + 1
		switch s.local {
		case "Start":
			tr.Start = p.start(c, true)
		case "End":
			tr.End = p.start(c, false)
		case "MaxDelay":
			tr.MaxDelay = p.durationIn(c, false)
		case "Period":
			tr.Period = p.durationIn(c, true)
		case "Purpose":
			if iri := p.purpose(c); iri != "" && !slices.Contains(tr.Purposes, iri) {
				tr.Purposes = append(tr.Purposes, iri)
			}
		case "Id":
			tr.ID = p.leafText(c)
			if tr.ID == "" {
				p.add(c, "", "", "ob:Id is empty; leave it out to match any recipient")
			}
		case "url":
			tr.URL = p.leafText(c)
			if !isHTTPURL(tr.URL) {
				p.add(c, "", tr.URL, "ob:url must be an absolute http or https URL")
			}
		}
	}
	for i, s := range specs {
		if s.required && !seen[i] {
			p.add(el, "", "", "%s needs %s", name, prefixed(s.ns, s.local))
		}
	}
	if kind == TriggerPeriodic && tr.Start != nil && tr.End != nil && !tr.Start.Now && !tr.End.At.After(tr.Start.At) {
		p.add(el, "", tr.End.At.Format(time.RFC3339Nano), "ob:End must be after ob:Start")
	}
	return tr
}

// start reads ob:Start (exactly one of ob:StartNow and ob:DateAndTime) or
// ob:End (ob:DateAndTime only).
func (p *parser) start(el *etree.Element, allowNow bool) *Start {
	var st *Start
	want := "exactly one of ob:StartNow or ob:DateAndTime"
	if !allowNow {
		want = "one ob:DateAndTime"
	}
	n := 0
	for _, c := range el.ChildElements() {
		switch {
		case allowNow && is(c, NSObligation, "StartNow"):
			n++
			p.empty(c)
			st = &Start{Now: true}
		case is(c, NSObligation, "DateAndTime"):
			n++
			s := p.leafText(c)
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				p.add(c, "", s, "ob:DateAndTime must be an RFC 3339 date and time, like 2026-12-31T23:59:59Z")
				continue
			}
			st = &Start{At: t}
		default:
			p.unexpected(c, prefixed(NSObligation, el.Tag), want)
		}
	}
	if n != 1 {
		p.add(el, "", "", "%s holds %s (found %d)", prefixed(NSObligation, el.Tag), want, n)
		return nil
	}
	return st
}

// durationIn reads ob:MaxDelay or ob:Period: one ob:Duration holding an
// xs:duration that is not negative (and not zero for a period).
func (p *parser) durationIn(el *etree.Element, positive bool) *Duration {
	var out *Duration
	n := 0
	for _, c := range el.ChildElements() {
		if !is(c, NSObligation, "Duration") {
			p.unexpected(c, prefixed(NSObligation, el.Tag), "one ob:Duration")
			continue
		}
		n++
		s := p.leafText(c)
		d, err := ParseDuration(s)
		switch {
		case err != nil:
			p.add(c, "", s, "%s", strings.TrimPrefix(err.Error(), ErrDuration.Error()+" "+strconv.Quote(s)+": ")+" (an xs:duration, like PT30S, P30D or P1Y2M)")
		case d.Negative:
			p.add(c, "", s, "a %s cannot be negative", prefixed(NSObligation, el.Tag))
		case positive && d.IsZero():
			p.add(c, "", s, "a %s must be longer than zero", prefixed(NSObligation, el.Tag))
		default:
			out = &d
		}
	}
	if n != 1 {
		p.add(el, "", "", "%s holds exactly one ob:Duration (found %d)", prefixed(NSObligation, el.Tag), n)
		return nil
	}
	return out
}

func (p *parser) action(el *etree.Element, kind ActionKind) Action {
	a := Action{Kind: kind}
	if kind != ActionNotifyDataSubject {
		p.empty(el)
		return a
	}
	var sawMedia, sawAddress bool
	var addrEl *etree.Element
	for _, c := range el.ChildElements() {
		switch {
		case is(c, NSObligation, "Media"):
			if sawMedia || sawAddress {
				p.add(c, "", "", "ob:ActionNotifyDataSubject holds one ob:Media, then one ob:Address")
				continue
			}
			sawMedia = true
			a.Media = p.leafText(c)
			switch a.Media {
			case MediaInbox, MediaEmail, MediaWebhook:
			default:
				p.add(c, "", a.Media, "ob:Media must be inbox, email or webhook")
			}
		case is(c, NSObligation, "Address"):
			if sawAddress {
				p.add(c, "", "", "ob:ActionNotifyDataSubject holds one ob:Address")
				continue
			}
			if !sawMedia {
				p.add(c, "", "", "ob:Address must come after ob:Media")
			}
			sawAddress = true
			addrEl = c
			a.Address = p.leafText(c)
		default:
			p.unexpected(c, "ob:ActionNotifyDataSubject", "ob:Media then ob:Address")
		}
	}
	if !sawMedia {
		p.add(el, "", "", "ob:ActionNotifyDataSubject needs ob:Media (inbox, email or webhook)")
	}
	if !sawAddress {
		p.add(el, "", "", "ob:ActionNotifyDataSubject needs ob:Address (who is notified)")
		return a
	}
	if msg := checkAddress(a.Media, a.Address); msg != "" {
		p.add(addrEl, "", a.Address, "%s", msg)
	}
	return a
}

// checkAddress returns why address is not valid for media, or "".
func checkAddress(media, address string) string {
	if address == "" {
		return "ob:Address is empty"
	}
	switch media {
	case MediaEmail:
		m, err := mail.ParseAddress(address)
		if err != nil || m.Address != address || m.Name != "" {
			return "for email, ob:Address must be a plain email address like alice@example.org"
		}
	case MediaWebhook:
		if !isHTTPURL(address) {
			return "for webhook, ob:Address must be an absolute http or https URL"
		}
	default:
		for _, r := range address {
			if unicode.IsControl(r) || unicode.IsSpace(r) {
				return "for inbox, ob:Address is the identity notified; it cannot hold spaces or control characters"
			}
		}
	}
	return ""
}

func isHTTPURL(s string) bool {
	if s == "" || strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Hostname() != ""
}
