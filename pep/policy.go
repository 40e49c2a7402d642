package pep

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/stickypolicy/sticky/pdp"
	"github.com/stickypolicy/sticky/policies"
)

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// errNoRecord answers requests on an id that names no record.
var errNoRecord = fmt.Errorf("%w: no such record (unknown or deleted)", ErrNotFound)

// noRecord turns the store's bare ErrNotFound into errNoRecord.
func noRecord(err error) error {
	if err == ErrNotFound {
		return errNoRecord
	}
	return err
}

func policyHash(xml []byte) string {
	h := sha256.Sum256(xml)
	return hex.EncodeToString(h[:])
}

// checkXML applies the size limit and refuses an empty document.
func (s *Service) checkXML(what string, xml []byte) error {
	if len(xml) > s.maxPolicy {
		return fmt.Errorf("%w: the %s is %d bytes, over the limit of %d bytes", ErrTooLarge, what, len(xml), s.maxPolicy)
	}
	if len(bytes.TrimSpace(xml)) == 0 {
		return fmt.Errorf("%w: the %s is empty", ErrInvalidInput, what)
	}
	return nil
}

// parsePolicy parses a policy document within the size limit.
func (s *Service) parsePolicy(xml []byte) (*policies.Document, error) {
	if err := s.checkXML("policy", xml); err != nil {
		return nil, err
	}
	doc, err := policies.Parse(xml)
	if err != nil {
		return nil, invalidDocument("policy", err)
	}
	return doc, nil
}

// invalidDocument classifies a parse failure of a document the caller sent:
// always bad input, keeping the *policies.ValidationError for its problems.
func invalidDocument(what string, err error) error {
	if errors.Is(err, policies.ErrInvalid) || errors.Is(err, policies.ErrHostileXML) {
		return fmt.Errorf("the %s is not valid: %w", what, err)
	}
	return fmt.Errorf("%w: the %s is not valid: %w", ErrInvalidInput, what, err)
}

// compile compiles a parsed document into a sticky policy; the document must
// carry data handling terms.
func (s *Service) compile(doc *policies.Document) (*pdp.StickyPolicy, error) {
	if doc.Terms() == nil {
		return nil, fmt.Errorf("%w: the policy has no data handling part (ppl:DataHandlingPolicy, ppl:DataHandlingPreferences or ppl:StickyPolicy)", ErrInvalidInput)
	}
	pol, err := pdp.CompileSticky(doc, pdp.WithTaxonomy(s.tax))
	if err != nil {
		return nil, fmt.Errorf("the policy cannot be compiled: %w", err)
	}
	return pol, nil
}

// errStoredPolicy: a stored policy no longer parses or compiles (e.g. after
// an engine change). Its details are not given: they may quote the policy,
// and internal errors are logged.
var errStoredPolicy = errors.New("the stored policy of this record cannot be compiled")

// policyFor returns the record's compiled policy from the cache, compiling
// and caching it on a miss.
func (s *Service) policyFor(rec Record) (*pdp.StickyPolicy, error) {
	if p, ok := s.cache.get(rec.ID, rec.PolicyVersion); ok {
		return p, nil
	}
	if p, ok := s.compiled.get(rec.PolicyHash); ok && rec.PolicyHash != "" {
		s.cache.put(rec.ID, rec.PolicyVersion, p)
		return p, nil
	}
	doc, err := policies.Parse(rec.Policy)
	if err != nil {
		return nil, errStoredPolicy
	}
	p, err := pdp.CompileSticky(doc, pdp.WithTaxonomy(s.tax))
	if err != nil {
		return nil, errStoredPolicy
	}
	s.cache.put(rec.ID, rec.PolicyVersion, p)
	if rec.PolicyHash != "" {
		s.compiled.put(rec.PolicyHash, p)
	}
	return p, nil
}

// compileXML parses, validates and compiles a policy document the caller
// sent, reusing the compiled policy of identical XML.
func (s *Service) compileXML(xml []byte) (*pdp.StickyPolicy, error) {
	if err := s.checkXML("policy", xml); err != nil {
		return nil, err
	}
	hash := policyHash(xml)
	if p, ok := s.compiled.get(hash); ok {
		return p, nil
	}
	doc, err := s.parsePolicy(xml)
	if err != nil {
		return nil, err
	}
	p, err := s.compile(doc)
	if err != nil {
		return nil, err
	}
	s.compiled.put(hash, p)
	return p, nil
}

// deadline returns the retention deadline of a record stored at storedAt
// under p (zero when none).
func deadline(p *pdp.StickyPolicy, storedAt time.Time) time.Time {
	if d, ok := p.Deadline(storedAt); ok {
		return d.UTC()
	}
	return time.Time{}
}

// Policy returns a record's sticky policy XML and metadata: for its data
// subject or an admin.
func (s *Service) Policy(ctx context.Context, p Principal, id string) (Record, error) {
	rec, err := s.getRecord(ctx, id)
	if err != nil {
		return Record{}, err
	}
	if rec.Subject != p.Name && p.Role != RoleAdmin {
		return Record{}, deny("only the record's data subject or an admin may read its policy")
	}
	return rec, nil
}

// UpdatePolicy replaces a record's sticky policy (its data subject only). The
// new policy is in force for the very next request. It returns the updated
// record.
func (s *Service) UpdatePolicy(ctx context.Context, p Principal, id string, xml []byte) (Record, error) {
	return retried(func() (Record, error) {
		rec, err := s.getRecord(ctx, id)
		if err != nil {
			return Record{}, err
		}
		now := s.clock.Now()
		if !mayUpdate(p, rec) {
			return Record{}, s.logDenial(ctx, rec, p, "", denyUpdate)
		}
		pol, err := s.compileXML(xml)
		if err != nil {
			return Record{}, err
		}
		next := rec
		next.Policy = bytes.Clone(xml)
		next.PolicyVersion = rec.PolicyVersion + 1
		next.PolicyHash = policyHash(xml)
		next.DeleteAt = deadline(pol, rec.StoredAt)
		ev := permitted(next, EventPolicyUpdated, p.Name, now)
		err = s.commit(ctx, rec, pol, ev, func(ctx context.Context, tx Tx) error {
			if err := tx.UpdatePolicy(ctx, id, next.Policy, next.PolicyVersion, next.PolicyHash, next.DeleteAt, now); err != nil {
				return err
			}
			return cancelTimeDriven(ctx, tx, id, now) // the new policy plans its own (policy_updated)
		})
		if err != nil {
			return Record{}, err
		}
		s.cache.put(id, next.PolicyVersion, pol)
		return next, nil
	})
}

func (s *Service) getRecord(ctx context.Context, id string) (Record, error) {
	r, err := s.store.Record(ctx, id)
	return r, noRecord(err)
}

func (s *Service) getRecordData(ctx context.Context, id string) (Record, []byte, error) {
	r, b, err := s.store.RecordData(ctx, id)
	return r, b, noRecord(err)
}

func (s *Service) getOwner(ctx context.Context, id string) (string, bool, error) {
	o, d, err := s.store.Owner(ctx, id)
	return o, d, noRecord(err)
}
