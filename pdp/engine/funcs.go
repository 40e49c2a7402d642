package engine

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/stickypolicy/sticky/policies/xacml"
)

const (
	tString   = xacml.DTString
	tBool     = xacml.DTBoolean
	tInt      = xacml.DTInteger
	tDouble   = xacml.DTDouble
	tTime     = xacml.DTTime
	tDate     = xacml.DTDate
	tDateTime = xacml.DTDateTime
	tDTD      = xacml.DTDayTimeDuration
	tYMD      = xacml.DTYearMonthDuration
	tURI      = xacml.DTAnyURI
	tHex      = xacml.DTHexBinary
	tB64      = xacml.DTBase64Binary
	tRFC822   = xacml.DTRFC822Name
	tX500     = xacml.DTX500Name
	tIP       = xacml.DTIPAddress
	tDNS      = xacml.DTDNSName
)

var (
	vTrue  = Boolean(true)
	vFalse = Boolean(false)
)

func boolV(b bool) Value {
	if b {
		return vTrue
	}
	return vFalse
}

// funcEntry is one standard function: its signature and implementation.
type funcEntry struct {
	name   string
	params []DataType // parameter types; with variadic, the last repeats
	varMin int        // >= 0: variadic with at least varMin arguments
	ret    DataType
	f1     func(a Value) (Value, *Status)
	f2     func(a, b Value) (Value, *Status)
	f3     func(a, b, c Value) (Value, *Status)
	fn     func(args []Value) (Value, *Status)
	// special compiles functions that take bags, functions, or evaluate
	// lazily; it does its own type checking.
	special func(f *funcEntry, args []*expr) (*expr, error)
}

func (f *funcEntry) variadic() bool { return f.varMin >= 0 }

// paramType is the type of argument i.
func (f *funcEntry) paramType(i int) DataType {
	if i >= len(f.params) {
		return f.params[len(f.params)-1]
	}
	return f.params[i]
}

// checkTypes checks primitive argument types against the signature.
func (f *funcEntry) checkTypes(ts []DataType) error {
	if f.variadic() {
		if len(ts) < f.varMin {
			return fmt.Errorf("%s takes at least %d arguments, got %d", f.name, f.varMin, len(ts))
		}
	} else if len(ts) != len(f.params) {
		return fmt.Errorf("%s takes %d arguments, got %d", f.name, len(f.params), len(ts))
	}
	for i, t := range ts {
		if want := f.paramType(i); t != want {
			return fmt.Errorf("%s argument %d must be %s, not %s", f.name, i+1, want.Short(), t.Short())
		}
	}
	return nil
}

func checkPrimArgs(f *funcEntry, args []*expr) error {
	ts := make([]DataType, len(args))
	for i, a := range args {
		if a.fn != nil {
			return fmt.Errorf("%s argument %d is a function, expected a value", f.name, i+1)
		}
		if a.t.bag {
			return fmt.Errorf("%s argument %d must be a single %s, not a bag", f.name, i+1, f.paramType(min(i, max(len(f.params)-1, 0))).Short())
		}
		ts[i] = a.t.dt
	}
	return f.checkTypes(ts)
}

func allConst(args []*expr) bool {
	for _, a := range args {
		if !a.konst {
			return false
		}
	}
	return true
}

// compile builds the evaluation closure of an Apply of f.
func (f *funcEntry) compile(args []*expr) (*expr, error) {
	if f.special != nil {
		return f.special(f, args)
	}
	if f.f1 == nil && f.f2 == nil && f.f3 == nil && f.fn == nil {
		return nil, fmt.Errorf("%s is not supported", f.name)
	}
	if err := checkPrimArgs(f, args); err != nil {
		return nil, err
	}
	x := &expr{t: typ{dt: f.ret}, konst: allConst(args)}
	switch {
	case f.f1 != nil && len(args) == 1:
		a, g := args[0].one, f.f1
		x.one = func(c *evalCtx) (Value, *Status) {
			va, st := a(c)
			if st != nil {
				return Value{}, st
			}
			return g(va)
		}
	case f.f2 != nil && len(args) == 2:
		a, b, g := args[0].one, args[1].one, f.f2
		x.one = func(c *evalCtx) (Value, *Status) {
			va, st := a(c)
			if st != nil {
				return Value{}, st
			}
			vb, st := b(c)
			if st != nil {
				return Value{}, st
			}
			return g(va, vb)
		}
	case f.f3 != nil && len(args) == 3:
		a, b, d, g := args[0].one, args[1].one, args[2].one, f.f3
		x.one = func(c *evalCtx) (Value, *Status) {
			va, st := a(c)
			if st != nil {
				return Value{}, st
			}
			vb, st := b(c)
			if st != nil {
				return Value{}, st
			}
			vd, st := d(c)
			if st != nil {
				return Value{}, st
			}
			return g(va, vb, vd)
		}
	default:
		ones := make([]oneFn, len(args))
		for i, a := range args {
			ones[i] = a.one
		}
		g := f.fn
		if g == nil {
			g = f.callSlice
		}
		x.one = func(c *evalCtx) (Value, *Status) {
			vs := make([]Value, len(ones))
			for i, o := range ones {
				v, st := o(c)
				if st != nil {
					return Value{}, st
				}
				vs[i] = v
			}
			return g(vs)
		}
	}
	return x, nil
}

