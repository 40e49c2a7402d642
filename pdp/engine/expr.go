package engine

import (
	"fmt"
	"time"

	"github.com/stickypolicy/sticky/policies/xacml"
	"github.com/stickypolicy/sticky/policies/xmlsafe"
)

// typ is the static type of an expression: a data type, bag or single.
type typ struct {
	dt  DataType
	bag bool
}

func (t typ) String() string {
	if t.bag {
		return "bag of " + t.dt.Short()
	}
	return t.dt.Short()
}

type oneFn func(c *evalCtx) (Value, *Status)
type bagFn func(c *evalCtx) ([]Value, *Status)

// expr is a compiled expression. Exactly one of one and many is set,
// according to t.bag, unless the expression is a Function reference.
type expr struct {
	t     typ
	one   oneFn
	many  bagFn
	konst bool // a constant: evaluating it needs no request
	fn    *funcEntry
	fnID  string
}

func constOne(v Value) *expr {
	return &expr{t: typ{dt: v.Type}, konst: true, one: func(*evalCtx) (Value, *Status) { return v, nil }}
}

func constBag(dt DataType, vs []Value) *expr {
	return &expr{t: typ{dt: dt, bag: true}, konst: true, many: func(*evalCtx) ([]Value, *Status) { return vs, nil }}
}

// errorf records a problem found while compiling, located in the source.
func (cp *compiler) errorf(elem string, line int, attr, value, format string, args ...any) {
	cp.probs = append(cp.probs, xmlsafe.Problem{Element: elem, Attribute: attr, Value: value, Line: line,
		Message: fmt.Sprintf(format, args...)})
}

// compileExpr compiles an expression of the model; sc holds the variable
// definitions of the enclosing Policy (nil outside a Policy).
func (cp *compiler) compileExpr(e xacml.Expression, sc *scope) *expr {
	switch e := e.(type) {
	case *xacml.AttributeValue:
		t, _ := xacml.LookupDataType(e.DataType)
		v, err := xacml.ParseValue(t, e.Value)
		if err != nil {
			cp.errorf("AttributeValue", e.Line, "", e.Value, "not a valid %s: %v", t.Short(), err)
			return nil
		}
		if t == xacml.DTXPathExpression {
			cp.errorf("AttributeValue", e.Line, "DataType", e.DataType, "xpathExpression values are not supported (no XPath evaluation)")
			return nil
		}
		return constOne(v)
	case *xacml.AttributeDesignator:
		return cp.designator(e)
	case *xacml.AttributeSelector:
		cp.errorf("AttributeSelector", e.Line, "Path", e.Path, "AttributeSelector is not supported (the engine does not evaluate XPath)")
		return nil
	case *xacml.VariableReference:
		if sc == nil {
			cp.errorf("VariableReference", e.Line, "VariableId", e.ID, "variable references are only allowed inside a Policy")
			return nil
		}
		return sc.variable(cp, e)
	case *xacml.Function:
		f := lookupFunc(e.ID)
		if f == nil {
			cp.errorf("Function", e.Line, "FunctionId", e.ID, "unknown or unsupported function")
			return nil
		}
		return &expr{fn: f, fnID: e.ID, konst: true}
	case *xacml.Apply:
		f := lookupFunc(e.FunctionID)
		if f == nil {
			cp.errorf("Apply", e.Line, "FunctionId", e.FunctionID, "unknown or unsupported function")
			return nil
		}
		args := make([]*expr, len(e.Args))
		ok := true
		for i, a := range e.Args {
			args[i] = cp.compileExpr(a, sc)
			if args[i] == nil {
				ok = false
			}
		}
		if !ok {
			return nil
		}
		x, err := f.compile(args)
		if err != nil {
			cp.errorf("Apply", e.Line, "FunctionId", e.FunctionID, "%v", err)
			return nil
		}
		if x.konst && x.fn == nil && !cp.opts.noFold {
			// Fold constant expressions. One that fails stays a closure: it
			// may sit in a lazy position (or, and, n-of); where it is used
			// (Condition, assignment) a failing constant rejects the policy.
			if x.t.bag {
				if vs, st := x.many(foldCtx()); st == nil {
					return constBag(x.t.dt, vs)
				}
			} else if v, st := x.one(foldCtx()); st == nil {
				return constOne(v)
			}
		}
		return x
	}
	cp.errorf("Expression", 0, "", "", "unsupported expression %T", e)
	return nil
}

// checkConstant reports a constant expression that cannot be evaluated.
func (cp *compiler) checkConstant(x *expr, elem string, line int) {
	if x == nil || !x.konst || x.fn != nil {
		return
	}
	var st *Status
	if x.t.bag {
		_, st = x.many(foldCtx())
	} else {
		_, st = x.one(foldCtx())
	}
	if st != nil && !cp.opts.noFold {
		cp.errorf(elem, line, "", "", "constant expression fails: %s", st.Message)
	}
}

// scope holds the variable definitions of one Policy.
type scope struct {
	policyID string
	defs     map[string]*xacml.VariableDefinition
	compiled map[string]*expr
	active   map[string]bool
}

