package rules

import (
	"strings"
	"time"
)

// State is what operator rules already did to a record.
type State string

// Record states as the rules see them.
const (
	StateOriginal      State = ""              // the bytes as stored
	StatePseudonymised State = "pseudonymised" // bytes replaced by a reference, original kept apart
	StateAnonymised    State = "anonymised"    // bytes replaced by an anonymised form, no original
)

// Record is what a rule looks at: a stored record's metadata.
type Record struct {
	ID          string
	Subject     string
	Category    string
	ContentType string
	StoredAt    time.Time
	// Purposes are the purposes the record's sticky policy allows
	// (AuthzUseForPurpose).
	Purposes []string
	State    State
}

// Covers reports whether the purpose allowed covers the purpose requested
// (equal, or requested descends from allowed in the purpose taxonomy).
// policies.Taxonomy.Covers fits.
type Covers func(allowed, requested string) bool

func exactCovers(allowed, requested string) bool { return allowed == requested }

// Matches reports whether the rule selects rec at time now: rec is in one
// of the rule's categories, every filter matches, and the rule would change
// it (a record is not pseudonymised twice, nor anonymised twice; an
// anonymised record is not pseudonymised).
func (r *Rule) Matches(rec Record, now time.Time, covers Covers) bool {
	if covers == nil {
		covers = exactCovers
	}
	return r.matches(&rec, mediaType(rec.ContentType), r.cutoff(now), covers)
}

// cutoff is the older_than bound at now (zero without the filter).
func (r *Rule) cutoff(now time.Time) time.Time {
	if r.Filters.OlderThan == nil {
		return time.Time{}
	}
	return r.Filters.OlderThan.Before(now)
}

// mediaType returns a content type's media type, lower-case, without
// parameters.
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	for i := 0; i < len(ct); i++ {
		if c := ct[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(ct)
		}
	}
	return ct
}

func (r *Rule) matches(rec *Record, mt string, cutoff time.Time, covers Covers) bool {
	switch r.Type {
	case Pseudonymise:
		if rec.State != StateOriginal {
			return false
		}
	case Anonymise:
		if rec.State == StateAnonymised {
			return false
		}
	}
	if !r.inCategories(rec.Category, mt) {
		return false
	}
	f := &r.Filters
	if f.Subject != "" && rec.Subject != f.Subject {
		return false
	}
	if f.Category != "" && rec.Category != f.Category {
		return false
	}
	if !f.CreatedBefore.IsZero() && !rec.StoredAt.Before(f.CreatedBefore) {
		return false
	}
	if !f.CreatedAfter.IsZero() && rec.StoredAt.Before(f.CreatedAfter) {
		return false
	}
	if f.OlderThan != nil && !rec.StoredAt.Before(cutoff) {
		return false
	}
	if f.Purpose != "" {
		ok := false
		for _, p := range rec.Purposes {
			if covers(f.Purpose, p) || covers(p, f.Purpose) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// inCategories reports whether a record of this category label and media
// type is in one of the rule's categories.
func (r *Rule) inCategories(category, mt string) bool {
	typ, _, _ := strings.Cut(mt, "/")
	for _, c := range r.Categories {
		switch {
		case c == "*" || c == "*/*":
			return true
		case strings.Contains(c, "/"):
			ct, sub, _ := strings.Cut(c, "/")
			if sub == "*" && strings.EqualFold(ct, typ) || strings.EqualFold(c, mt) {
				return true
			}
		case c == category:
			return true
		}
	}
	return false
}

// Change is one planned change: a rule acting on a record.
type Change struct {
	Rule   string `json:"rule"`
	Source string `json:"source"`
	Type   Type   `json:"type"`
	Record string `json:"record"`
	// Subject is the record's data subject (shown to operators, never
	// written to the event log).
	Subject     string    `json:"subject"`
	Category    string    `json:"category,omitempty"`
	ContentType string    `json:"content_type"`
	StoredAt    time.Time `json:"stored_at"`
	// Also lists the other rules that selected the record but were
	// outranked by a stronger or earlier one.
	Also []string `json:"also,omitempty"`
}

// Plan decides what the rule set does to recs at time now: each record is
// changed at most once per run, by the matching rule with the strongest
// action (delete, then anonymise, then pseudonymise) and, among equals, the
// first in the file. The changes come back grouped by rule in file order,
// records in the order given.
func (rs *RuleSet) Plan(recs []Record, now time.Time, covers Covers) []Change {
	type pick struct {
		rule int
		also []string
	}
	if covers == nil {
		covers = exactCovers
	}
	cutoffs := make([]time.Time, len(rs.Rules))
	for j := range rs.Rules {
		cutoffs[j] = rs.Rules[j].cutoff(now)
	}
	picks := make([]pick, len(recs))
	for i := range recs {
		rec := &recs[i]
		mt := mediaType(rec.ContentType)
		picks[i].rule = -1
		for j := range rs.Rules {
			r := &rs.Rules[j]
			if !r.matches(rec, mt, cutoffs[j], covers) {
				continue
			}
			cur := picks[i].rule
			switch {
			case cur < 0:
				picks[i].rule = j
			case r.Type.strength() > rs.Rules[cur].Type.strength():
				picks[i].also = append(picks[i].also, rs.Rules[cur].Name)
				picks[i].rule = j
			default:
				picks[i].also = append(picks[i].also, r.Name)
			}
		}
	}
	out := []Change{}
	for j := range rs.Rules {
		r := &rs.Rules[j]
		for i, rec := range recs {
			if picks[i].rule != j {
				continue
			}
			out = append(out, Change{Rule: r.Name, Source: r.Source, Type: r.Type, Record: rec.ID, Subject: rec.Subject,
				Category: rec.Category, ContentType: rec.ContentType, StoredAt: rec.StoredAt.UTC(), Also: picks[i].also})
		}
	}
	return out
}
