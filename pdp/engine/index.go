package engine

import "slices"

// minIndexedRules is the rule count from which a Policy gets a rule index.
const minIndexedRules = 16

// ruleIndex lets a large Policy skip the rules that cannot apply to a
// request. A rule is indexed on an attribute when one AnyOf of its target
// can only match if the attribute (designator without Issuer or
// MustBePresent) equals one of a few string or anyURI literals: every AllOf
// of that AnyOf holds such an equality Match. When the request has none of
// those values the target is NoMatch and the rule NotApplicable, which no
// rule-combining algorithm counts, so skipping the rule changes nothing.
//
// Rules are split among up to maxIndexTables attributes (for example the
// rules naming a subject-id and those naming a role); the rest are always
// evaluated.
type ruleIndex struct {
	tables []indexTable
	always []int32 // rules not indexed, ascending
}

type indexTable struct {
	slot  int32
	dt    DataType
	byVal map[string][]int32 // value → indexes of the rules that need it, ascending
}

const maxIndexTables = 4

// indexKey is the (slot, type) an AnyOf is an equality constraint on, and
// the literals it accepts.
type indexKey struct {
	slot int32
	dt   DataType
}

// constraint reports whether the AnyOf requires one attribute to equal one
// of a set of literals.
func constraint(a *cAnyOf) (indexKey, []string, bool) {
	var k indexKey
	var vals []string
	for i := range a.allOf {
		found := false
		for j := range a.allOf[i].matches {
			m := &a.allOf[i].matches[j]
			if !m.direct || !m.eqS || m.issuer != "" || m.bag != nil {
				continue
			}
			mk := indexKey{m.slot, m.dt}
			if i > 0 && mk != k {
				continue
			}
			k = mk
			vals = append(vals, m.lit)
			found = true
			break
		}
		if !found {
			return indexKey{}, nil, false
		}
	}
	return k, vals, len(a.allOf) > 0
}

// buildRuleIndex returns an index over the rules, or nil when no
// attributes split them well enough for it to pay. Attributes are chosen
// greedily: each time the one minimising the worst-case candidates among
// the rules still unindexed (rules it cannot index plus its largest group
// of rules sharing one value).
func buildRuleIndex(rules []*cRule) *ruleIndex {
	if len(rules) < minIndexedRules {
		return nil
	}
	remaining := make([]int32, len(rules))
	for i := range remaining {
		remaining[i] = int32(i)
	}
	ix := &ruleIndex{}
	worst := 0
	for len(ix.tables) < maxIndexTables && len(remaining) >= minIndexedRules/2 {
		groups := map[indexKey]map[string][]int32{}
		for _, i := range remaining {
			r := rules[i]
			if r.target == nil {
				continue
			}
			seen := map[indexKey]bool{}
			for j := range r.target.anyOf {
				k, vals, ok := constraint(&r.target.anyOf[j])
				if !ok || seen[k] {
					continue
				}
				seen[k] = true
				g := groups[k]
				if g == nil {
					g = map[string][]int32{}
					groups[k] = g
				}
				for _, v := range vals {
					if l := g[v]; len(l) == 0 || l[len(l)-1] != i {
						g[v] = append(l, i)
					}
				}
			}
		}
		var best indexKey
		bestScore, bestBiggest := len(remaining), 0
		for k, g := range groups {
			indexed := map[int32]bool{}
			biggest := 0
			for _, l := range g {
				biggest = max(biggest, len(l))
				for _, i := range l {
					indexed[i] = true
				}
			}
			score := len(remaining) - len(indexed) + biggest
			if score < bestScore || (score == bestScore && (k.slot < best.slot || (k.slot == best.slot && k.dt < best.dt))) {
				best, bestScore, bestBiggest = k, score, biggest
			}
		}
		if bestScore >= len(remaining) {
			break // nothing left splits the rules
		}
		t := indexTable{slot: best.slot, dt: best.dt, byVal: groups[best]}
		ix.tables = append(ix.tables, t)
		worst += bestBiggest
		indexed := map[int32]bool{}
		for _, l := range t.byVal {
			for _, i := range l {
				indexed[i] = true
			}
		}
		next := remaining[:0:0]
		for _, i := range remaining {
			if !indexed[i] {
				next = append(next, i)
			}
		}
		remaining = next
	}
	ix.always = remaining
	if len(ix.tables) == 0 || (worst+len(ix.always))*2 > len(rules) {
		return nil
	}
	return ix
}

// candidates returns the rules that may apply to the request, in policy
// order, using the context's scratch space.
func (ix *ruleIndex) candidates(c *evalCtx, rules []*cRule) []*cRule {
	c.cand = append(c.cand[:0], ix.always...)
	parts := 0
	if len(ix.always) > 0 {
		parts++
	}
	for t := range ix.tables {
		tb := &ix.tables[t]
		vs := c.lookup(tb.slot, tb.dt, "")
		for i := range vs {
			if l := tb.byVal[vs[i].S]; len(l) > 0 {
				c.cand = append(c.cand, l...)
				parts++
			}
		}
	}
	if parts > 1 {
		slices.Sort(c.cand)
		c.cand = slices.Compact(c.cand)
	}
	c.candRules = c.candRules[:0]
	for _, i := range c.cand {
		c.candRules = append(c.candRules, rules[i])
	}
	return c.candRules
}