// call applies a primitive function to values (higher-order functions).
func (f *funcEntry) call(vs []Value) (Value, *Status) {
	switch {
	case f.f1 != nil && len(vs) == 1:
		return f.f1(vs[0])
	case f.f2 != nil && len(vs) == 2:
		return f.f2(vs[0], vs[1])
	case f.f3 != nil && len(vs) == 3:
		return f.f3(vs[0], vs[1], vs[2])
	case f.fn != nil:
		return f.fn(vs)
	}
	return Value{}, processingError("%s cannot be applied to %d arguments", f.name, len(vs))
}

func (f *funcEntry) callSlice(vs []Value) (Value, *Status) { return f.call(vs) }

// canCall reports whether f can be passed to a higher-order function.
func (f *funcEntry) canCall() bool {
	return f.f1 != nil || f.f2 != nil || f.f3 != nil || f.fn != nil
}

// functions is the immutable table of standard functions by short name.
var functions = buildFunctions()

func lookupFunc(id string) *funcEntry {
	short, _, ok := xacml.CanonicalFunction(id)
	if !ok {
		return nil
	}
	return functions[short]
}

type registry map[string]*funcEntry

func (r registry) add(f *funcEntry) {
	if f.varMin == 0 && f.params == nil {
		f.varMin = -1
	}
	r[f.name] = f
}

func fixed(name string, ret DataType, params ...DataType) *funcEntry {
	return &funcEntry{name: name, params: params, varMin: -1, ret: ret}
}

func variadic(name string, ret DataType, min int, params ...DataType) *funcEntry {
	return &funcEntry{name: name, params: params, varMin: min, ret: ret}
}

// equalFor returns the equality of data type t.
func equalFor(t DataType) func(a, b Value) bool {
	switch t {
	case tString, tURI, tHex, tB64, tIP, xacml.DTXPathExpression:
		return func(a, b Value) bool { return a.S == b.S }
	case tBool, tInt, tDTD, tYMD:
		return func(a, b Value) bool { return a.I == b.I }
	case tDouble:
		// NaN equals NaN, as in the reference implementations.
		return func(a, b Value) bool { return a.F == b.F || (math.IsNaN(a.F) && math.IsNaN(b.F)) }
	case tTime, tDate, tDateTime:
		return func(a, b Value) bool { return a.T.Equal(b.T) }
	case tRFC822:
		return rfc822Equal
	case tX500:
		return x500Equal
	case tDNS:
		return func(a, b Value) bool { return strings.EqualFold(a.S, b.S) }
	}
	return func(a, b Value) bool { return false }
}

func rfc822Equal(a, b Value) bool {
	ia, ib := strings.LastIndexByte(a.S, '@'), strings.LastIndexByte(b.S, '@')
	if ia < 0 || ib < 0 {
		return a.S == b.S
	}
	return a.S[:ia] == b.S[:ib] && strings.EqualFold(a.S[ia:], b.S[ib:])
}

func x500Equal(a, b Value) bool {
	ra, err1 := xacml.ParseX500Name(a.S)
	rb, err2 := xacml.ParseX500Name(b.S)
	if err1 != nil || err2 != nil || len(ra) != len(rb) {
		return false
	}
	for i := range ra {
		if !rdnEqual(ra[i], rb[i]) {
			return false
		}
	}
	return true
}

