package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Type is what a rule does to the records it selects.
type Type string

// The rule types, weakest first.
const (
	// Pseudonymise replaces a record's bytes by a reference to a random id
	// and keeps the original in a separate table that only admins reach.
	Pseudonymise Type = "pseudonymise"
	// Anonymise replaces a record's bytes by an anonymised form and keeps
	// no original.
	Anonymise Type = "anonymise"
	// Delete erases the record (bytes gone).
	Delete Type = "delete"
)

// strength orders the types: a record selected by several rules is changed
// by the strongest.
func (t Type) strength() int {
	switch t {
	case Pseudonymise:
		return 1
	case Anonymise:
		return 2
	case Delete:
		return 3
	}
	return 0
}

// parseType accepts the British and the American spelling.
func parseType(s string) (Type, bool) {
	switch s {
	case "anonymise", "anonymize":
		return Anonymise, true
	case "pseudonymise", "pseudonymize":
		return Pseudonymise, true
	case "delete":
		return Delete, true
	}
	return "", false
}

// Rule is one validated operator rule.
type Rule struct {
	// Name identifies the rule; unique in its file.
	Name string
	// Source is the legal or organisational basis, e.g. "GDPR Art. 17".
	Source string
	Type   Type
	// Categories are the data the rule acts on: content-type patterns
	// ("text/plain", "image/*", "*/*") and category labels ("health");
	// "*" is every record. A record is in scope when one entry matches.
	Categories []string
	Filters    Filters
}

// Filters narrow a rule's records; every filter given must match.
type Filters struct {
	Subject       string    // the record's data subject
	Category      string    // the record's category label
	CreatedBefore time.Time // stored strictly before (zero: no bound)
	CreatedAfter  time.Time // stored at or after (zero: no bound)
	OlderThan     *Age      // stored more than this long before now
	Purpose       string    // the sticky policy allows this purpose, a narrower or a broader one
}

// RuleSet is a validated rules file.
type RuleSet struct {
	Rules []Rule
}

// Limits on a rules file.
const (
	MaxFileBytes    = 1 << 20
	MaxRules        = 1000
	MaxCategories   = 100
	maxNameLen      = 64
	maxSourceLen    = 256
	maxCategoryLen  = 128
	maxSubjectBytes = 256
	maxPurposeBytes = 2048
)

// ErrInvalid is wrapped by every error Parse returns for a bad rules file.
var ErrInvalid = errors.New("invalid rules file")

// Problem is one thing wrong in a rules file: the rule (its position,
// counting from 1, and its name when it has one) and the field at fault.
type Problem struct {
	Index   int    // 1-based position of the rule; 0 for the file itself
	Rule    string // the rule's name, when known
	Field   string // e.g. "type", "filters.older_than"; empty for the whole rule
	Message string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Index > 0 {
		fmt.Fprintf(&b, "rule %d", p.Index)
		if p.Rule != "" {
			fmt.Fprintf(&b, " %q", p.Rule)
		}
		b.WriteString(": ")
	}
	if p.Field != "" {
		fmt.Fprintf(&b, "field %q: ", p.Field)
	}
	b.WriteString(p.Message)
	return b.String()
}

// ValidationError lists every problem of a refused rules file. The whole
// file is refused when there is one.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return "invalid rules file: " + strings.Join(parts, "; ")
}

// Unwrap makes errors.Is(err, ErrInvalid) succeed.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

var (
	nameRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	labelRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	tokenRE = regexp.MustCompile(`^[A-Za-z0-9!#$&^_.+-]+$`)
)

var ruleFields = []string{"name", "source", "type", "categories", "filters"}
var filterFields = []string{"subject", "category", "created_before", "created_after", "older_than", "purpose"}

