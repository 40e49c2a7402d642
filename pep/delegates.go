package pep

import (
	"context"
	"slices"

	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/pdp"
)

// delegatesFor returns the delegates to tell, at a stored or policy_updated
// event ev, that they were given access to rec: those pol's XACML rules name
// (obligations.Delegates) other than the owner and than who acted (a
// controller storing a record its own policy names knows already), and at
// policy_updated only those the record's previous policy (rec's) did not
// name already. Other events tell no delegate.
func (s *Service) delegatesFor(rec Record, pol *pdp.StickyPolicy, ev EventInput) []string {
	evType := ev.Type
	if pol == nil || (evType != EventStored && evType != EventPolicyUpdated) {
		return nil
	}
	named := obligations.Delegates(pol.Document())
	var before []string
	if evType == EventPolicyUpdated {
		if old, err := s.policyFor(rec); err == nil {
			before = obligations.Delegates(old.Document())
		}
	}
	out := named[:0:0]
	for _, d := range named {
		if d != rec.Subject && d != ev.Principal && !slices.Contains(before, d) {
			out = append(out, d)
		}
	}
	return out
}

// delegateEmails returns the registered e-mail addresses of the delegates
// that have one, by identity. A delegate that is not a registered
// principal is told in its inbox only.
func (s *Service) delegateEmails(ctx context.Context, delegates []string) (map[string]string, error) {
	var out map[string]string
	for _, d := range delegates {
		p, err := s.store.Principal(ctx, d)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if p.Email != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[d] = p.Email
		}
	}
	return out, nil
}

// withDelegateEmails adds, for each delegate notice in jobs (an inbox
// notice planned for a delegate) whose delegate registered an e-mail
// address, the same notice by e-mail.
func withDelegateEmails(jobs []obligations.Job, emails map[string]string) []obligations.Job {
	if len(emails) == 0 {
		return jobs
	}
	for _, j := range jobs {
		if j.ObligationID != obligations.DelegateNoticeID || j.Media != obligations.MediaInbox {
			continue
		}
		addr, ok := emails[j.Address]
		if !ok || j.Event.Type == obligations.EventDisclosed {
			continue
		}
		e := j
		e.ID, e.Media, e.Address = emailNoticeID(j.ID, addr), obligations.MediaEmail, addr
		jobs = append(jobs, e)
	}
	return jobs
}

// emailNoticeID derives the id of the e-mail copy of an inbox notice: as
// stable as the notice's own.
func emailNoticeID(inboxID, address string) string {
	return stableJobID("sticky-delegate-email-v1", inboxID, address)
}
