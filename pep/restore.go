package pep

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/pdp"
	"github.com/stickypolicy/sticky/policies"
)

// WithRestoreWindow makes DELETE keep a record restorable for d: the record
// is deleted at once (never served again, a "deleted" event is logged) but
// its bytes are kept apart until d has passed (or its retention deadline
// came, if earlier), when the obligations runner erases them (bytes gone).
// Zero, the default, erases at once.
func WithRestoreWindow(d time.Duration) Option {
	return func(s *Service) {
		if d > 0 {
			s.restoreWindow = d
		}
	}
}

// RestoreWindow returns the configured restore window (0: none).
func (s *Service) RestoreWindow() time.Duration { return s.restoreWindow }

// eraseOrBin deletes rec for by (its data subject or an admin): at once
// without a restore window, otherwise into the restore bin with its
// permanent erasure scheduled at the window's end.
func (s *Service) eraseOrBin(ctx context.Context, rec Record, by string) error {
	if s.restoreWindow <= 0 {
		return s.erase(ctx, rec, by, "")
	}
	now := s.clock.Now().UTC()
	eraseAt := now.Add(s.restoreWindow)
	if !rec.DeleteAt.IsZero() && rec.DeleteAt.Before(eraseAt) {
		// The bin never keeps data past its retention deadline.
		eraseAt = rec.DeleteAt.UTC()
	}
	ev := permitted(rec, EventDeleted, by, now)
	ev.Reason = "restorable until " + eraseAt.Format(time.RFC3339)
	job := obligations.Job{
		ID: noticeID(rec.ID, RestoreWindowID, now.Format(time.RFC3339Nano)), PII: rec.ID, Owner: rec.Subject,
		ObligationID: RestoreWindowID, Trigger: policies.TriggerAtTime, Action: policies.ActionDeletePersonalData,
		Due: eraseAt, Deadline: eraseAt,
		Event: obligations.Event{Type: obligations.EventDeleted, PII: rec.ID, Owner: rec.Subject, Principal: by, Time: now, StoredAt: rec.StoredAt},
	}
	err := s.commit(ctx, rec, s.policyOrNil(rec), ev, func(ctx context.Context, tx Tx) error {
		rt, err := rightsTx(tx)
		if err != nil {
			return err
		}
		if err := rt.BinRecord(ctx, rec.ID, now, eraseAt); err != nil {
			return err
		}
		if err := tx.DeleteRecord(ctx, rec.ID, now); err != nil {
			return err
		}
		if err := cancelTimeDriven(ctx, tx, rec.ID, now); err != nil {
			return err
		}
		return enqueue(ctx, tx, []obligations.Job{job})
	})
	if err == nil {
		s.cache.remove(rec.ID)
		s.kick()
	}
	return err
}

// purgeBinned erases the bytes of a record whose restore window ended (the
// runner's delete job, through DeleteForRetention) and logs an "erased"
// event. A record not in the bin is not an error.
func (s *Service) purgeBinned(ctx context.Context, pii string) error {
	return s.writeTx(ctx, func(ctx context.Context, tx Tx) error {
		rt, err := rightsTx(tx)
		if err != nil {
			return nil // no restore bin in this store: nothing to purge
		}
		rec, found, err := rt.PurgeBinned(ctx, pii)
		if err != nil || !found {
			return err
		}
		_, err = tx.AppendEvent(ctx, EventInput{PII: pii, Subject: rec.Subject, Time: s.clock.Now().UTC(), Type: EventErased,
			Principal: SystemPrincipal, Decision: pdp.Permit.String(), PolicyHash: rec.PolicyHash,
			Reason: "the restore window ended: the bytes are erased"})
		return err
	})
}

// ErrNotDeleted: restore was asked for a record that is not deleted.
var ErrNotDeleted = fmt.Errorf("%w: the record is not deleted", ErrConflict)

// Restore brings back a record deleted within its restore window (its data
// subject or an admin): the record, its bytes and its disclosures return,
// its time-driven obligations (the retention deadline) are planned again,
// the pending erasure is cancelled and a "restored" event is logged. A live
// record is ErrNotDeleted (409); a record erased, or whose window ended, is
// ErrNotFound.
func (s *Service) Restore(ctx context.Context, p Principal, id string) (Record, error) {
	rs, err := s.rights()
	if err != nil {
		return Record{}, err
	}
	b, err := rs.Binned(ctx, id)
	if isNotFound(err) {
		if _, err := s.store.Record(ctx, id); err == nil {
			return Record{}, ErrNotDeleted
		}
		if owner, deleted, err := s.store.Owner(ctx, id); err == nil && deleted && (owner == p.Name || p.Role == RoleAdmin) {
			return Record{}, fmt.Errorf("%w: record %s was erased and cannot be restored", ErrNotFound, id)
		}
		return Record{}, fmt.Errorf("%w: no deleted record %s", ErrNotFound, id)
	}
	if err != nil {
		return Record{}, err
	}
	if b.Subject != p.Name && p.Role != RoleAdmin {
		return Record{}, s.logDenial(ctx, b.Record, p, "", "only the record's data subject or an admin may restore it")
	}
	now := s.clock.Now().UTC()
	if !now.Before(b.EraseAt) {
		return Record{}, fmt.Errorf("%w: the restore window of record %s ended at %s", ErrNotFound, id, b.EraseAt.UTC().Format(time.RFC3339))
	}
	pol := s.policyOrNil(b.Record)
	var rec Record
	queued := false
	err = s.writeTx(ctx, func(ctx context.Context, tx Tx) error {
		rt, err := rightsTx(tx)
		if err != nil {
			return err
		}
		if rec, err = rt.RestoreRecord(ctx, id); err != nil {
			return err
		}
		if _, err := rt.CancelJobs(ctx, id, RestoreWindowID, now); err != nil {
			return err
		}
		e, err := tx.AppendEvent(ctx, permitted(rec, EventRestored, p.Name, now))
		if err != nil {
			return err
		}
		if pol == nil {
			return nil
		}
		// The time-driven obligations (the retention deadline) again, as
		// planned at storage.
		var jobs []obligations.Job
		for _, j := range s.planner.Plan(pol.Terms(), obligations.Event{Type: obligations.EventStored, PII: id, Owner: rec.Subject,
			Principal: p.Name, Time: now, StoredAt: rec.StoredAt, Seq: e.Seq}) {
			if j.TimeDriven {
				jobs = append(jobs, j)
			}
		}
		queued = len(jobs) > 0
		return enqueue(ctx, tx, jobs)
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return Record{}, fmt.Errorf("%w: no deleted record %s", ErrNotFound, id)
		}
		return Record{}, err
	}
	if pol != nil {
		s.cache.put(id, rec.PolicyVersion, pol)
	}
	if queued {
		s.kick()
	}
	rec.Size = b.Size
	return rec, nil
}