func (sc *scope) variable(cp *compiler, r *xacml.VariableReference) *expr {
	if x, ok := sc.compiled[r.ID]; ok {
		return x
	}
	d := sc.defs[r.ID]
	if d == nil {
		cp.errorf("VariableReference", r.Line, "VariableId", r.ID, "no VariableDefinition with this id in Policy %q", sc.policyID)
		return nil
	}
	if sc.active[r.ID] {
		cp.errorf("VariableReference", r.Line, "VariableId", r.ID, "circular variable definition in Policy %q", sc.policyID)
		return nil
	}
	sc.active[r.ID] = true
	x := cp.compileExpr(d.Expr, sc)
	delete(sc.active, r.ID)
	sc.compiled[r.ID] = x
	return x
}

// designator compiles an AttributeDesignator into a lookup by interned
// slot.
func (cp *compiler) designator(d *xacml.AttributeDesignator) *expr {
	dt, ok := xacml.LookupDataType(d.DataType)
	if !ok {
		cp.errorf("AttributeDesignator", d.Line, "DataType", d.DataType, "unknown data type")
		return nil
	}
	slot := cp.slot(d.Category, d.AttributeID)
	issuer := d.Issuer
	must := d.MustBePresent
	var env DataType
	if d.Category == xacml.CategoryEnvironment {
		switch {
		case d.AttributeID == xacml.AttrCurrentDateTime && dt == xacml.DTDateTime,
			d.AttributeID == xacml.AttrCurrentDate && dt == xacml.DTDate,
			d.AttributeID == xacml.AttrCurrentTime && dt == xacml.DTTime:
			env = dt
		}
	}
	missing := &Status{Code: StatusMissingAttribute,
		Message: fmt.Sprintf("missing attribute %s (category %s, data type %s)", d.AttributeID, d.Category, dt.Short()),
		Missing: []MissingAttributeDetail{{Category: d.Category, AttributeID: d.AttributeID, DataType: dt.URI(), Issuer: d.Issuer}}}
	provider := cp.opts.provider
	cat, id := d.Category, d.AttributeID
	return &expr{t: typ{dt: dt, bag: true}, many: func(c *evalCtx) ([]Value, *Status) {
		vs := c.lookup(slot, dt, issuer)
		if len(vs) == 0 {
			if provider != nil {
				got, err := provider.Attribute(c.req, cat, id, dt, issuer)
				if err != nil {
					return nil, processingError("attribute %s: %v", id, err)
				}
				for _, v := range got {
					if v.Type == dt {
						vs = append(vs, v)
					}
				}
				if len(vs) > 0 {
					return vs, nil
				}
			}
			if env != 0 {
				return c.current(env), nil
			}
			if must {
				return nil, missing
			}
		}
		return vs, nil
	}}
}

// maxSteps bounds the work of one evaluation (or one constant folding)
// spent in bag, set and higher-order functions, whose cost grows with the
// product of bag sizes: a hostile policy cannot make a decision run for
// minutes. Exceeding it is an Indeterminate with a processing-error.
const maxSteps = 1 << 20

// foldCtx is the context constant expressions are folded in: it has no
// request (constants read none) and a fresh step budget.
func foldCtx() *evalCtx { return &evalCtx{} }

// spend counts n steps of work; past maxSteps it returns an error status.
func (c *evalCtx) spend(n int) *Status {
	c.steps += n
	if c.steps > maxSteps {
		return processingError("evaluation exceeds its budget of %d steps", maxSteps)
	}
	return nil
}

// evalCtx is the per-evaluation state, owned by a Request.
type evalCtx struct {
	steps     int
	req       *Request
	now       time.Time
	nowSet    bool
	clock     func() time.Time
	slotOf    []int32
	start     []int32
	pool      []Value
	issuers   []string
	scratch   []Value
	envBuf    [3]Value
	cur       Value // the bag element a Match function is applied to
	cand      []int32
	candRules []*cRule
	obs       []Obligation
	adv       []Obligation
	pids      []PolicyIdentifier
}

// lookup returns the values of the attribute in slot with data type dt
// (and issuer, when the designator names one).
func (c *evalCtx) lookup(slot int32, dt DataType, issuer string) []Value {
	if int(slot)+1 >= len(c.start) {
		return nil
	}
	lo, hi := c.start[slot], c.start[slot+1]
	if lo == hi {
		return nil
	}
	vs := c.pool[lo:hi]
	iss := c.issuers[lo:hi]
	all := true
	for i := range vs {
		if vs[i].Type != dt || (issuer != "" && iss[i] != issuer) {
			all = false
			break
		}
	}
	if all {
		return vs
	}
	var out []Value
	for i := range vs {
		if vs[i].Type == dt && (issuer == "" || iss[i] == issuer) {
			out = append(out, vs[i])
		}
	}
	return out
}

func (c *evalCtx) current(dt DataType) []Value {
	if !c.nowSet {
		c.now = c.req.Now
		if c.now.IsZero() {
			if c.clock != nil {
				c.now = c.clock()
			} else {
				c.now = time.Now()
			}
		}
		c.nowSet = true
	}
	switch dt {
	case xacml.DTDateTime:
		c.envBuf[0] = DateTime(c.now)
		return c.envBuf[0:1]
	case xacml.DTDate:
		c.envBuf[1] = Date(c.now)
		return c.envBuf[1:2]
	}
	c.envBuf[2] = Time(c.now)
	return c.envBuf[2:3]
}