// Parse reads and validates a rules file: either an object
// {"rules": [...]} or a bare array of rules. Decoding is strict: unknown
// fields, wrong JSON types, trailing data and duplicate names are refused.
// On any problem the whole file is refused with a *ValidationError naming
// each rule and field at fault.
func Parse(data []byte) (*RuleSet, error) {
	fileErr := func(msg string, args ...any) error {
		return &ValidationError{Problems: []Problem{{Message: fmt.Sprintf(msg, args...)}}}
	}
	if len(data) > MaxFileBytes {
		return nil, fileErr("the file is %d bytes, over the limit of %d", len(data), MaxFileBytes)
	}
	if !utf8.Valid(data) {
		return nil, fileErr("the file is not valid UTF-8")
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fileErr("the file is empty")
	}
	var raws []json.RawMessage
	if trimmed[0] == '[' {
		if err := decodeStrict(trimmed, &raws); err != nil {
			return nil, fileErr("the file is not a JSON array of rules: %v", err)
		}
	} else {
		var top map[string]json.RawMessage
		if err := decodeStrict(trimmed, &top); err != nil {
			return nil, fileErr("the file is not a JSON object: %v", err)
		}
		var probs []Problem
		for k := range top {
			if k != "rules" {
				probs = append(probs, Problem{Field: k, Message: `unknown field (a rules file has only "rules")`})
			}
		}
		if len(probs) > 0 {
			sortProblems(probs)
			return nil, &ValidationError{Problems: probs}
		}
		r, ok := top["rules"]
		if !ok {
			return nil, fileErr(`the "rules" list is missing`)
		}
		if err := decodeStrict(r, &raws); err != nil {
			return nil, &ValidationError{Problems: []Problem{{Field: "rules", Message: "want an array of rules"}}}
		}
	}
	if len(raws) == 0 {
		return nil, fileErr("the file holds no rule")
	}
	if len(raws) > MaxRules {
		return nil, fileErr("the file holds %d rules, over the limit of %d", len(raws), MaxRules)
	}
	rs := &RuleSet{Rules: make([]Rule, 0, len(raws))}
	var probs []Problem
	names := map[string]int{}
	for i, raw := range raws {
		r, ps := parseRule(i+1, raw)
		probs = append(probs, ps...)
		if r.Name != "" {
			if first, dup := names[r.Name]; dup {
				probs = append(probs, Problem{Index: i + 1, Rule: r.Name, Field: "name",
					Message: fmt.Sprintf("the name is already used by rule %d; names must be unique", first)})
			} else {
				names[r.Name] = i + 1
			}
		}
		rs.Rules = append(rs.Rules, r)
	}
	if len(probs) > 0 {
		return nil, &ValidationError{Problems: probs}
	}
	return rs, nil
}

// decodeStrict decodes exactly one JSON value into v.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON value")
	}
	if _, err := dec.Token(); err == nil {
		return errors.New("data after the JSON value")
	}
	return nil
}

func sortProblems(ps []Problem) {
	slices.SortFunc(ps, func(a, b Problem) int { return strings.Compare(a.Field, b.Field) })
}

// parseRule validates one rule; it returns what it could read and every
// problem found.
func parseRule(index int, raw json.RawMessage) (Rule, []Problem) {
	var r Rule
	var probs []Problem
	var fields map[string]json.RawMessage
	if err := decodeStrict(raw, &fields); err != nil || fields == nil {
		return r, []Problem{{Index: index, Message: "a rule must be a JSON object"}}
	}
	// The name first, so that every other problem can name the rule.
	var name string
	nameBad := false
	if v, ok := fields["name"]; ok {
		if json.Unmarshal(v, &name) != nil {
			probs = append(probs, Problem{Index: index, Field: "name", Message: "want a string"})
			name, nameBad = "", true
		}
	}
	add := func(field, msg string, args ...any) {
		probs = append(probs, Problem{Index: index, Rule: name, Field: field, Message: fmt.Sprintf(msg, args...)})
	}
	var unknown []Problem
	for k := range fields {
		if !slices.Contains(ruleFields, k) {
			unknown = append(unknown, Problem{Index: index, Rule: name, Field: k,
				Message: "unknown field (a rule has name, source, type, categories and filters)"})
		}
	}
	sortProblems(unknown)
	probs = append(probs, unknown...)

	switch {
	case fields["name"] == nil:
		add("name", "missing: every rule needs a unique name")
	case name == "" && !nameBad:
		add("name", "empty: every rule needs a unique name")
	case name != "" && (len(name) > maxNameLen || !nameRE.MatchString(name)):
		add("name", "%q: use 1 to %d letters, digits, '.', '_' or '-', starting with a letter or digit", name, maxNameLen)
	}
	r.Name = name

	if v, ok := fields["source"]; !ok {
		add("source", `missing: say what the rule applies (e.g. "GDPR Art. 17")`)
	} else if json.Unmarshal(v, &r.Source) != nil {
		add("source", "want a string")
	} else if strings.TrimSpace(r.Source) == "" {
		add("source", `empty: say what the rule applies (e.g. "GDPR Art. 17")`)
	} else if len(r.Source) > maxSourceLen || strings.ContainsFunc(r.Source, unicode.IsControl) {
		add("source", "at most %d characters, no control characters", maxSourceLen)
	}

	var typ string
	if v, ok := fields["type"]; !ok {
		add("type", "missing: want anonymise, pseudonymise or delete")
	} else if json.Unmarshal(v, &typ) != nil {
		add("type", "want a string: anonymise, pseudonymise or delete")
	} else if t, ok := parseType(typ); !ok {
		add("type", "%q: want anonymise, pseudonymise or delete", typ)
	} else {
		r.Type = t
	}

	if v, ok := fields["categories"]; !ok {
		add("categories", `missing: list the content types ("text/plain", "image/*") or category labels ("health") to act on, or "*" for every record`)
	} else if json.Unmarshal(v, &r.Categories) != nil {
		add("categories", "want an array of strings")
	} else if len(r.Categories) == 0 {
		add("categories", `empty: list at least one content type or category label, or "*"`)
	} else if len(r.Categories) > MaxCategories {
		add("categories", "%d entries, over the limit of %d", len(r.Categories), MaxCategories)
	} else {
		for i, c := range r.Categories {
			if msg := checkCategory(c); msg != "" {
				add(fmt.Sprintf("categories[%d]", i), "%s", msg)
			}
		}
	}

	if v, ok := fields["filters"]; ok {
		f, fps := parseFilters(index, name, v)
		r.Filters = f
		probs = append(probs, fps...)
	}
	return r, probs
}

