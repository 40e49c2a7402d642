package pep

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/pep/rules"
	"github.com/stickypolicy/sticky/policies"
)

// rights returns the store's RightsStore side.
func (s *Service) rights() (RightsStore, error) {
	rs, ok := s.store.(RightsStore)
	if !ok {
		return nil, fmt.Errorf("%w: the store does not support data-subject rights", ErrUnavailable)
	}
	return rs, nil
}

// rightsTx returns a transaction's RightsTx side.
func rightsTx(tx Tx) (RightsTx, error) {
	rt, ok := tx.(RightsTx)
	if !ok {
		return nil, fmt.Errorf("%w: the store does not support data-subject rights", ErrUnavailable)
	}
	return rt, nil
}

// newReportID draws a random report id with the given prefix.
func (s *Service) newReportID(prefix string) (string, error) {
	id, err := s.newID()
	if err != nil {
		return "", err
	}
	return prefix + id, nil
}

// SubjectOf resolves the {id} of /v1/subjects/{id}: "me" is the caller.
func SubjectOf(p Principal, id string) string {
	if id == "me" {
		return p.Name
	}
	return id
}

// Forget is the right to be forgotten, asked by p (the data subject itself
// or an admin) for subject: see ForgetSubject. Anyone else is refused.
func (s *Service) Forget(ctx context.Context, p Principal, subject string, dryRun bool) (ForgetReport, error) {
	subject = SubjectOf(p, subject)
	if p.Name != subject && p.Role != RoleAdmin {
		return ForgetReport{}, deny("only the data subject itself or an admin may ask to forget a data subject")
	}
	by := SystemPrincipal
	if p.Name != subject {
		by = p.Name
	}
	return s.ForgetSubject(ctx, subject, by, dryRun)
}

// ForgetSubject erases everything held on subject (see ForgetRequest for
// the list), tells every downstream recipient of its records, by inbox and
// by e-mail when the recipient registered an address, that the data must be
// erased, and returns the report of what was touched; a copy without PII is
// kept. by is who asked as the erasure events show it (an admin's name, or
// SystemPrincipal when the subject asked: the subject's identity is never
// written again). With dryRun nothing changes and the report says what
// would. A subject already forgotten gets a report with AlreadyForgotten
// and nothing new; an unknown subject is ErrNotFound.
func (s *Service) ForgetSubject(ctx context.Context, subject, by string, dryRun bool) (ForgetReport, error) {
	if err := ValidateName(subject); err != nil {
		return ForgetReport{}, err
	}
	rs, err := s.rights()
	if err != nil {
		return ForgetReport{}, err
	}
	id, err := s.newReportID("fgt_")
	if err != nil {
		return ForgetReport{}, err
	}
	now := s.clock.Now().UTC()
	placeholder := "forgotten:" + id
	// The store's transaction is group-committed with other requests' writes:
	// it must not be interrupted midway (see writeTx).
	rep, err := rs.Forget(context.WithoutCancel(ctx), ForgetRequest{Subject: subject, By: by, ReportID: id, Placeholder: placeholder, Now: now, DryRun: dryRun,
		Notices: func(erased []ErasedRecord) []obligations.Job { return ErasureNotices(placeholder, erased, now) }})
	if err != nil {
		return ForgetReport{}, err
	}
	if !dryRun {
		for _, r := range rep.Records {
			s.cache.remove(r)
		}
		if rep.Notices > 0 {
			s.kick()
		}
	}
	return rep, nil
}

// ErasureNotices plans the notices that tell each downstream recipient of
// an erased record that it must erase its copy: one to its inbox and, when
// it registered an e-mail address, one by e-mail. The notices name the
// record, never the data subject (owner is the placeholder).
func ErasureNotices(owner string, erased []ErasedRecord, now time.Time) []obligations.Job {
	var jobs []obligations.Job
	for _, e := range erased {
		ev := obligations.Event{Type: obligations.EventDeleted, PII: e.ID, Owner: owner, Time: now, StoredAt: now}
		for _, r := range e.Recipients {
			targets := [][2]string{{obligations.MediaInbox, r.Identity}}
			if r.Email != "" {
				targets = append(targets, [2]string{obligations.MediaEmail, r.Email})
			}
			for _, t := range targets {
				jobs = append(jobs, obligations.Job{
					ID: noticeID(e.ID, t[0], t[1]), PII: e.ID, Owner: owner, ObligationID: ErasureNoticeID,
					Trigger: policies.TriggerPersonalDataDeleted, Action: policies.ActionNotifyDataSubject,
					Media: t[0], Address: t[1], Due: now, Deadline: now.Add(24 * time.Hour), Event: ev,
				})
			}
		}
	}
	return jobs
}

func noticeID(pii, media, address string) string {
	return stableJobID("sticky-erasure-notice-v1", pii, media, address)
}

// stableJobID derives a job id from its parts (the first names the kind of
// job and its version): the same parts always give the same id, so that
// planning a job twice enqueues it once.
func stableJobID(parts ...string) string {
	h := sha256.New()
	for _, s := range parts {
		fmt.Fprintf(h, "%d:%s", len(s), s)
	}
	return "job_" + hex.EncodeToString(h.Sum(nil)[:16])
}

// setCategory records a new record's category label in tx (Create).
func setCategory(ctx context.Context, tx Tx, id, category string) error {
	if category == "" {
		return nil
	}
	if err := rules.CheckCategory(category); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidInput, err)
	}
	rt, err := rightsTx(tx)
	if err != nil {
		return err
	}
	return rt.SetCategory(ctx, id, category)
}
