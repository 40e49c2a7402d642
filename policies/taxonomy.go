package policies

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
)

// The DPV purposes module (see vocab/README.md and vocab/DPV-LICENSE.md).
//
//go:embed vocab/dpv-2.1-purposes.csv
var dpvPurposesCSV []byte

// Well-known purpose namespaces.
const (
	DPVPrefix          = "https://w3id.org/dpv#"
	DPVPurpose         = DPVPrefix + "Purpose"
	P3P10Prefix        = "http://www.w3.org/2002/01/P3Pv1/"
	P3P11Prefix        = "http://www.w3.org/2006/01/P3Pv11/"
	PurposeUnspecified = "http://www.primelife.eu/purposes/unspecified"
)

// p3pPurposes are PPL's original purpose identifiers (vocab/README.md).
var p3pPurposes = [...]string{
	P3P10Prefix + "current", P3P10Prefix + "admin", P3P10Prefix + "develop", P3P10Prefix + "tailoring",
	P3P10Prefix + "pseudo-analysis", P3P10Prefix + "pseudo-decision", P3P10Prefix + "individual-analysis",
	P3P10Prefix + "individual-decision", P3P10Prefix + "contact", P3P10Prefix + "historical",
	P3P10Prefix + "telemarketing",
	P3P11Prefix + "account", P3P11Prefix + "arts", P3P11Prefix + "browsing", P3P11Prefix + "charity",
	P3P11Prefix + "communicate", P3P11Prefix + "custom", P3P11Prefix + "delivery", P3P11Prefix + "downloads",
	P3P11Prefix + "education", P3P11Prefix + "feedback", P3P11Prefix + "finmgt", P3P11Prefix + "gambling",
	P3P11Prefix + "gaming", P3P11Prefix + "government", P3P11Prefix + "health", P3P11Prefix + "login",
	P3P11Prefix + "marketing", P3P11Prefix + "news", P3P11Prefix + "payment", P3P11Prefix + "sales",
	P3P11Prefix + "search", P3P11Prefix + "state", P3P11Prefix + "surveys",
	PurposeUnspecified,
}

// ErrTaxonomy is wrapped by errors about operator purpose definitions.
var ErrTaxonomy = errors.New("invalid purpose taxonomy")

// PurposeDef defines one purpose: its IRI, its parent (the broader purpose
// it refines; empty for a new top-level purpose) and a human label. It is
// the JSON form of an operator's purpose file: [{"iri": ..., "parent": ...,
// "label": ...}, ...]. The same IRI may be listed several times to give it
// several parents.
type PurposeDef struct {
	IRI    string `json:"iri"`
	Parent string `json:"parent,omitempty"`
	Label  string `json:"label,omitempty"`
}

// Taxonomy is the purpose hierarchy used to decide whether a use for one
// purpose is covered by an allowed purpose. It is immutable and safe for
// concurrent use; Covers does not allocate.
type Taxonomy struct {
	index   map[string]int32 // IRI -> node
	iris    []string
	labels  []string
	parents [][]int32
	words   int      // bitset words per node
	anc     []uint64 // node i's ancestors (itself included) at [i*words:(i+1)*words]
}

// DefaultTaxonomy returns the built-in taxonomy: the W3C DPV purposes
// (embedded; a purpose is covered by each of its hasbroader ancestors),
// PPL's P3P purposes (each on its own) and PurposeAny. The value is built
// once and shared; it is immutable.
func DefaultTaxonomy() *Taxonomy { return defaultTaxonomy() }

var defaultTaxonomy = sync.OnceValue(func() *Taxonomy {
	t, err := NewTaxonomy()
	if err != nil {
		panic("policies: embedded purpose vocabulary: " + err.Error())
	}
	return t
})

// NewTaxonomy returns the built-in taxonomy extended by the operator's
// purposes. Each extra purpose needs an absolute IRI not already built in
// and a parent that is built in or defined among extra; cycles are refused.
// Every problem is reported in one error wrapping ErrTaxonomy.
func NewTaxonomy(extra ...PurposeDef) (*Taxonomy, error) {
	b := &builder{index: map[string]int32{}}
	if err := b.addDPV(dpvPurposesCSV); err != nil {
		return nil, err
	}
	for _, p := range p3pPurposes {
		b.node(p, "")
	}
	b.node(PurposeAny, "any purpose")
	builtin := len(b.iris)
	if err := b.addExtra(extra, builtin); err != nil {
		return nil, err
	}
	return b.build()
}

