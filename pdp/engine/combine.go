package engine

import "github.com/stickypolicy/sticky/policies/xacml"

// combineRules applies a rule-combining algorithm.
func combineRules(c *evalCtx, alg xacml.CombiningAlg, rules []*cRule) (Decision, *Status) {
	switch alg {
	case xacml.AlgDenyOverrides, xacml.AlgOrderedDenyOverrides:
		return overrides(c, len(rules), func(i int) (Decision, *Status) { return rules[i].eval(c) }, Deny)
	case xacml.AlgPermitOverrides, xacml.AlgOrderedPermitOverrides:
		return overrides(c, len(rules), func(i int) (Decision, *Status) { return rules[i].eval(c) }, Permit)
	case xacml.AlgDenyUnlessPermit:
		return unless(c, len(rules), func(i int) (Decision, *Status) { return rules[i].eval(c) }, Permit)
	case xacml.AlgPermitUnlessDeny:
		return unless(c, len(rules), func(i int) (Decision, *Status) { return rules[i].eval(c) }, Deny)
	case xacml.AlgFirstApplicable:
		return firstApplicable(c, len(rules), func(i int) (Decision, *Status) { return rules[i].eval(c) })
	case xacml.AlgLegacyDenyOverrides, xacml.AlgLegacyOrderedDenyOverrides:
		return legacyRuleOverrides(c, rules, Deny)
	case xacml.AlgLegacyPermitOverrides, xacml.AlgLegacyOrderedPermitOverrides:
		return legacyRuleOverrides(c, rules, Permit)
	}
	return IndeterminateDP, processingError("unsupported rule-combining algorithm")
}

// combinePolicies applies a policy-combining algorithm.
func combinePolicies(c *evalCtx, alg xacml.CombiningAlg, kids []node) (Decision, *Status) {
	ev := func(i int) (Decision, *Status) { return kids[i].eval(c) }
	switch alg {
	case xacml.AlgDenyOverrides, xacml.AlgOrderedDenyOverrides:
		return overrides(c, len(kids), ev, Deny)
	case xacml.AlgPermitOverrides, xacml.AlgOrderedPermitOverrides:
		return overrides(c, len(kids), ev, Permit)
	case xacml.AlgDenyUnlessPermit:
		return unless(c, len(kids), ev, Permit)
	case xacml.AlgPermitUnlessDeny:
		return unless(c, len(kids), ev, Deny)
	case xacml.AlgFirstApplicable:
		return firstApplicable(c, len(kids), ev)
	case xacml.AlgOnlyOneApplicable:
		return onlyOneApplicable(c, kids)
	case xacml.AlgLegacyDenyOverrides, xacml.AlgLegacyOrderedDenyOverrides:
		return legacyPolicyOverrides(c, len(kids), ev, Deny)
	case xacml.AlgLegacyPermitOverrides, xacml.AlgLegacyOrderedPermitOverrides:
		return legacyPolicyOverrides(c, len(kids), ev, Permit)
	}
	return IndeterminateDP, processingError("unsupported policy-combining algorithm")
}

func other(d Decision) Decision {
	if d == Deny {
		return Permit
	}
	return Deny
}

func indFor(d Decision) Decision {
	if d == Deny {
		return IndeterminateD
	}
	return IndeterminateP
}

// overrides is the XACML 3.0 deny-overrides (win == Deny) and
// permit-overrides (win == Permit) algorithm, ordered.
func overrides(c *evalCtx, n int, ev func(int) (Decision, *Status), win Decision) (Decision, *Status) {
	lose := other(win)
	indWin, indLose := indFor(win), indFor(lose)
	start := c.mark()
	var errWin, errLose, errDP, sawLose bool
	var first *Status
	for i := 0; i < n; i++ {
		km := c.mark()
		d, st := ev(i)
		switch d {
		case win:
			c.keepFrom(start, km)
			return win, nil
		case lose:
			sawLose = true
			continue
		case NotApplicable:
			c.truncate(km)
			continue
		case indWin:
			errWin = true
		case indLose:
			errLose = true
		case IndeterminateDP:
			errDP = true
		}
		c.truncate(km)
		if first == nil {
			first = st
		}
	}
	switch {
	case errDP, errWin && (errLose || sawLose):
		c.truncate(start)
		return IndeterminateDP, first
	case errWin:
		c.truncate(start)
		return indWin, first
	case sawLose:
		return lose, nil
	case errLose:
		c.truncate(start)
		return indLose, first
	}
	return NotApplicable, nil
}

