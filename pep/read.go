package pep

import (
	"context"
	"fmt"
	"time"

	"github.com/stickypolicy/sticky/pdp"
)

var roleLists = map[Role][]string{
	RoleSubject:    {string(RoleSubject)},
	RoleController: {string(RoleController)},
	RoleAdmin:      {string(RoleAdmin)},
}

// errPurposeRequired: a use by someone other than the data subject must
// declare its purpose.
var errPurposeRequired = fmt.Errorf("%w: declare the purpose of this use with the X-Purpose header or the purpose query parameter", ErrInvalidInput)

// access is a decision on a use of a record.
type access struct {
	result    pdp.Result
	eventType string // accessed, subject_access or denied
	via       string // the discloser, when access comes from a disclosure
}

func (a access) permitted() bool { return a.result.Decision == pdp.Permit }

// decideRead decides whether p may use rec for purpose at now:
//   - the data subject may always read its own record, without a purpose,
//     until the retention deadline;
//   - another data subject never may;
//   - anyone else needs a purpose, and the sticky decision (XACML permit for
//     the principal AND purpose allowed AND within retention);
//   - a recipient of a disclosure that the XACML part does not name is
//     decided as the disclosing controller: the same purpose and retention
//     rules apply, under the same sticky policy.
func (s *Service) decideRead(ctx context.Context, p Principal, rec Record, pol *pdp.StickyPolicy, purpose string, now time.Time) (access, error) {
	if !rec.DeleteAt.IsZero() && !now.Before(rec.DeleteAt) {
		return access{eventType: EventDenied, result: pdp.Result{Decision: pdp.Deny,
			Reason: fmt.Sprintf("the retention period of this record ended at %s", rec.DeleteAt.UTC().Format(time.RFC3339))}}, nil
	}
	if rec.Subject == p.Name {
		return access{eventType: EventSubjectAccess, result: pdp.Result{Decision: pdp.Permit, Reason: "the data subject reads its own data"}}, nil
	}
	if p.Role == RoleSubject {
		return access{eventType: EventDenied, result: pdp.Result{Decision: pdp.Deny,
			Reason: "a data subject may read only its own records"}}, nil
	}
	if purpose == "" {
		return access{}, errPurposeRequired
	}
	req := pdp.AccessRequest{Subject: p.Name, Roles: roleLists[p.Role], Resource: rec.ID, Action: pdp.ActionRead,
		Purpose: purpose, Time: now, StoredAt: rec.StoredAt}
	res := pol.Decide(req)
	if res.Decision == pdp.Permit {
		return access{eventType: EventAccessed, result: res}, nil
	}
	d, ok, err := s.store.Disclosed(ctx, rec.ID, p.Name)
	if err != nil {
		return access{}, err
	}
	if ok && d.By != p.Name {
		req.Subject = d.By
		req.Roles = roleLists[RoleController]
		if viaRes := pol.Decide(req); viaRes.Decision == pdp.Permit {
			if viaRes.Reason == "" {
				viaRes.Reason = "disclosed by " + d.By
			}
			return access{eventType: EventAccessed, result: viaRes, via: d.By}, nil
		} else if viaRes.Reason != "" {
			res.Reason = viaRes.Reason + " (as a recipient of a disclosure)"
		}
	}
	if res.Reason == "" {
		res.Reason = fmt.Sprintf("the policy does not permit %s to read this record for %s", p.Name, purpose)
	}
	return access{eventType: EventDenied, result: res}, nil
}

// Retrieve returns a record's metadata and bytes for p's declared purpose
// when the decision permits it (the bytes are not even read otherwise). Every decision, Permit or not, is logged as
// an event in the same transaction as the obligations it triggers, before the
// bytes are returned; a refusal is a *DeniedError.
func (s *Service) Retrieve(ctx context.Context, p Principal, id, purpose string) (Record, []byte, error) {
	var data []byte
	rec, err := retried(func() (Record, error) {
		rec, err := s.getRecord(ctx, id)
		if err != nil {
			return Record{}, err
		}
		pol, err := s.policyFor(rec)
		if err != nil {
			return Record{}, err
		}
		now := s.clock.Now()
		a, err := s.decideRead(ctx, p, rec, pol, purpose, now)
		if err != nil {
			return Record{}, err
		}
		ev := EventInput{PII: rec.ID, Subject: rec.Subject, Time: now, Type: a.eventType, Principal: p.Name,
			Purpose: purpose, Decision: a.result.Decision.String(), Reason: a.result.Reason, PolicyHash: rec.PolicyHash}
		if a.permitted() {
			// The bytes are read only for a Permit, and before the event is
			// committed: a record deleted or re-policied in between is
			// decided again (the version check below and in the commit).
			var cur Record
			if cur, data, err = s.getRecordData(ctx, id); err != nil {
				return Record{}, err
			}
			if cur.PolicyVersion != rec.PolicyVersion {
				return Record{}, errStale
			}
			ev.Reason = ""
			if a.via != "" {
				// No identity in the hashed reason: the discloser is the
				// principal of the record's disclosed event (audit).
				ev.Reason = "as a recipient of a disclosure"
			}
		}
		if err := s.commit(ctx, rec, pol, ev, nil); err != nil {
			return Record{}, err
		}
		if !a.permitted() {
			return Record{}, &DeniedError{Decision: a.result.Decision, Reason: a.result.Reason}
		}
		return rec, nil
	})
	if err != nil {
		return Record{}, nil, err
	}
	return rec, data, nil
}
