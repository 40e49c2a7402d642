package pep

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/pdp"
)

// SystemPrincipal is the principal of events the server causes itself
// (retention deletion).
const SystemPrincipal = "sticky"

// List returns the records p may see: a data subject its own, a controller
// those its policies let it read for at least one of their purposes (or that
// were disclosed to it), an admin every record (metadata only). Records past
// their retention deadline are not listed.
func (s *Service) List(ctx context.Context, p Principal) ([]Record, error) {
	now := s.clock.Now()
	var recs []Record
	var err error
	switch p.Role {
	case RoleSubject:
		recs, err = s.store.RecordsBySubject(ctx, p.Name)
	case RoleAdmin:
		lister, ok := s.store.(interface {
			AllRecords(ctx context.Context) ([]Record, error)
		})
		if !ok {
			return nil, fmt.Errorf("%w: this store cannot list every record", ErrUnavailable)
		}
		recs, err = lister.AllRecords(ctx)
	default:
		recs, err = s.store.RecordCandidates(ctx, p.Name)
	}
	if err != nil {
		return nil, err
	}
	out := recs[:0]
	for _, r := range recs {
		if !r.DeleteAt.IsZero() && !now.Before(r.DeleteAt) {
			continue
		}
		if p.Role == RoleController {
			ok, err := s.mayUse(ctx, p, r, now)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// mayUse reports whether p may read r for at least one of its allowed
// purposes.
func (s *Service) mayUse(ctx context.Context, p Principal, r Record, now time.Time) (bool, error) {
	pol, err := s.policyFor(r)
	if err != nil {
		return false, nil // a record whose policy no longer compiles is served to nobody
	}
	terms := pol.Terms()
	if terms == nil {
		return false, nil
	}
	for _, purpose := range terms.Authorizations.Purposes {
		a, err := s.decideRead(ctx, p, r, pol, purpose, now)
		if err != nil {
			return false, err
		}
		if a.permitted() {
			return true, nil
		}
	}
	return false, nil
}

// Delete erases a record (its data subject or an admin): the row and its
// bytes are gone; its events stay.
func (s *Service) Delete(ctx context.Context, p Principal, id string) error {
	return retriedErr(func() error {
		rec, err := s.getRecord(ctx, id)
		if err != nil {
			return err
		}
		if !mayDelete(p, rec) {
			return s.logDenial(ctx, rec, p, "", denyDelete)
		}
		return s.eraseOrBin(ctx, rec, p.Name)
	})
}

// Who may change a record's policy or delete it, as Decide, UpdatePolicy
// and Delete say it.
const (
	denyUpdate = "only the record's data subject may change its policy"
	denyDelete = "only the record's data subject or an admin may delete it"
)

func mayUpdate(p Principal, rec Record) bool { return rec.Subject == p.Name }

func mayDelete(p Principal, rec Record) bool { return rec.Subject == p.Name || p.Role == RoleAdmin }

func (s *Service) erase(ctx context.Context, rec Record, by, reason string) error {
	ev := permitted(rec, EventDeleted, by, s.clock.Now())
	ev.Reason = reason
	err := s.commit(ctx, rec, s.policyOrNil(rec), ev, func(ctx context.Context, tx Tx) error {
		if err := tx.DeleteRecord(ctx, rec.ID, ev.Time); err != nil {
			return err
		}
		return cancelTimeDriven(ctx, tx, rec.ID, ev.Time)
	})
	if err == nil {
		s.cache.remove(rec.ID)
	}
	return err
}

// DeleteForRetention erases a record whose retention deadline has come
// (obligations.Deleter). A record already gone is not an error.
func (s *Service) DeleteForRetention(ctx context.Context, pii string) error {
	return retriedErr(func() error {
		rec, err := s.getRecord(ctx, pii)
		if isNotFound(err) {
			return s.purgeBinned(ctx, pii) // a record in its restore window (pep/restore.go)
		}
		if err != nil {
			return err
		}
		if err = s.erase(ctx, rec, SystemPrincipal, "retention deadline"); isNotFound(err) {
			return nil
		}
		return err
	})
}

var _ obligations.Deleter = (*Service)(nil)

// Disclose shares a record downstream: p, a controller that holds access for
// purpose, passes it to recipient. It is decided by the sticky decision with
// pdp.ActionDisclose (AuthzDownstreamUsage and its nested policy). On Permit
// the disclosure is recorded and the recipient may read the record under the
// same sticky policy (see decideRead).
func (s *Service) Disclose(ctx context.Context, p Principal, id, recipient, purpose string) (Disclosure, error) {
	recipient = strings.TrimSpace(recipient)
	if recipient == "" {
		return Disclosure{}, fmt.Errorf("%w: the recipient is missing", ErrInvalidInput)
	}
	if err := ValidateName(recipient); err != nil {
		return Disclosure{}, fmt.Errorf("recipient: %w", err)
	}
	if purpose == "" {
		return Disclosure{}, fmt.Errorf("%w: the purpose of the disclosure is missing", ErrInvalidInput)
	}
	return retried(func() (Disclosure, error) {
		rec, err := s.getRecord(ctx, id)
		if err != nil {
			return Disclosure{}, err
		}
		if p.Role != RoleController {
			return Disclosure{}, s.logResult(ctx, rec, p, purpose, recipient, pdp.Result{Decision: pdp.Deny,
				Reason: "only a controller holding access may disclose data downstream"})
		}
		pol, err := s.policyFor(rec)
		if err != nil {
			return Disclosure{}, err
		}
		now := s.clock.Now()
		a, err := s.decideRead(ctx, p, rec, pol, purpose, now)
		if err != nil {
			return Disclosure{}, err
		}
		if !a.permitted() {
			return Disclosure{}, s.logResult(ctx, rec, p, purpose, recipient, pdp.Result{Decision: a.result.Decision,
				Reason: "the discloser holds no access: " + a.result.Reason})
		}
		res := decideDisclose(pol, rec, p, a, purpose, recipient, now)
		if res.Decision != pdp.Permit {
			if res.Reason == "" {
				res.Reason = fmt.Sprintf("the policy does not permit disclosing this record to %s", recipient)
			}
			return Disclosure{}, s.logResult(ctx, rec, p, purpose, recipient, res)
		}
		d := Disclosure{PII: rec.ID, Recipient: recipient, Purpose: purpose, By: p.Name, Time: now.UTC()}
		ev := permitted(rec, EventDisclosed, p.Name, now)
		ev.Purpose, ev.Recipient = purpose, recipient
		err = s.commit(ctx, rec, pol, ev, func(ctx context.Context, tx Tx) error {
			return tx.InsertDisclosure(ctx, d)
		})
		if err != nil {
			return Disclosure{}, err
		}
		return d, nil
	})
}

// decideDisclose is the sticky decision on p, holding access a to rec for
// purpose, disclosing it to recipient at now. A recipient of an earlier
// disclosure is decided as its discloser (a.via).
func decideDisclose(pol *pdp.StickyPolicy, rec Record, p Principal, a access, purpose, recipient string, now time.Time) pdp.Result {
	subject := p.Name
	if a.via != "" {
		subject = a.via
	}
	return pol.Decide(pdp.AccessRequest{Subject: subject, Roles: roleLists[RoleController], Resource: rec.ID,
		Action: pdp.ActionDisclose, Purpose: purpose, Recipient: recipient, Time: now, StoredAt: rec.StoredAt})
}

// Events returns a record's event log, oldest first (its data subject or an
// admin), also after the record was deleted.
func (s *Service) Events(ctx context.Context, p Principal, id string) ([]Event, error) {
	owner, _, err := s.getOwner(ctx, id)
	if err != nil {
		return nil, err
	}
	if owner != p.Name && p.Role != RoleAdmin {
		return nil, deny("only the record's data subject or an admin may read its events")
	}
	return s.store.Events(ctx, id)
}

// Notifications returns p's inbox, oldest first.
func (s *Service) Notifications(ctx context.Context, p Principal) ([]obligations.Notification, error) {
	inbox, ok := s.store.(Inbox)
	if !ok {
		return nil, fmt.Errorf("%w: this store keeps no notifications", ErrUnavailable)
	}
	return inbox.Notifications(ctx, p.Name)
}

// DecisionInput is a decision-only request.
type DecisionInput struct {
	PII       string
	Purpose   string
	Action    pdp.Action // default read
	Recipient string     // for disclose
}

// Decide answers what p's request would get, without data and without an
// event.
func (s *Service) Decide(ctx context.Context, p Principal, in DecisionInput) (pdp.Result, error) {
	if in.PII == "" {
		return pdp.Result{}, fmt.Errorf("%w: pii is missing", ErrInvalidInput)
	}
	if in.Action == "" {
		in.Action = pdp.ActionRead
	}
	rec, err := s.getRecord(ctx, in.PII)
	if err != nil {
		return pdp.Result{}, err
	}
	now := s.clock.Now()
	switch in.Action {
	case pdp.ActionRead, pdp.ActionDisclose:
	case pdp.ActionUpdate:
		if mayUpdate(p, rec) {
			return pdp.Result{Decision: pdp.Permit}, nil
		}
		return pdp.Result{Decision: pdp.Deny, Reason: denyUpdate}, nil
	case pdp.ActionDelete:
		if mayDelete(p, rec) {
			return pdp.Result{Decision: pdp.Permit}, nil
		}
		return pdp.Result{Decision: pdp.Deny, Reason: denyDelete}, nil
	default:
		return pdp.Result{}, fmt.Errorf("%w: unknown action %q (want read, disclose, update or delete)", ErrInvalidInput, in.Action)
	}
	pol, err := s.policyFor(rec)
	if err != nil {
		return pdp.Result{}, err
	}
	a, err := s.decideRead(ctx, p, rec, pol, in.Purpose, now)
	if err != nil || in.Action == pdp.ActionRead || !a.permitted() {
		return a.result, err
	}
	if in.Recipient == "" {
		return pdp.Result{}, fmt.Errorf("%w: recipient is missing (action disclose)", ErrInvalidInput)
	}
	if p.Role != RoleController {
		return pdp.Result{Decision: pdp.Deny, Reason: "only a controller holding access may disclose data downstream"}, nil
	}
	return decideDisclose(pol, rec, p, a, in.Purpose, in.Recipient, now), nil
}