// ReadPurposeDefs reads an operator purpose file: a JSON array of
// {"iri", "parent", "label"} objects.
func ReadPurposeDefs(r io.Reader) ([]PurposeDef, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var defs []PurposeDef
	if err := dec.Decode(&defs); err != nil {
		return nil, fmt.Errorf("%w: purpose file: %v (want a JSON array of {\"iri\", \"parent\", \"label\"})", ErrTaxonomy, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: purpose file: extra data after the JSON array", ErrTaxonomy)
	}
	return defs, nil
}

// LoadTaxonomy returns the built-in taxonomy extended by the purposes in
// the JSON file at path (see ReadPurposeDefs). An empty path gives the
// built-in taxonomy.
func LoadTaxonomy(path string) (*Taxonomy, error) {
	if path == "" {
		return DefaultTaxonomy(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTaxonomy, err)
	}
	defer f.Close()
	defs, err := ReadPurposeDefs(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t, err := NewTaxonomy(defs...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Covers reports whether a use for purpose requested is allowed by a
// policy allowing purpose allowed: requested equals allowed, descends from
// it (through any of its parents), or allowed is PurposeAny. Unknown IRIs
// cover and are covered only by themselves (and PurposeAny). An empty
// requested purpose is never covered.
func (t *Taxonomy) Covers(allowed, requested string) bool {
	if requested == "" {
		return false
	}
	if allowed == requested || allowed == PurposeAny {
		return true
	}
	if t == nil {
		return false
	}
	a, ok := t.index[allowed]
	if !ok {
		return false
	}
	r, ok := t.index[requested]
	if !ok {
		return false
	}
	return t.anc[int(r)*t.words+int(a)/64]&(1<<(uint(a)%64)) != 0
}

// CoversAny reports whether any of allowed covers requested.
func (t *Taxonomy) CoversAny(allowed []string, requested string) bool {
	for _, a := range allowed {
		if t.Covers(a, requested) {
			return true
		}
	}
	return false
}

// PurposeSet is a set of allowed purposes prepared against a taxonomy, so
// that asking whether a requested purpose is covered costs one map lookup
// and a few bit tests. Build it once (NewPurposeSet) and reuse it.
type PurposeSet struct {
	tax     *Taxonomy
	allowed []string
	idx     []int32 // taxonomy nodes of the known allowed purposes
	any     bool
}

// NewPurposeSet prepares allowed for repeated Covers calls.
func (t *Taxonomy) NewPurposeSet(allowed []string) PurposeSet {
	s := PurposeSet{tax: t, allowed: slices.Clone(allowed)}
	for _, a := range allowed {
		if a == PurposeAny {
			s.any = true
		}
		if t != nil {
			if i, ok := t.index[a]; ok {
				s.idx = append(s.idx, i)
			}
		}
	}
	return s
}

// Covers reports whether some purpose of the set covers requested (see
// Taxonomy.Covers).
func (s PurposeSet) Covers(requested string) bool {
	if requested == "" {
		return false
	}
	if s.any {
		return true
	}
	for _, a := range s.allowed {
		if a == requested {
			return true
		}
	}
	if len(s.idx) == 0 {
		return false
	}
	r, ok := s.tax.index[requested]
	if !ok {
		return false
	}
	row := s.tax.anc[int(r)*s.tax.words : int(r+1)*s.tax.words]
	for _, a := range s.idx {
		if row[a/64]&(1<<(uint(a)%64)) != 0 {
			return true
		}
	}
	return false
}

// Allowed returns the purposes of the set.
func (s PurposeSet) Allowed() []string { return s.allowed }

// Known reports whether iri is a purpose of the taxonomy.
func (t *Taxonomy) Known(iri string) bool {
	_, ok := t.index[iri]
	return ok
}

// Label returns a purpose's human label, or "" when it has none or is
// unknown.
func (t *Taxonomy) Label(iri string) string {
	if i, ok := t.index[iri]; ok {
		return t.labels[i]
	}
	return ""
}

// Parents returns the direct parents of a purpose (nil for a top-level or
// unknown purpose).
func (t *Taxonomy) Parents(iri string) []string {
	i, ok := t.index[iri]
	if !ok {
		return nil
	}
	var out []string
	for _, p := range t.parents[i] {
		out = append(out, t.iris[p])
	}
	return out
}

// Ancestors returns every purpose that covers iri through the hierarchy
// (iri itself excluded, PurposeAny excluded), sorted.
func (t *Taxonomy) Ancestors(iri string) []string {
	i, ok := t.index[iri]
	if !ok {
		return nil
	}
	var out []string
	for j := range t.iris {
		if j != int(i) && t.anc[int(i)*t.words+j/64]&(1<<(uint(j)%64)) != 0 {
			out = append(out, t.iris[j])
		}
	}
	slices.Sort(out)
	return out
}

// Purposes returns every purpose IRI of the taxonomy, sorted.
func (t *Taxonomy) Purposes() []string {
	out := slices.Clone(t.iris)
	slices.Sort(out)
	return out
}

// builder assembles a Taxonomy.
type builder struct {
	index   map[string]int32
	iris    []string
	labels  []string
	parents [][]int32
	pending [][2]string // (child, parent) edges added once every node exists
}

func (b *builder) node(iri, label string) int32 {
	if i, ok := b.index[iri]; ok {
		if b.labels[i] == "" {
			b.labels[i] = label
		}
		return i
	}
	i := int32(len(b.iris))
	b.index[iri] = i
	b.iris = append(b.iris, iri)
	b.labels = append(b.labels, label)
	b.parents = append(b.parents, nil)
	return i
}

func (b *builder) edge(child, parent int32) {
	if !slices.Contains(b.parents[child], parent) {
		b.parents[child] = append(b.parents[child], parent)
	}
}

// addDPV reads the DPV purposes CSV: classes with their hasbroader parents
// (several are separated by ";"; a parent outside the module, like
// dpv:LegalObligation, becomes a node of its own).
func (b *builder) addDPV(data []byte) error {
	r := csv.NewReader(bytes.NewReader(data))
	rows, err := r.ReadAll()
	if err != nil || len(rows) == 0 {
		return fmt.Errorf("%w: DPV vocabulary: %v", ErrTaxonomy, err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	iriCol, okI := col["iri"]
	typeCol, okT := col["type"]
	broaderCol, okB := col["hasbroader"]
	labelCol, okL := col["label"]
	if !okI || !okT || !okB || !okL {
		return fmt.Errorf("%w: DPV vocabulary lacks the iri, type, label or hasbroader column", ErrTaxonomy)
	}
	for _, row := range rows[1:] {
		if row[typeCol] != "class" {
			continue
		}
		c := b.node(row[iriCol], row[labelCol])
		for _, p := range strings.Split(row[broaderCol], ";") {
			if p = strings.TrimSpace(p); p != "" {
				b.edge(c, b.node(p, ""))
			}
		}
	}
	return nil
}

func (b *builder) addExtra(extra []PurposeDef, builtin int) error {
	var probs []string
	bad := func(i int, d PurposeDef, format string, args ...any) {
		probs = append(probs, fmt.Sprintf("purpose %d (%q): %s", i+1, d.IRI, fmt.Sprintf(format, args...)))
	}
	for i, d := range extra {
		switch {
		case !IsAbsoluteIRI(d.IRI):
			bad(i, d, "the iri must be an absolute IRI, like https://example.org/purposes#Billing")
			continue
		case d.IRI == PurposeAny:
			bad(i, d, "the wildcard purpose cannot be redefined")
			continue
		}
		if j, ok := b.index[d.IRI]; ok && int(j) < builtin {
			bad(i, d, "is a built-in purpose and cannot be redefined")
			continue
		}
		b.node(d.IRI, d.Label)
	}
	for i, d := range extra {
		if d.Parent == "" {
			continue
		}
		j, ok := b.index[d.IRI]
		if !ok || int(j) < builtin {
			continue // already reported
		}
		switch p, ok := b.index[d.Parent]; {
		case d.Parent == PurposeAny:
			bad(i, d, "PurposeAny covers every purpose already; leave the parent empty")
		case !ok:
			bad(i, d, "unknown parent %q (it must be a built-in purpose or one defined in the same file)", d.Parent)
		case p == j:
			bad(i, d, "a purpose cannot be its own parent")
		default:
			b.edge(j, p)
		}
	}
	if len(probs) == 0 {
		if cyc := b.cycle(); cyc != nil {
			probs = append(probs, "the parents form a cycle: "+strings.Join(cyc, " -> "))
		}
	}
	if len(probs) > 0 {
		return fmt.Errorf("%w: %s", ErrTaxonomy, strings.Join(probs, "; "))
	}
	return nil
}

// cycle returns the IRIs of a parent cycle, or nil.
func (b *builder) cycle() []string {
	state := make([]uint8, len(b.iris)) // 0 new, 1 on stack, 2 done
	var stack []int32
	var found []string
	var visit func(i int32) bool
	visit = func(i int32) bool {
		state[i] = 1
		stack = append(stack, i)
		for _, p := range b.parents[i] {
			switch state[p] {
			case 1:
				k := slices.Index(stack, p)
				for _, s := range stack[k:] {
					found = append(found, b.iris[s])
				}
				found = append(found, b.iris[p])
				return true
			case 0:
				if visit(p) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = 2
		return false
	}
	for i := range b.iris {
		if state[i] == 0 && visit(int32(i)) {
			return found
		}
	}
	return nil
}

func (b *builder) build() (*Taxonomy, error) {
	n := len(b.iris)
	words := (n + 63) / 64
	t := &Taxonomy{index: b.index, iris: b.iris, labels: b.labels, parents: b.parents, words: words,
		anc: make([]uint64, n*words)}
	done := make([]bool, n)
	var fill func(i int32)
	fill = func(i int32) {
		if done[i] {
			return
		}
		done[i] = true
		row := t.anc[int(i)*words : int(i+1)*words]
		row[i/64] |= 1 << (uint(i) % 64)
		for _, p := range b.parents[i] {
			fill(p)
			for w, v := range t.anc[int(p)*words : int(p+1)*words] {
				row[w] |= v
			}
		}
	}
	for i := range n {
		fill(int32(i))
	}
	return t, nil
}

// IsAbsoluteIRI reports whether s is an absolute IRI (a scheme and a
// non-empty rest, no spaces), as purposes must be.
func IsAbsoluteIRI(s string) bool {
	if s == "" || strings.ContainsAny(s, " \t\r\n<>\"{}|\\^`") {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || !u.IsAbs() {
		return false
	}
	return u.Opaque != "" || u.Host != "" || u.Path != ""
}
