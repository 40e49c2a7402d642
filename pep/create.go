package pep

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/stickypolicy/sticky/pdp"
	"github.com/stickypolicy/sticky/policies"
)

// CreateInput is a record to store.
type CreateInput struct {
	Subject     string // whose data; empty = the caller (a data subject)
	ContentType string // default application/octet-stream
	Data        []byte
	Policy      []byte   // the PPL policy XML
	EncryptFor  []string // identities to IBE-encrypt Data to before storing
	Category    string   // optional category label, matched by operator rules (rights.go)
}

// Create stores a record under its sticky policy.
//
// A data subject stores its own data: its policy's DataHandlingPreferences
// (or StickyPolicy) become the sticky policy. A controller names the subject:
// the subject's registered preferences are matched against the controller's
// DataHandlingPolicy; on mismatch nothing is stored and the error is a
// *MismatchError; otherwise the agreed terms are stored as the policy's
// ppl:StickyPolicy. The record, its "stored" event and the obligations that
// event triggers (e.g. the retention deletion) are written in one transaction.
func (s *Service) Create(ctx context.Context, p Principal, in CreateInput) (Record, error) {
	subject := in.Subject
	switch p.Role {
	case RoleSubject:
		if subject == "" {
			subject = p.Name
		}
		if subject != p.Name {
			return Record{}, deny("a data subject may store only its own data (subject %q is not %q)", subject, p.Name)
		}
	case RoleController:
		if subject == "" {
			return Record{}, fmt.Errorf("%w: a controller must name the data subject (the subject part)", ErrInvalidInput)
		}
	default:
		return Record{}, deny("an %s may not store data", p.Role)
	}
	if in.Policy == nil {
		return Record{}, fmt.Errorf("%w: the policy part is missing", ErrInvalidInput)
	}
	xml := in.Policy
	var pol *pdp.StickyPolicy
	var err error
	if p.Role == RoleController {
		doc, err := s.parsePolicy(in.Policy)
		if err != nil {
			return Record{}, err
		}
		if xml, err = s.agree(ctx, subject, doc); err != nil {
			return Record{}, err
		}
		if pol, err = s.compileXML(xml); err != nil {
			return Record{}, fmt.Errorf("the agreed sticky policy: %w", err)
		}
	} else if pol, err = s.compileXML(xml); err != nil {
		return Record{}, err
	}
	data := in.Data
	if data == nil {
		data = []byte{}
	}
	encrypted := false
	if len(in.EncryptFor) > 0 {
		if data, err = s.encrypt(data, in.EncryptFor); err != nil {
			return Record{}, err
		}
		encrypted = true
	} else if s.ibe != nil && s.ibe.IsCiphertext(data) {
		encrypted = true // encrypted offline by the owner (sticky encrypt)
	}
	id, err := s.newID()
	if err != nil {
		return Record{}, err
	}
	now := s.clock.Now().UTC()
	ct := in.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	rec := Record{
		ID: id, Subject: subject, StoredBy: p.Name, ContentType: ct,
		Policy: bytes.Clone(xml), PolicyVersion: 1, PolicyHash: policyHash(xml),
		Encrypted: encrypted, StoredAt: now, DeleteAt: deadline(pol, now), Size: int64(len(data)),
	}
	ev := EventInput{PII: id, Subject: subject, Time: now, Type: EventStored, Principal: p.Name,
		Decision: "Permit", PolicyHash: rec.PolicyHash}
	err = s.write(ctx, rec, pol, ev, func(ctx context.Context, tx Tx) error {
		if err := tx.InsertRecord(ctx, rec, data); err != nil {
			return err
		}
		return setCategory(ctx, tx, rec.ID, in.Category) // rights.go
	}, false)
	if err != nil {
		return Record{}, err
	}
	s.cache.put(id, 1, pol)
	return rec, nil
}

// agree matches the subject's registered preferences against the
// controller's DataHandlingPolicy and returns the policy document with the
// agreed terms as its ppl:StickyPolicy.
func (s *Service) agree(ctx context.Context, subject string, doc *policies.Document) ([]byte, error) {
	sp, err := s.store.Principal(ctx, subject)
	if isNotFound(err) || (err == nil && sp.Role != RoleSubject) {
		return nil, fmt.Errorf("%w: %q is not a registered data subject", ErrInvalidInput, subject)
	}
	if err != nil {
		return nil, err
	}
	if len(doc.DataHandlingPolicies) == 0 {
		return nil, fmt.Errorf("%w: a controller's policy must contain a ppl:DataHandlingPolicy saying what it will do with the data", ErrInvalidInput)
	}
	prefsXML, err := s.store.Preferences(ctx, subject)
	if isNotFound(err) {
		return nil, &MismatchError{Subject: subject, Mismatches: []Mismatch{{
			Element: "ppl:DataHandlingPreferences",
			Message: fmt.Sprintf("%s has registered no data handling preferences (PUT /v1/subjects/me/preferences)", subject),
		}}}
	}
	if err != nil {
		return nil, err
	}
	prefs, err := policies.ParsePreferences(prefsXML)
	if err != nil {
		return nil, fmt.Errorf("the registered preferences of %s: %w", subject, err)
	}
	res := policies.Match(prefs, &doc.DataHandlingPolicies[0], s.tax)
	if len(res.Mismatches) > 0 || res.Sticky == nil {
		return nil, &MismatchError{Subject: subject, Mismatches: convertMismatches(res.Mismatches)}
	}
	doc.Sticky = res.Sticky
	xml, err := doc.Marshal()
	if err != nil {
		return nil, fmt.Errorf("writing the agreed sticky policy: %w", err)
	}
	return xml, nil
}

func convertMismatches(ms []policies.Mismatch) []Mismatch {
	out := make([]Mismatch, 0, len(ms))
	for _, m := range ms {
		out = append(out, Mismatch{Element: m.Element, Preference: m.Preference, Policy: m.Policy, Message: m.Message})
	}
	return out
}

// SetPreferences registers a data subject's DataHandlingPreferences.
func (s *Service) SetPreferences(ctx context.Context, p Principal, xml []byte) error {
	if p.Role != RoleSubject {
		return deny("only a data subject registers data handling preferences")
	}
	if err := s.checkXML("preferences document", xml); err != nil {
		return err
	}
	if _, err := policies.ParsePreferences(xml); err != nil {
		return invalidDocument("preferences document", err)
	}
	return s.writeTx(ctx, func(ctx context.Context, tx Tx) error {
		return tx.SetPreferences(ctx, p.Name, bytes.Clone(xml), s.clock.Now())
	})
}

// Preferences returns a data subject's registered preferences XML.
func (s *Service) Preferences(ctx context.Context, p Principal) ([]byte, error) {
	if p.Role != RoleSubject {
		return nil, deny("only a data subject has data handling preferences")
	}
	xml, err := s.store.Preferences(ctx, p.Name)
	if isNotFound(err) {
		return nil, fmt.Errorf("%w: no preferences registered", ErrNotFound)
	}
	return xml, err
}

// splitIdentities splits a comma-separated identity list.
func splitIdentities(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// SplitIdentities splits encrypt_for's comma-separated identities and checks
// each.
func SplitIdentities(s string) ([]string, error) {
	ids := splitIdentities(s)
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w: encrypt_for names no identity", ErrInvalidInput)
	}
	for _, id := range ids {
		if err := ValidateName(id); err != nil {
			return nil, fmt.Errorf("encrypt_for: %w", err)
		}
	}
	return ids, nil
}