// checkCategory returns what is wrong with a categories entry, or "".
func checkCategory(c string) string {
	switch {
	case c == "*":
		return ""
	case c == "":
		return "empty entry"
	case len(c) > maxCategoryLen:
		return fmt.Sprintf("longer than %d characters", maxCategoryLen)
	case strings.Contains(c, "/"):
		typ, sub, _ := strings.Cut(c, "/")
		if (typ == "*" && sub != "*") || !(typ == "*" || tokenRE.MatchString(typ)) || !(sub == "*" || tokenRE.MatchString(sub)) {
			return fmt.Sprintf("%q is not a content type pattern (type/subtype, type/* or */*)", c)
		}
		return ""
	case !labelRE.MatchString(c):
		return fmt.Sprintf("%q is not a category label (lower-case letters, digits, '.', '_' or '-') nor a content type", c)
	}
	return ""
}

func parseFilters(index int, name string, raw json.RawMessage) (Filters, []Problem) {
	var f Filters
	var probs []Problem
	add := func(field, msg string, args ...any) {
		probs = append(probs, Problem{Index: index, Rule: name, Field: "filters." + field, Message: fmt.Sprintf(msg, args...)})
	}
	var fields map[string]json.RawMessage
	if err := decodeStrict(raw, &fields); err != nil || fields == nil {
		return f, []Problem{{Index: index, Rule: name, Field: "filters", Message: "want a JSON object"}}
	}
	var unknown []Problem
	for k := range fields {
		if !slices.Contains(filterFields, k) {
			unknown = append(unknown, Problem{Index: index, Rule: name, Field: "filters." + k,
				Message: "unknown filter (want subject, category, created_before, created_after, older_than or purpose)"})
		}
	}
	sortProblems(unknown)
	probs = append(probs, unknown...)
	str := func(field string) (string, bool) {
		v, ok := fields[field]
		if !ok {
			return "", false
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			add(field, "want a string")
			return "", false
		}
		if s == "" {
			add(field, "empty: leave the filter out instead")
			return "", false
		}
		return s, true
	}
	if s, ok := str("subject"); ok {
		if len(s) > maxSubjectBytes || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == ',' }) {
			add("subject", "%q is not a principal name", s)
		} else {
			f.Subject = s
		}
	}
	if s, ok := str("category"); ok {
		if len(s) > maxCategoryLen || !labelRE.MatchString(s) {
			add("category", "%q is not a category label (lower-case letters, digits, '.', '_' or '-')", s)
		} else {
			f.Category = s
		}
	}
	for _, tf := range []struct {
		field string
		dst   *time.Time
	}{{"created_before", &f.CreatedBefore}, {"created_after", &f.CreatedAfter}} {
		if s, ok := str(tf.field); ok {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				add(tf.field, "%q is not an RFC 3339 date and time (e.g. 2026-01-31T00:00:00Z)", s)
			} else {
				*tf.dst = t.UTC()
			}
		}
	}
	if !f.CreatedBefore.IsZero() && !f.CreatedAfter.IsZero() && !f.CreatedAfter.Before(f.CreatedBefore) {
		add("created_after", "%s is not before created_before %s: no record can match",
			f.CreatedAfter.Format(time.RFC3339), f.CreatedBefore.Format(time.RFC3339))
	}
	if s, ok := str("older_than"); ok {
		a, err := ParseAge(s)
		if err != nil {
			add("older_than", "%v", err)
		} else {
			f.OlderThan = &a
		}
	}
	if s, ok := str("purpose"); ok {
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" || len(s) > maxPurposeBytes || strings.ContainsFunc(s, unicode.IsSpace) {
			add("purpose", "%q is not a purpose IRI (e.g. https://w3id.org/dpv#Marketing)", s)
		} else {
			f.Purpose = s
		}
	}
	return f, probs
}

// CheckCategory checks a record's category label (the "category" part of
// POST /v1/pii): lower-case letters, digits, '.', '_' and '-', at most 128
// characters. The empty label (no category) is fine.
func CheckCategory(label string) error {
	if label == "" {
		return nil
	}
	if len(label) > maxCategoryLen || !labelRE.MatchString(label) {
		shown := label // an over-long label is not echoed whole
		if len(shown) > maxCategoryLen {
			shown = shown[:maxCategoryLen] + "..."
		}
		return fmt.Errorf("the category %q (%d bytes) is not a label (lower-case letters, digits, '.', '_' or '-', at most %d characters)", shown, len(label), maxCategoryLen)
	}
	return nil
}
