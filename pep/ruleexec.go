package pep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/pep/rules"
)

// PseudonymContentType is the content type of a pseudonymised record's
// bytes: {"pseudonym": "<id>"}, the id of the original kept apart.
const PseudonymContentType = "application/vnd.sticky.pseudonym+json"

// RulesReport is what a run of operator rules changed (or, for a dry run,
// would change).
type RulesReport struct {
	Report  string         `json:"report"`
	DryRun  bool           `json:"dry_run"`
	Time    time.Time      `json:"time"`
	Changes []rules.Change `json:"changes"`
	// Applied counts the changes made; Skipped lists those that could not
	// be (the record changed or went meanwhile), with why.
	Applied int             `json:"applied"`
	Skipped []SkippedChange `json:"skipped,omitempty"`
	// PerRule counts the changes of each rule.
	PerRule map[string]int `json:"per_rule"`
}

// SkippedChange is a planned change that was not made.
type SkippedChange struct {
	Rule   string `json:"rule"`
	Record string `json:"record"`
	Reason string `json:"reason"`
}

// ruleRecords lists every live record as the rules see it.
func (s *Service) ruleRecords(ctx context.Context) ([]rules.Record, error) {
	rs, err := s.rights()
	if err != nil {
		return nil, err
	}
	held, err := rs.RuleRecords(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]rules.Record, 0, len(held))
	for _, h := range held {
		r := rules.Record{ID: h.ID, Subject: h.Subject, Category: h.Category, ContentType: h.ContentType, StoredAt: h.StoredAt,
			State: rules.State(h.State)}
		if pol, err := s.policyFor(h.Record); err == nil {
			if t := pol.Terms(); t != nil {
				r.Purposes = t.Authorizations.Purposes
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// RunRules plans the rule set over every live record at the current time
// and, unless dryRun, applies each change in its own transaction, logging
// it as an event of the record ("deleted", "anonymised" or
// "pseudonymised", principal SystemPrincipal, reason naming the rule and
// its source). A copy of the report without subjects is kept.
func (s *Service) RunRules(ctx context.Context, set *rules.RuleSet, dryRun bool) (RulesReport, error) {
	recs, err := s.ruleRecords(ctx)
	if err != nil {
		return RulesReport{}, err
	}
	id, err := s.newReportID("rul_")
	if err != nil {
		return RulesReport{}, err
	}
	now := s.clock.Now().UTC()
	rep := RulesReport{Report: id, DryRun: dryRun, Time: now, PerRule: map[string]int{}}
	rep.Changes = set.Plan(recs, now, s.tax.Covers)
	for _, r := range set.Rules {
		rep.PerRule[r.Name] = 0
	}
	for _, c := range rep.Changes {
		rep.PerRule[c.Rule]++
	}
	if dryRun {
		return rep, nil
	}
	for _, c := range rep.Changes {
		err := s.applyChange(ctx, c)
		switch {
		case err == nil:
			rep.Applied++
		case isNotFound(err) || errors.Is(err, errBusy):
			rep.Skipped = append(rep.Skipped, SkippedChange{Rule: c.Rule, Record: c.Record, Reason: err.Error()})
		default:
			return rep, fmt.Errorf("rule %q on record %s: %w", c.Rule, c.Record, err)
		}
	}
	if rs, err := s.rights(); err == nil {
		kept := rep
		kept.Changes = make([]rules.Change, len(rep.Changes))
		for i, c := range rep.Changes {
			c.Subject = ""
			kept.Changes[i] = c
		}
		if js, err := json.Marshal(kept); err == nil {
			if err := rs.SaveReport(context.WithoutCancel(ctx), id, "rules", now, js); err != nil {
				return rep, err
			}
		}
	}
	return rep, nil
}

// applyChange makes one planned change.
func (s *Service) applyChange(ctx context.Context, c rules.Change) error {
	reason := fmt.Sprintf("operator rule %q (%s)", c.Rule, c.Source)
	return retriedErr(func() error {
		rec, data, err := s.getRecordData(ctx, c.Record)
		if err != nil {
			return err
		}
		if c.Type == rules.Delete {
			return s.erase(ctx, rec, SystemPrincipal, reason)
		}
		return s.transform(ctx, rec, data, c, reason)
	})
}

// transform anonymises or pseudonymises rec in one transaction with its
// event.
func (s *Service) transform(ctx context.Context, rec Record, data []byte, c rules.Change, reason string) error {
	rs, err := s.rights()
	if err != nil {
		return err
	}
	now := s.clock.Now().UTC()
	ev := permitted(rec, "", SystemPrincipal, now) // its type is set below
	ev.Reason = reason
	var extra txFunc
	switch c.Type {
	case rules.Anonymise:
		ev.Type = EventAnonymised
		ct, src := rec.ContentType, data
		if ref, ok := pseudonymRef(rec.ContentType, data); ok {
			// Anonymise the original, not the reference to it.
			if o, err := rs.Pseudonymised(ctx, ref); err == nil {
				ct, src = o.ContentType, o.Data
			}
		}
		anon := rules.AnonymisedForm(ct, src)
		extra = func(ctx context.Context, tx Tx) error {
			rt, err := rightsTx(tx)
			if err != nil {
				return err
			}
			if _, err := rt.DropPseudonymised(ctx, rec.ID); err != nil {
				return err
			}
			return rt.ReplaceData(ctx, rec.ID, anon, ct, StateAnonymised)
		}
	case rules.Pseudonymise:
		ev.Type = EventPseudonymised
		pid, err := s.newReportID("psd_")
		if err != nil {
			return err
		}
		ref, _ := json.Marshal(map[string]string{"pseudonym": pid})
		extra = func(ctx context.Context, tx Tx) error {
			rt, err := rightsTx(tx)
			if err != nil {
				return err
			}
			if err := rt.KeepPseudonymised(ctx, PseudonymisedOriginal{ID: pid, PII: rec.ID, Subject: rec.Subject, Rule: c.Rule,
				ContentType: rec.ContentType, Encrypted: rec.Encrypted, Data: data, Created: now}); err != nil {
				return err
			}
			return rt.ReplaceData(ctx, rec.ID, ref, PseudonymContentType, StatePseudonymised)
		}
	default:
		return fmt.Errorf("%w: unknown rule type %q", ErrInvalidInput, c.Type)
	}
	return s.commit(ctx, rec, s.policyOrNil(rec), ev, extra)
}

// pseudonymRef returns the original's id a pseudonymised record's bytes
// refer to.
func pseudonymRef(contentType string, data []byte) (string, bool) {
	if contentType != PseudonymContentType {
		return "", false
	}
	var v struct {
		Pseudonym string `json:"pseudonym"`
	}
	if json.Unmarshal(data, &v) != nil || v.Pseudonym == "" {
		return "", false
	}
	return v.Pseudonym, true
}

// Reidentify returns a pseudonymised original (admins only) and logs a
// "reidentified" event on its record when the record still exists.
func (s *Service) Reidentify(ctx context.Context, p Principal, id string) (PseudonymisedOriginal, error) {
	if p.Role != RoleAdmin {
		return PseudonymisedOriginal{}, deny("only an admin may read a pseudonymised original")
	}
	rs, err := s.rights()
	if err != nil {
		return PseudonymisedOriginal{}, err
	}
	o, err := rs.Pseudonymised(ctx, id)
	if err != nil {
		if isNotFound(err) {
			return o, fmt.Errorf("%w: no pseudonymised original %s", ErrNotFound, id)
		}
		return o, err
	}
	rec, err := s.store.Record(ctx, o.PII)
	if err == nil {
		ev := permitted(rec, EventReidentified, p.Name, s.clock.Now().UTC())
		ev.Reason = "an admin read the pseudonymised original"
		if err := s.write(ctx, rec, nil, ev, nil, false); err != nil {
			return o, err
		}
	} else if !isNotFound(err) {
		return o, err
	}
	return o, nil
}

// AnonymiseForRetention replaces a record by its anonymised form and keeps
// no original (obligations.Anonymiser: ActionAnonymizePersonalData), the
// same form operator rules produce (rules.AnonymisedForm). A record gone or
// already anonymised is not an error.
func (s *Service) AnonymiseForRetention(ctx context.Context, pii string) error {
	c := rules.Change{Rule: "retention", Source: "the record's sticky policy (ActionAnonymizePersonalData)", Type: rules.Anonymise, Record: pii}
	return retriedErr(func() error {
		rec, data, err := s.getRecordData(ctx, pii)
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if rs, ok := s.store.(RightsStore); ok {
			if st, err := rs.RuleState(ctx, pii); err != nil && !isNotFound(err) {
				return err
			} else if st == StateAnonymised {
				return nil
			}
		}
		err = s.transform(ctx, rec, data, c, "retention obligation of the sticky policy (ActionAnonymizePersonalData)")
		if isNotFound(err) {
			return nil
		}
		return err
	})
}

var _ obligations.Anonymiser = (*Service)(nil)
