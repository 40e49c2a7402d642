package pep

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/pdp"
	"github.com/stickypolicy/sticky/policies"
)

// maxAttempts bounds how often a use case re-decides when the record changed
// between its read and its write transaction.
const maxAttempts = 5

// errStale: the record's policy changed (or the record went) between the
// decision and the write transaction; the use case decides again.
var errStale = errors.New("the record changed while the request was decided")

var errBusy = fmt.Errorf("%w: the record kept changing while the request was decided; try again", ErrConflict)

// retried runs attempt, a use case's read-decide-write round, again while
// it reports errStale (the record changed between its decision and its
// write), at most maxAttempts times; then the answer is errBusy.
func retried[T any](attempt func() (T, error)) (T, error) {
	for range maxAttempts {
		v, err := attempt()
		if !errors.Is(err, errStale) {
			return v, err
		}
	}
	var zero T
	return zero, errBusy
}

// retriedErr is retried for an attempt with no result.
func retriedErr(attempt func() error) error {
	_, err := retried(func() (struct{}, error) { return struct{}{}, attempt() })
	return err
}

// policyOrNil returns rec's compiled policy, or nil when its stored policy
// no longer compiles: the event is still written, without the obligations
// the policy would plan.
func (s *Service) policyOrNil(rec Record) *pdp.StickyPolicy {
	pol, err := s.policyFor(rec)
	if err != nil {
		return nil
	}
	return pol
}

// permitted returns the event of a permitted action typ by by on rec at
// now.
func permitted(rec Record, typ, by string, now time.Time) EventInput {
	return EventInput{PII: rec.ID, Subject: rec.Subject, Time: now, Type: typ, Principal: by,
		Decision: pdp.Permit.String(), PolicyHash: rec.PolicyHash}
}

// txFunc is the body of a write transaction. ctx is the one its statements
// must use: it carries the request's values but is never cancelled.
type txFunc func(ctx context.Context, tx Tx) error

// writeTx runs fn in one write transaction of the store. The request's ctx
// bounds only the wait for the writer; fn's statements run under
// context.WithoutCancel(ctx): the store group-commits, so the transaction
// is shared with the writes of other requests, and a statement interrupted
// because one client went away would abort them all. Once a write is
// decided it is carried out, even if its own client is gone.
func (s *Service) writeTx(ctx context.Context, fn txFunc) error {
	wctx := context.WithoutCancel(ctx)
	return s.store.Write(ctx, func(tx Tx) error { return fn(wctx, tx) })
}

// commit writes, in ONE transaction on the writer: (when check) a check that
// the record still has the policy version the decision was made under, the
// extra writes of the use case, the event, and the obligation jobs the event
// triggers under pol's terms. On commit, the obligations runner is kicked.
// extra gets the context its statements must use: one that is not
// cancelled (see writeTx).
func (s *Service) commit(ctx context.Context, rec Record, pol *pdp.StickyPolicy, ev EventInput, extra txFunc) error {
	return s.write(ctx, rec, pol, ev, extra, true)
}

func (s *Service) write(ctx context.Context, rec Record, pol *pdp.StickyPolicy, ev EventInput, extra txFunc, check bool) error {
	var terms *policies.DataHandling
	if pol != nil {
		terms = pol.Terms()
	}
	delegates := s.delegatesFor(rec, pol, ev)
	emails, err := s.delegateEmails(ctx, delegates)
	if err != nil {
		return err
	}
	queued := false
	err = s.writeTx(ctx, func(ctx context.Context, tx Tx) error {
		if check {
			v, _, err := tx.PolicyVersion(ctx, rec.ID)
			if err != nil {
				return err
			}
			if v != rec.PolicyVersion {
				return errStale
			}
		}
		if extra != nil {
			if err := extra(ctx, tx); err != nil {
				return err
			}
		}
		e, err := tx.AppendEvent(ctx, ev)
		if err != nil {
			return err
		}
		jobs := s.planner.Plan(terms, obligations.Event{
			Type:      obligations.EventType(ev.Type),
			PII:       rec.ID,
			Owner:     rec.Subject,
			Principal: ev.Principal,
			Purpose:   ev.Purpose,
			Recipient: ev.Recipient,
			Time:      ev.Time,
			StoredAt:  rec.StoredAt,
			Seq:       e.Seq,
			Delegates: delegates,
		})
		jobs = withDelegateEmails(jobs, emails)
		queued = slices.ContainsFunc(jobs, func(j obligations.Job) bool { return !obligations.DeliveredAtEvent(j) })
		return enqueue(ctx, tx, jobs)
	})
	if err == nil && queued {
		s.kick()
	}
	return noRecord(err)
}

// logDenial writes a denied event (and the TriggerOnViolation jobs) for a
// request on rec that p may not make, and returns the *DeniedError to answer
// with.
func (s *Service) logDenial(ctx context.Context, rec Record, p Principal, purpose, reason string) error {
	return s.logResult(ctx, rec, p, purpose, "", pdp.Result{Decision: pdp.Deny, Reason: reason})
}

// logResult writes the denied event for a non-Permit result and returns the
// *DeniedError.
func (s *Service) logResult(ctx context.Context, rec Record, p Principal, purpose, recipient string, res pdp.Result) error {
	pol := s.policyOrNil(rec) // a policy that no longer compiles still gets its denial logged
	ev := EventInput{PII: rec.ID, Subject: rec.Subject, Time: s.clock.Now(), Type: EventDenied, Principal: p.Name,
		Purpose: purpose, Recipient: recipient, Decision: res.Decision.String(), Reason: res.Reason, PolicyHash: rec.PolicyHash}
	if err := s.write(ctx, rec, pol, ev, nil, false); err != nil {
		return err
	}
	return &DeniedError{Decision: res.Decision, Reason: res.Reason}
}