// unless is deny-unless-permit (win == Permit) and permit-unless-deny
// (win == Deny).
func unless(c *evalCtx, n int, ev func(int) (Decision, *Status), win Decision) (Decision, *Status) {
	start := c.mark()
	lose := other(win)
	for i := 0; i < n; i++ {
		km := c.mark()
		d, _ := ev(i)
		switch d {
		case win:
			c.keepFrom(start, km)
			return win, nil
		case lose:
		default:
			c.truncate(km)
		}
	}
	return lose, nil
}

func firstApplicable(c *evalCtx, n int, ev func(int) (Decision, *Status)) (Decision, *Status) {
	for i := 0; i < n; i++ {
		km := c.mark()
		d, st := ev(i)
		if d != NotApplicable {
			return d, st
		}
		c.truncate(km)
	}
	return NotApplicable, nil
}

func onlyOneApplicable(c *evalCtx, kids []node) (Decision, *Status) {
	var sel node
	for _, k := range kids {
		p, ok := k.(*cPolicy)
		if !ok {
			continue
		}
		m, st := p.applicable(c)
		switch m {
		case matchIndeterminate:
			return IndeterminateDP, st
		case match:
			if sel != nil {
				return IndeterminateDP, processingError("only-one-applicable: more than one policy is applicable")
			}
			sel = k
		}
	}
	if sel == nil {
		return NotApplicable, nil
	}
	return sel.eval(c)
}

// legacyRuleOverrides is the XACML 1.0/2.0 rule deny-overrides
// (win == Deny) and permit-overrides (win == Permit): an Indeterminate rule
// only counts as a potential win when its effect is the winning one.
func legacyRuleOverrides(c *evalCtx, rules []*cRule, win Decision) (Decision, *Status) {
	lose := other(win)
	start := c.mark()
	var potential, sawLose, sawErr bool
	var first *Status
	for _, r := range rules {
		km := c.mark()
		d, st := r.eval(c)
		switch {
		case d == win:
			c.keepFrom(start, km)
			return win, nil
		case d == lose:
			sawLose = true
		case d == NotApplicable:
		default:
			c.truncate(km)
			sawErr = true
			if r.effect == win {
				potential = true
			}
			if first == nil {
				first = st
			}
		}
	}
	switch {
	case potential:
		c.truncate(start)
		if sawLose {
			return IndeterminateDP, first
		}
		return indFor(win), first
	case sawLose:
		return lose, nil
	case sawErr:
		c.truncate(start)
		return indFor(lose), first
	}
	return NotApplicable, nil
}

// legacyPolicyOverrides is the XACML 1.0/2.0 policy deny-overrides (an
// Indeterminate policy yields Deny) and permit-overrides.
func legacyPolicyOverrides(c *evalCtx, n int, ev func(int) (Decision, *Status), win Decision) (Decision, *Status) {
	start := c.mark()
	var sawLose, sawErr bool
	var first *Status
	lose := other(win)
	for i := 0; i < n; i++ {
		km := c.mark()
		d, st := ev(i)
		switch {
		case d == win:
			c.keepFrom(start, km)
			return win, nil
		case d == lose:
			sawLose = true
		case d == NotApplicable:
		default:
			c.truncate(km)
			if win == Deny {
				c.truncate(start)
				return Deny, nil
			}
			sawErr = true
			if first == nil {
				first = st
			}
		}
	}
	switch {
	case sawLose:
		return lose, nil
	case sawErr:
		c.truncate(start)
		return IndeterminateDP, first
	}
	return NotApplicable, nil
}