func rdnEqual(a, b []xacml.RDN) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		found := false
		for _, y := range b {
			if x == y {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func compareFor(t DataType) func(a, b Value) (int, bool) {
	switch t {
	case tString:
		return func(a, b Value) (int, bool) { return strings.Compare(a.S, b.S), true }
	case tInt:
		return func(a, b Value) (int, bool) {
			switch {
			case a.I < b.I:
				return -1, true
			case a.I > b.I:
				return 1, true
			}
			return 0, true
		}
	case tDouble:
		return func(a, b Value) (int, bool) {
			switch {
			case math.IsNaN(a.F) || math.IsNaN(b.F):
				return 0, false
			case a.F < b.F:
				return -1, true
			case a.F > b.F:
				return 1, true
			}
			return 0, true
		}
	}
	return func(a, b Value) (int, bool) { return a.T.Compare(b.T), true }
}

func buildFunctions() registry {
	r := registry{}
	all := xacml.AllDataTypes()
	for _, t := range all {
		if t == xacml.DTXPathExpression {
			continue
		}
		eq := equalFor(t)
		n := t.Short()
		if t != tIP && t != tDNS { // XACML defines no ipAddress-equal or dnsName-equal
			f := fixed(n+"-equal", tBool, t, t)
			f.f2 = func(a, b Value) (Value, *Status) { return boolV(eq(a, b)), nil }
			r.add(f)
		}
		addBagFunctions(r, t, eq)
	}
	f := fixed("string-equal-ignore-case", tBool, tString, tString)
	f.f2 = func(a, b Value) (Value, *Status) { return boolV(strings.ToLower(a.S) == strings.ToLower(b.S)), nil }
	r.add(f)

	for _, t := range []DataType{tInt, tDouble, tString, tTime, tDateTime, tDate} {
		cmp := compareFor(t)
		n := t.Short()
		for _, op := range []struct {
			name string
			ok   func(int) bool
		}{
			{"-greater-than", func(c int) bool { return c > 0 }},
			{"-greater-than-or-equal", func(c int) bool { return c >= 0 }},
			{"-less-than", func(c int) bool { return c < 0 }},
			{"-less-than-or-equal", func(c int) bool { return c <= 0 }},
		} {
			f := fixed(n+op.name, tBool, t, t)
			test := op.ok
			f.f2 = func(a, b Value) (Value, *Status) {
				c, ok := cmp(a, b)
				return boolV(ok && test(c)), nil
			}
			r.add(f)
		}
	}
	addArithmetic(r)
	addStringFunctions(r)
	addDateFunctions(r)
	addLogical(r)
	addHigherOrder(r)
	addConversions(r)
	addMatchFunctions(r)
	for _, n := range []string{"xpath-node-count", "xpath-node-equal", "xpath-node-match", "access-permitted"} {
		name := n
		r.add(&funcEntry{name: name, varMin: -1, special: func(*funcEntry, []*expr) (*expr, error) {
			return nil, fmt.Errorf("%s is not supported (the engine does not evaluate XPath or nested requests)", name)
		}})
	}
	return r
}

func addArithmetic(r registry) {
	ia := variadic("integer-add", tInt, 2, tInt)
	ia.fn = func(vs []Value) (Value, *Status) {
		var s int64
		for _, v := range vs {
			s += v.I
		}
		return Integer(s), nil
	}
	ia.f2 = func(a, b Value) (Value, *Status) { return Integer(a.I + b.I), nil }
	r.add(ia)
	im := variadic("integer-multiply", tInt, 2, tInt)
	im.fn = func(vs []Value) (Value, *Status) {
		p := int64(1)
		for _, v := range vs {
			p *= v.I
		}
		return Integer(p), nil
	}
	im.f2 = func(a, b Value) (Value, *Status) { return Integer(a.I * b.I), nil }
	r.add(im)
	da := variadic("double-add", tDouble, 2, tDouble)
	da.fn = func(vs []Value) (Value, *Status) {
		var s float64
		for _, v := range vs {
			s += v.F
		}
		return Double(s), nil
	}
	da.f2 = func(a, b Value) (Value, *Status) { return Double(a.F + b.F), nil }
	r.add(da)
	dm := variadic("double-multiply", tDouble, 2, tDouble)
	dm.fn = func(vs []Value) (Value, *Status) {
		p := 1.0
		for _, v := range vs {
			p *= v.F
		}
		return Double(p), nil
	}
	dm.f2 = func(a, b Value) (Value, *Status) { return Double(a.F * b.F), nil }
	r.add(dm)

	f := fixed("integer-subtract", tInt, tInt, tInt)
	f.f2 = func(a, b Value) (Value, *Status) { return Integer(a.I - b.I), nil }
	r.add(f)
	f = fixed("double-subtract", tDouble, tDouble, tDouble)
	f.f2 = func(a, b Value) (Value, *Status) { return Double(a.F - b.F), nil }
	r.add(f)
	f = fixed("integer-divide", tInt, tInt, tInt)
	f.f2 = func(a, b Value) (Value, *Status) {
		if b.I == 0 {
			return Value{}, processingError("integer-divide: division by zero")
		}
		return Integer(a.I / b.I), nil
	}
	r.add(f)
	f = fixed("double-divide", tDouble, tDouble, tDouble)
	f.f2 = func(a, b Value) (Value, *Status) {
		if b.F == 0 {
			return Value{}, processingError("double-divide: division by zero")
		}
		return Double(a.F / b.F), nil
	}
	r.add(f)
	f = fixed("integer-mod", tInt, tInt, tInt)
	f.f2 = func(a, b Value) (Value, *Status) {
		if b.I == 0 {
			return Value{}, processingError("integer-mod: division by zero")
		}
		return Integer(a.I % b.I), nil
	}
	r.add(f)
	f = fixed("integer-abs", tInt, tInt)
	f.f1 = func(a Value) (Value, *Status) {
		if a.I < 0 {
			return Integer(-a.I), nil
		}
		return a, nil
	}
	r.add(f)
	f = fixed("double-abs", tDouble, tDouble)
	f.f1 = func(a Value) (Value, *Status) { return Double(math.Abs(a.F)), nil }
	r.add(f)
	f = fixed("round", tDouble, tDouble)
	f.f1 = func(a Value) (Value, *Status) { return Double(math.RoundToEven(a.F)), nil }
	r.add(f)
	f = fixed("floor", tDouble, tDouble)
	f.f1 = func(a Value) (Value, *Status) { return Double(math.Floor(a.F)), nil }
	r.add(f)
	f = fixed("double-to-integer", tInt, tDouble)
	f.f1 = func(a Value) (Value, *Status) {
		if math.IsNaN(a.F) || math.IsInf(a.F, 0) || math.Abs(a.F) > 9.2e18 {
			return Value{}, processingError("double-to-integer: %s does not fit an integer", xacml.FormatDouble(a.F))
		}
		return Integer(int64(a.F)), nil
	}
	r.add(f)
	f = fixed("integer-to-double", tDouble, tInt)
	f.f1 = func(a Value) (Value, *Status) { return Double(float64(a.I)), nil }
	r.add(f)
}

// xsdSpace reports the characters XML Schema counts as white space.
func xsdSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

func addStringFunctions(r registry) {
	f := fixed("string-normalize-space", tString, tString)
	f.f1 = func(a Value) (Value, *Status) { return String(strings.TrimFunc(a.S, xsdSpace)), nil }
	r.add(f)
	f = fixed("string-normalize-to-lower-case", tString, tString)
	f.f1 = func(a Value) (Value, *Status) { return String(strings.ToLower(a.S)), nil }
	r.add(f)
	f = variadic("string-concatenate", tString, 2, tString)
	f.fn = func(vs []Value) (Value, *Status) {
		var b strings.Builder
		for _, v := range vs {
			b.WriteString(v.S)
		}
		return String(b.String()), nil
	}
	r.add(f)
	f = variadic("uri-string-concatenate", tURI, 2, tURI, tString)
	f.fn = func(vs []Value) (Value, *Status) {
		var b strings.Builder
		for _, v := range vs {
			b.WriteString(v.S)
		}
		return AnyURI(b.String()), nil
	}
	r.add(f)
	for _, t := range []DataType{tString, tURI} {
		n := t.Short()
		f = fixed(n+"-starts-with", tBool, tString, t)
		f.f2 = func(a, b Value) (Value, *Status) { return boolV(strings.HasPrefix(b.S, a.S)), nil }
		r.add(f)
		f = fixed(n+"-ends-with", tBool, tString, t)
		f.f2 = func(a, b Value) (Value, *Status) { return boolV(strings.HasSuffix(b.S, a.S)), nil }
		r.add(f)
		f = fixed(n+"-contains", tBool, tString, t)
		f.f2 = func(a, b Value) (Value, *Status) { return boolV(strings.Contains(b.S, a.S)), nil }
		r.add(f)
		name := n + "-substring"
		f = fixed(name, tString, t, tInt, tInt)
		f.f3 = func(s, begin, end Value) (Value, *Status) {
			rs := []rune(s.S)
			b, e := begin.I, end.I
			if e == -1 {
				e = int64(len(rs))
			}
			if b < 0 || b > int64(len(rs)) || e < b || e > int64(len(rs)) {
				return Value{}, processingError("%s: indexes %d and %d are out of range for a string of length %d", name, begin.I, end.I, len(rs))
			}
			return String(string(rs[b:e])), nil
		}
		r.add(f)
	}
	for _, t := range []DataType{tString, tURI, tIP, tDNS, tRFC822, tX500} {
		name := t.Short() + "-regexp-match"
		f := fixed(name, tBool, tString, t)
		f.f2 = func(p, s Value) (Value, *Status) {
			re, err := compileXSDRegexp(p.S)
			if err != nil {
				return Value{}, processingError("%s: %v", name, err)
			}
			return boolV(re.MatchString(s.S)), nil
		}
		f.special = compileRegexpMatch
		r.add(f)
	}
}

// compileRegexpMatch precompiles a constant pattern.
func compileRegexpMatch(f *funcEntry, args []*expr) (*expr, error) {
	if err := checkPrimArgs(f, args); err != nil {
		return nil, err
	}
	if !args[0].konst {
		g := *f
		g.special = nil
		return g.compile(args)
	}
	p, _ := args[0].one(foldCtx())
	re, err := compileXSDRegexp(p.S)
	if err != nil {
		return nil, fmt.Errorf("bad regular expression %q: %v", p.S, err)
	}
	s := args[1].one
	return &expr{t: typ{dt: tBool}, konst: args[1].konst, one: func(c *evalCtx) (Value, *Status) {
		v, st := s(c)
		if st != nil {
			return Value{}, st
		}
		return boolV(re.MatchString(v.S)), nil
	}}, nil
}

// addMonths adds months to t the XML Schema way: the day is pinned to the
// last day of the resulting month.
func addMonths(t time.Time, months int64) time.Time {
	y, m, d := t.Date()
	total := int64(y)*12 + int64(m-1) + months
	ny, nm := int(total/12), time.Month(total%12+1)
	if total < 0 && total%12 != 0 {
		ny, nm = int(total/12)-1, time.Month(total%12+13)
	}
	if last := time.Date(ny, nm+1, 0, 0, 0, 0, 0, time.UTC).Day(); d > last {
		d = last
	}
	return time.Date(ny, nm, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
}

func addDateFunctions(r registry) {
	f := fixed("dateTime-add-dayTimeDuration", tDateTime, tDateTime, tDTD)
	f.f2 = func(a, b Value) (Value, *Status) { a.T = a.T.Add(time.Duration(b.I)); return a, nil }
	r.add(f)
	f = fixed("dateTime-subtract-dayTimeDuration", tDateTime, tDateTime, tDTD)
	f.f2 = func(a, b Value) (Value, *Status) { a.T = a.T.Add(-time.Duration(b.I)); return a, nil }
	r.add(f)
	for _, t := range []DataType{tDateTime, tDate} {
		n := t.Short()
		f = fixed(n+"-add-yearMonthDuration", t, t, tYMD)
		f.f2 = func(a, b Value) (Value, *Status) { a.T = addMonths(a.T, b.I); return a, nil }
		r.add(f)
		f = fixed(n+"-subtract-yearMonthDuration", t, t, tYMD)
		f.f2 = func(a, b Value) (Value, *Status) { a.T = addMonths(a.T, -b.I); return a, nil }
		r.add(f)
	}
	f = fixed("time-in-range", tBool, tTime, tTime, tTime)
	f.f3 = func(a, lo, hi Value) (Value, *Status) {
		day := int64(24 * time.Hour)
		norm := func(v Value) int64 {
			u := v.T.UTC()
			n := int64(u.Hour())*int64(time.Hour) + int64(u.Minute())*int64(time.Minute) + int64(u.Second())*int64(time.Second) + int64(u.Nanosecond())
			return ((n % day) + day) % day
		}
		t, l, h := norm(a), norm(lo), norm(hi)
		if l <= h {
			return boolV(l <= t && t <= h), nil
		}
		return boolV(t >= l || t <= h), nil
	}
	r.add(f)
}

func addConversions(r registry) {
	for _, t := range []DataType{tBool, tInt, tDouble, tTime, tDate, tDateTime, tURI, tDTD, tYMD, tX500, tRFC822, tIP, tDNS} {
		dt := t
		name := t.Short() + "-from-string"
		f := fixed(name, t, tString)
		f.f1 = func(a Value) (Value, *Status) {
			v, err := xacml.ParseValue(dt, a.S)
			if err != nil {
				return Value{}, &Status{Code: StatusSyntaxError, Message: fmt.Sprintf("%s: %v", name, err)}
			}
			return v, nil
		}
		r.add(f)
		f = fixed("string-from-"+t.Short(), tString, t)
		f.f1 = func(a Value) (Value, *Status) { return String(a.String()), nil }
		r.add(f)
	}
}

func addLogical(r registry) {
	not := fixed("not", tBool, tBool)
	not.f1 = func(a Value) (Value, *Status) { return boolV(a.I == 0), nil }
	r.add(not)
	for _, isAnd := range []bool{true, false} {
		name := "or"
		if isAnd {
			name = "and"
		}
		f := variadic(name, tBool, 0, tBool)
		and := isAnd
		f.fn = func(vs []Value) (Value, *Status) {
			for _, v := range vs {
				if (v.I != 0) != and {
					return boolV(!and), nil
				}
			}
			return boolV(and), nil
		}
		f.special = func(f *funcEntry, args []*expr) (*expr, error) {
			if err := checkPrimArgs(f, args); err != nil {
				return nil, err
			}
			ones := make([]oneFn, len(args))
			for i, a := range args {
				ones[i] = a.one
			}
			return &expr{t: typ{dt: tBool}, konst: allConst(args), one: func(c *evalCtx) (Value, *Status) {
				var firstErr *Status
				for _, o := range ones {
					v, st := o(c)
					if st != nil {
						if firstErr == nil {
							firstErr = st
						}
						continue
					}
					if (v.I != 0) != and {
						return boolV(!and), nil
					}
				}
				if firstErr != nil {
					return Value{}, firstErr
				}
				return boolV(and), nil
			}}, nil
		}
		r.add(f)
	}
	nof := variadic("n-of", tBool, 1, tInt, tBool)
	nof.fn = func(vs []Value) (Value, *Status) {
		n := vs[0].I
		if n > int64(len(vs)-1) {
			return Value{}, processingError("n-of: %d required but only %d arguments", n, len(vs)-1)
		}
		var k int64
		for _, v := range vs[1:] {
			if k >= n {
				break
			}
			if v.I != 0 {
				k++
			}
		}
		return boolV(k >= n), nil
	}
	nof.special = func(f *funcEntry, args []*expr) (*expr, error) {
		if err := checkPrimArgs(f, args); err != nil {
			return nil, err
		}
		ones := make([]oneFn, len(args))
		for i, a := range args {
			ones[i] = a.one
		}
		return &expr{t: typ{dt: tBool}, konst: allConst(args), one: func(c *evalCtx) (Value, *Status) {
			nv, st := ones[0](c)
			if st != nil {
				return Value{}, st
			}
			n := nv.I
			rest := ones[1:]
			if n <= 0 {
				return vTrue, nil
			}
			if n > int64(len(rest)) {
				return Value{}, processingError("n-of: %d required but only %d arguments", n, len(rest))
			}
			var k, errs int64
			var firstErr *Status
			for i, o := range rest {
				v, st := o(c)
				switch {
				case st != nil:
					errs++
					if firstErr == nil {
						firstErr = st
					}
				case v.I != 0:
					k++
				}
				if k >= n {
					return vTrue, nil
				}
				if k+int64(len(rest)-i-1)+errs < n {
					return vFalse, nil
				}
			}
			if firstErr != nil {
				return Value{}, firstErr
			}
			return vFalse, nil
		}}, nil
	}
	r.add(nof)
}

func addMatchFunctions(r registry) {
	f := fixed("x500Name-match", tBool, tX500, tX500)
	f.f2 = func(a, b Value) (Value, *Status) {
		ra, err1 := xacml.ParseX500Name(a.S)
		rb, err2 := xacml.ParseX500Name(b.S)
		if err1 != nil || err2 != nil || len(ra) > len(rb) {
			return vFalse, nil
		}
		off := len(rb) - len(ra)
		for i := range ra {
			if !rdnEqual(ra[i], rb[off+i]) {
				return vFalse, nil
			}
		}
		return vTrue, nil
	}
	r.add(f)
	f = fixed("rfc822Name-match", tBool, tString, tRFC822)
	f.f2 = func(p, n Value) (Value, *Status) {
		at := strings.LastIndexByte(n.S, '@')
		local, domain := n.S[:max(at, 0)], n.S[at+1:]
		switch {
		case strings.Contains(p.S, "@"):
			pa := strings.LastIndexByte(p.S, '@')
			return boolV(p.S[:pa] == local && strings.EqualFold(p.S[pa+1:], domain)), nil
		case strings.HasPrefix(p.S, "."):
			return boolV(len(domain) > len(p.S) && strings.EqualFold(domain[len(domain)-len(p.S):], p.S)), nil
		}
		return boolV(strings.EqualFold(p.S, domain)), nil
	}
	r.add(f)
}

// Bag functions.

func bagArg(f *funcEntry, args []*expr, i int, t DataType) error {
	a := args[i]
	if a.fn != nil || !a.t.bag || a.t.dt != t {
		return fmt.Errorf("%s argument %d must be a bag of %s, not %s", f.name, i+1, t.Short(), describe(a))
	}
	return nil
}

func primArg(f *funcEntry, args []*expr, i int, t DataType) error {
	a := args[i]
	if a.fn != nil || a.t.bag || a.t.dt != t {
		return fmt.Errorf("%s argument %d must be a single %s, not %s", f.name, i+1, t.Short(), describe(a))
	}
	return nil
}

func describe(a *expr) string {
	if a.fn != nil {
		return "a function"
	}
	return a.t.String()
}

func nargs(f *funcEntry, args []*expr, n int) error {
	if len(args) != n {
		return fmt.Errorf("%s takes %d arguments, got %d", f.name, n, len(args))
	}
	return nil
}

func contains(vs []Value, v Value, eq func(a, b Value) bool) bool {
	for i := range vs {
		if eq(vs[i], v) {
			return true
		}
	}
	return false
}

func addBagFunctions(r registry, t DataType, eq func(a, b Value) bool) {
	n := t.Short()
	r.add(&funcEntry{name: n + "-one-and-only", varMin: -1, special: func(f *funcEntry, args []*expr) (*expr, error) {
		if err := nargs(f, args, 1); err != nil {
			return nil, err
		}
		if err := bagArg(f, args, 0, t); err != nil {
			return nil, err
		}
		a := args[0].many
		name := f.name
		return &expr{t: typ{dt: t}, konst: args[0].konst, one: func(c *evalCtx) (Value, *Status) {
			vs, st := a(c)
			if st != nil {
				return Value{}, st
			}
			if len(vs) != 1 {
				return Value{}, processingError("%s: the bag has %d values, expected exactly one", name, len(vs))
			}
			return vs[0], nil
		}}, nil
	}})
	r.add(&funcEntry{name: n + "-bag-size", varMin: -1, special: func(f *funcEntry, args []*expr) (*expr, error) {
		if err := nargs(f, args, 1); err != nil {
			return nil, err
		}
		if err := bagArg(f, args, 0, t); err != nil {
			return nil, err
		}
		a := args[0].many
		return &expr{t: typ{dt: tInt}, konst: args[0].konst, one: func(c *evalCtx) (Value, *Status) {
			vs, st := a(c)
			if st != nil {
				return Value{}, st
			}
			return Integer(int64(len(vs))), nil
		}}, nil
	}})
	r.add(&funcEntry{name: n + "-is-in", varMin: -1, special: func(f *funcEntry, args []*expr) (*expr, error) {
		if err := nargs(f, args, 2); err != nil {
			return nil, err
		}
		if err := primArg(f, args, 0, t); err != nil {
			return nil, err
		}
		if err := bagArg(f, args, 1, t); err != nil {
			return nil, err
		}
		a, b := args[0].one, args[1].many
		return &expr{t: typ{dt: tBool}, konst: allConst(args), one: func(c *evalCtx) (Value, *Status) {
			v, st := a(c)
			if st != nil {
				return Value{}, st
			}
			vs, st := b(c)
			if st != nil {
				return Value{}, st
			}
			if st := c.spend(len(vs)); st != nil {
				return Value{}, st
			}
			return boolV(contains(vs, v, eq)), nil
		}}, nil
	}})
	r.add(&funcEntry{name: n + "-bag", varMin: -1, special: func(f *funcEntry, args []*expr) (*expr, error) {
		ones := make([]oneFn, len(args))
		for i := range args {
			if err := primArg(f, args, i, t); err != nil {
				return nil, err
			}
			ones[i] = args[i].one
		}
		return &expr{t: typ{dt: t, bag: true}, konst: allConst(args), many: func(c *evalCtx) ([]Value, *Status) {
			out := make([]Value, 0, len(ones))
			for _, o := range ones {
				v, st := o(c)
				if st != nil {
					return nil, st
				}
				out = append(out, v)
			}
			return out, nil
		}}, nil
	}})
	twoBags := func(name string, ret typ, g func(a, b []Value) ([]Value, bool)) {
		r.add(&funcEntry{name: n + name, varMin: -1, special: func(f *funcEntry, args []*expr) (*expr, error) {
			if name == "-union" {
				if len(args) < 2 {
					return nil, fmt.Errorf("%s takes at least 2 arguments, got %d", f.name, len(args))
				}
			} else if err := nargs(f, args, 2); err != nil {
				return nil, err
			}
			bags := make([]bagFn, len(args))
			for i := range args {
				if err := bagArg(f, args, i, t); err != nil {
					return nil, err
				}
				bags[i] = args[i].many
			}
			x := &expr{t: ret, konst: allConst(args)}
			eval := func(c *evalCtx) ([]Value, bool, *Status) {
				acc, st := bags[0](c)
				if st != nil {
					return nil, false, st
				}
				var res bool
				for _, b := range bags[1:] {
					vs, st := b(c)
					if st != nil {
						return nil, false, st
					}
					if st := c.spend((len(acc) + 1) * (len(vs) + 1)); st != nil {
						return nil, false, st
					}
					acc, res = g(acc, vs)
				}
				return acc, res, nil
			}
			if ret.bag {
				x.many = func(c *evalCtx) ([]Value, *Status) {
					vs, _, st := eval(c)
					return vs, st
				}
			} else {
				x.one = func(c *evalCtx) (Value, *Status) {
					_, b, st := eval(c)
					if st != nil {
						return Value{}, st
					}
					return boolV(b), nil
				}
			}
			return x, nil
		}})
	}
	dedup := func(out []Value, vs []Value) []Value {
		for _, v := range vs {
			if !contains(out, v, eq) {
				out = append(out, v)
			}
		}
		return out
	}
	twoBags("-intersection", typ{dt: t, bag: true}, func(a, b []Value) ([]Value, bool) {
		var out []Value
		for _, v := range a {
			if contains(b, v, eq) && !contains(out, v, eq) {
				out = append(out, v)
			}
		}
		return out, false
	})
	twoBags("-union", typ{dt: t, bag: true}, func(a, b []Value) ([]Value, bool) {
		return dedup(dedup(nil, a), b), false
	})
	subset := func(a, b []Value) bool {
		for _, v := range a {
			if !contains(b, v, eq) {
				return false
			}
		}
		return true
	}
	twoBags("-at-least-one-member-of", typ{dt: tBool}, func(a, b []Value) ([]Value, bool) {
		for _, v := range a {
			if contains(b, v, eq) {
				return nil, true
			}
		}
		return nil, false
	})
	twoBags("-subset", typ{dt: tBool}, func(a, b []Value) ([]Value, bool) { return nil, subset(a, b) })
	twoBags("-set-equals", typ{dt: tBool}, func(a, b []Value) ([]Value, bool) { return nil, subset(a, b) && subset(b, a) })
}

// Higher-order functions.

var errNotPredicate = errors.New("the function passed must return a boolean")

func funcArg(f *funcEntry, args []*expr) (*funcEntry, error) {
	if len(args) < 2 {
		return nil, fmt.Errorf("%s takes a function and at least one more argument", f.name)
	}
	if args[0].fn == nil {
		return nil, fmt.Errorf("%s argument 1 must be a Function", f.name)
	}
	g := args[0].fn
	if !g.canCall() {
		return nil, fmt.Errorf("%s cannot be passed to %s", g.name, f.name)
	}
	for i, a := range args[1:] {
		if a.fn != nil {
			return nil, fmt.Errorf("%s argument %d must be a value or a bag, not a function", f.name, i+2)
		}
	}
	return g, nil
}

func addHigherOrder(r registry) {
	// any-of, all-of and map: one bag among the arguments after the function.
	for _, name := range []string{"any-of", "all-of", "map"} {
		kind := name
		r.add(&funcEntry{name: kind, varMin: -1, special: func(f *funcEntry, args []*expr) (*expr, error) {
			g, err := funcArg(f, args)
			if err != nil {
				return nil, err
			}
			rest := args[1:]
			bagIdx := -1
			ts := make([]DataType, len(rest))
			for i, a := range rest {
				ts[i] = a.t.dt
				if a.t.bag {
					if bagIdx >= 0 {
						return nil, fmt.Errorf("%s takes exactly one bag argument", f.name)
					}
					bagIdx = i
				}
			}
			if bagIdx < 0 {
				return nil, fmt.Errorf("%s needs one bag argument", f.name)
			}
			if err := g.checkTypes(ts); err != nil {
				return nil, fmt.Errorf("%s: %v", f.name, err)
			}
			if kind != "map" && g.ret != tBool {
				return nil, fmt.Errorf("%s: %v", f.name, errNotPredicate)
			}
			x := &expr{konst: allConst(rest)}
			eval := func(c *evalCtx, each func(Value) bool) *Status {
				vs := make([]Value, len(rest))
				var bag []Value
				for i, a := range rest {
					if i == bagIdx {
						b, st := a.many(c)
						if st != nil {
							return st
						}
						bag = b
						continue
					}
					v, st := a.one(c)
					if st != nil {
						return st
					}
					vs[i] = v
				}
				if st := c.spend(len(bag)); st != nil {
					return st
				}
				for _, bv := range bag {
					vs[bagIdx] = bv
					res, st := g.call(vs)
					if st != nil {
						return st
					}
					if !each(res) {
						break
					}
				}
				return nil
			}
			switch kind {
			case "map":
				x.t = typ{dt: g.ret, bag: true}
				x.many = func(c *evalCtx) ([]Value, *Status) {
					var out []Value
					st := eval(c, func(v Value) bool { out = append(out, v); return true })
					if st != nil {
						return nil, st
					}
					return out, nil
				}
			default:
				want := kind == "any-of"
				x.t = typ{dt: tBool}
				x.one = func(c *evalCtx) (Value, *Status) {
					found := false
					st := eval(c, func(v Value) bool {
						if (v.I != 0) == want {
							found = true
							return false
						}
						return true
					})
					if st != nil {
						return Value{}, st
					}
					if want {
						return boolV(found), nil
					}
					return boolV(!found), nil
				}
			}
			return x, nil
		}})
	}
	r.add(&funcEntry{name: "any-of-any", varMin: -1, special: func(f *funcEntry, args []*expr) (*expr, error) {
		g, err := funcArg(f, args)
		if err != nil {
			return nil, err
		}
		rest := args[1:]
		ts := make([]DataType, len(rest))
		for i, a := range rest {
			ts[i] = a.t.dt
		}
		if err := g.checkTypes(ts); err != nil {
			return nil, fmt.Errorf("%s: %v", f.name, err)
		}
		if g.ret != tBool {
			return nil, fmt.Errorf("%s: %v", f.name, errNotPredicate)
		}
		return &expr{t: typ{dt: tBool}, konst: allConst(rest), one: func(c *evalCtx) (Value, *Status) {
			lists := make([][]Value, len(rest))
			for i, a := range rest {
				if a.t.bag {
					b, st := a.many(c)
					if st != nil {
						return Value{}, st
					}
					lists[i] = b
				} else {
					v, st := a.one(c)
					if st != nil {
						return Value{}, st
					}
					lists[i] = []Value{v}
				}
			}
			vs := make([]Value, len(rest))
			var rec func(i int) (bool, *Status)
			rec = func(i int) (bool, *Status) {
				if st := c.spend(1); st != nil {
					return false, st
				}
				if i == len(lists) {
					v, st := g.call(vs)
					if st != nil {
						return false, st
					}
					return v.I != 0, nil
				}
				for _, v := range lists[i] {
					vs[i] = v
					ok, st := rec(i + 1)
					if st != nil || ok {
						return ok, st
					}
				}
				return false, nil
			}
			ok, st := rec(0)
			if st != nil {
				return Value{}, st
			}
			return boolV(ok), nil
		}}, nil
	}})
	type quant struct {
		name     string
		outerAll bool // for all a in bag1 (else exists)
		innerAll bool // for all b in bag2 (else exists)
	}
	for _, q := range []quant{{"all-of-any", true, false}, {"any-of-all", false, true}, {"all-of-all", true, true}} {
		q := q
		r.add(&funcEntry{name: q.name, varMin: -1, special: func(f *funcEntry, args []*expr) (*expr, error) {
			g, err := funcArg(f, args)
			if err != nil {
				return nil, err
			}
			if len(args) != 3 || !args[1].t.bag || !args[2].t.bag {
				return nil, fmt.Errorf("%s takes a function and two bags", f.name)
			}
			if err := g.checkTypes([]DataType{args[1].t.dt, args[2].t.dt}); err != nil {
				return nil, fmt.Errorf("%s: %v", f.name, err)
			}
			if g.ret != tBool {
				return nil, fmt.Errorf("%s: %v", f.name, errNotPredicate)
			}
			b1, b2 := args[1].many, args[2].many
			return &expr{t: typ{dt: tBool}, konst: allConst(args[1:]), one: func(c *evalCtx) (Value, *Status) {
				xs, st := b1(c)
				if st != nil {
					return Value{}, st
				}
				ys, st := b2(c)
				if st != nil {
					return Value{}, st
				}
				if st := c.spend((len(xs) + 1) * (len(ys) + 1)); st != nil {
					return Value{}, st
				}
				outer := q.outerAll
				for _, x := range xs {
					inner := q.innerAll
					for _, y := range ys {
						v, st := g.call([]Value{x, y})
						if st != nil {
							return Value{}, st
						}
						if (v.I != 0) != q.innerAll {
							inner = !q.innerAll
							break
						}
					}
					if inner != q.outerAll {
						outer = !q.outerAll
						break
					}
				}
				return boolV(outer), nil
			}}, nil
		}})
	}
}
