package engine

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stickypolicy/sticky/policies/xacml"
	"github.com/stickypolicy/sticky/policies/xmlsafe"
)

func noFolding() Option { return func(o *options) { o.noFold = true } }

func dtURI(short string) string {
	for _, t := range xacml.AllDataTypes() {
		if t.Short() == short {
			return t.URI()
		}
	}
	panic("unknown type " + short)
}

// v writes an AttributeValue.
func v(dt, val string) string {
	return fmt.Sprintf(`<AttributeValue DataType="%s">%s</AttributeValue>`, dtURI(dt), val)
}

// app writes an Apply; the 1.0 prefix is accepted for every function.
func app(fn string, args ...string) string {
	return fmt.Sprintf(`<Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:%s">%s</Apply>`, fn, strings.Join(args, ""))
}

func fn(name string) string {
	return fmt.Sprintf(`<Function FunctionId="urn:oasis:names:tc:xacml:1.0:function:%s"/>`, name)
}

func bag(dt string, vals ...string) string {
	var args []string
	for _, x := range vals {
		args = append(args, v(dt, x))
	}
	return app(dt+"-bag", args...)
}

func conditionPolicy(cond string) string {
	return `<Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="f" Version="1.0"
 RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides"><Target/>
<Rule RuleId="r" Effect="Permit"><Condition>` + cond + `</Condition></Rule></Policy>`
}

type outcome int

const (
	isTrue outcome = iota
	isFalse
	isError  // Indeterminate at run time; a constant expression is rejected
	rejected // a static error (types, arity, unsupported)
)

func (o outcome) String() string {
	return [...]string{"true", "false", "error", "rejected"}[o]
}

// evalCondition compiles the condition (folded or not) and evaluates it.
func evalCondition(t *testing.T, cond string, fold bool) outcome {
	t.Helper()
	root, err := ParsePolicy([]byte(conditionPolicy(cond)))
	if err != nil {
		var ve *xmlsafe.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("parse: %v", err)
		}
		return rejected
	}
	var opts []Option
	if !fold {
		opts = append(opts, noFolding())
	}
	p, err := Compile(root, opts...)
	if err != nil {
		if fold && strings.Contains(err.Error(), "constant expression fails") {
			return isError
		}
		return rejected
	}
	switch r := p.Evaluate(NewRequest()); r.Decision {
	case Permit:
		return isTrue
	case NotApplicable:
		return isFalse
	default:
		if r.Status == nil || r.Status.Code == "" {
			t.Errorf("Indeterminate without status")
		}
		return isError
	}
}

func TestFunctions(t *testing.T) {
	tests := []struct {
		name string
		cond string
		want outcome
	}{
		// Equality.
		{"string-equal", app("string-equal", v("string", "a"), v("string", "a")), isTrue},
		{"string-equal differs", app("string-equal", v("string", "a"), v("string", "A")), isFalse},
		{"string-equal-ignore-case", app("string-equal-ignore-case", v("string", "Abc"), v("string", "aBC")), isTrue},
		{"boolean-equal", app("boolean-equal", v("boolean", "1"), v("boolean", "true")), isTrue},
		{"integer-equal", app("integer-equal", v("integer", "+007"), v("integer", "7")), isTrue},
		{"double-equal", app("double-equal", v("double", "1.5E0"), v("double", "1.50")), isTrue},
		{"date-equal with zones", app("dateTime-equal", v("dateTime", "2002-03-22T08:23:47-05:00"), v("dateTime", "2002-03-22T13:23:47Z")), isTrue},
		{"time-equal", app("time-equal", v("time", "08:23:47"), v("time", "08:23:47.000")), isTrue},
		{"dayTimeDuration-equal", app("dayTimeDuration-equal", v("dayTimeDuration", "P1D"), v("dayTimeDuration", "PT24H")), isTrue},
		{"yearMonthDuration-equal", app("yearMonthDuration-equal", v("yearMonthDuration", "P1Y"), v("yearMonthDuration", "P12M")), isTrue},
		{"anyURI-equal", app("anyURI-equal", v("anyURI", "http://a/b"), v("anyURI", "http://a/b")), isTrue},
		{"hexBinary-equal", app("hexBinary-equal", v("hexBinary", "0fa1"), v("hexBinary", "0FA1")), isTrue},
		{"base64Binary-equal", app("base64Binary-equal", v("base64Binary", "aGk="), v("base64Binary", "aGk=")), isTrue},
		{"rfc822Name-equal domain case", app("rfc822Name-equal", v("rfc822Name", "Anne@EXAMPLE.com"), v("rfc822Name", "Anne@example.COM")), isTrue},
		{"rfc822Name-equal local case", app("rfc822Name-equal", v("rfc822Name", "anne@example.com"), v("rfc822Name", "Anne@example.com")), isFalse},
		{"x500Name-equal", app("x500Name-equal", v("x500Name", "cn=John Smith, o=Medico Corp, c=US"), v("x500Name", "CN=John  Smith,O=Medico Corp,C=US")), isTrue},
		// Arithmetic.
		{"integer-add", app("integer-equal", app("integer-add", v("integer", "1"), v("integer", "2"), v("integer", "3")), v("integer", "6")), isTrue},
		{"integer-subtract", app("integer-equal", app("integer-subtract", v("integer", "1"), v("integer", "3")), v("integer", "-2")), isTrue},
		{"integer-multiply", app("integer-equal", app("integer-multiply", v("integer", "4"), v("integer", "3")), v("integer", "12")), isTrue},
		{"integer-divide", app("integer-equal", app("integer-divide", v("integer", "7"), v("integer", "2")), v("integer", "3")), isTrue},
		{"integer-divide by zero", app("integer-equal", app("integer-divide", v("integer", "7"), v("integer", "0")), v("integer", "3")), isError},
		{"integer-mod", app("integer-equal", app("integer-mod", v("integer", "7"), v("integer", "3")), v("integer", "1")), isTrue},
		{"integer-abs", app("integer-equal", app("integer-abs", v("integer", "-7")), v("integer", "7")), isTrue},
		{"double-divide", app("double-equal", app("double-divide", v("double", "1"), v("double", "4")), v("double", "0.25")), isTrue},
		{"double-divide by zero", app("double-equal", app("double-divide", v("double", "1"), v("double", "0")), v("double", "0.25")), isError},
		{"round half even", app("double-equal", app("round", v("double", "2.5")), v("double", "2")), isTrue},
		{"floor", app("double-equal", app("floor", v("double", "-2.5")), v("double", "-3")), isTrue},
		{"double-to-integer", app("integer-equal", app("double-to-integer", v("double", "-2.7")), v("integer", "-2")), isTrue},
		{"integer-to-double", app("double-equal", app("integer-to-double", v("integer", "3")), v("double", "3.0")), isTrue},
		// Comparison.
		{"string-less-than", app("string-less-than", v("string", "abc"), v("string", "abd")), isTrue},
		{"integer-greater-than-or-equal", app("integer-greater-than-or-equal", v("integer", "3"), v("integer", "3")), isTrue},
		{"double-less-than NaN", app("double-less-than", v("double", "NaN"), v("double", "1")), isFalse},
		{"dateTime-greater-than", app("dateTime-greater-than", v("dateTime", "2024-01-01T00:00:01Z"), v("dateTime", "2024-01-01T00:00:00Z")), isTrue},
		{"date-less-than-or-equal", app("date-less-than-or-equal", v("date", "2024-01-01"), v("date", "2024-01-02")), isTrue},
		{"time-in-range", app("time-in-range", v("time", "23:30:00Z"), v("time", "22:00:00Z"), v("time", "02:00:00Z")), isTrue},
		{"time-in-range outside", app("time-in-range", v("time", "12:00:00Z"), v("time", "22:00:00Z"), v("time", "02:00:00Z")), isFalse},
		// Date arithmetic.
		{"dateTime-add-dayTimeDuration", app("dateTime-equal", app("dateTime-add-dayTimeDuration", v("dateTime", "2024-02-28T12:00:00Z"), v("dayTimeDuration", "P1DT12H")), v("dateTime", "2024-03-01T00:00:00Z")), isTrue},
		{"dateTime-subtract-dayTimeDuration", app("dateTime-equal", app("dateTime-subtract-dayTimeDuration", v("dateTime", "2024-03-01T00:00:00Z"), v("dayTimeDuration", "PT1S")), v("dateTime", "2024-02-29T23:59:59Z")), isTrue},
		{"dateTime-add-yearMonthDuration pins the day", app("dateTime-equal", app("dateTime-add-yearMonthDuration", v("dateTime", "2024-01-31T00:00:00Z"), v("yearMonthDuration", "P1M")), v("dateTime", "2024-02-29T00:00:00Z")), isTrue},
		{"date-subtract-yearMonthDuration", app("date-equal", app("date-subtract-yearMonthDuration", v("date", "2024-03-31"), v("yearMonthDuration", "P1Y1M")), v("date", "2023-02-28")), isTrue},
		// Logical.
		{"and", app("and", v("boolean", "true"), v("boolean", "true")), isTrue},
		{"and empty", app("and"), isTrue},
		{"or empty", app("or"), isFalse},
		{"or short-circuits an error", app("or", v("boolean", "true"), app("integer-equal", app("integer-divide", v("integer", "1"), v("integer", "0")), v("integer", "0"))), isTrue},
		{"and false beats an error", app("and", app("integer-equal", app("integer-divide", v("integer", "1"), v("integer", "0")), v("integer", "0")), v("boolean", "false")), isFalse},
		{"not", app("not", v("boolean", "false")), isTrue},
		{"n-of", app("n-of", v("integer", "2"), v("boolean", "true"), v("boolean", "false"), v("boolean", "true")), isTrue},
		{"n-of too few", app("n-of", v("integer", "3"), v("boolean", "true"), v("boolean", "false"), v("boolean", "true")), isFalse},
		{"n-of more than given", app("n-of", v("integer", "4"), v("boolean", "true")), isError},
		// Strings.
		{"string-normalize-space", app("string-equal", app("string-normalize-space", v("string", "  a b \t")), v("string", "a b")), isTrue},
		{"string-normalize-to-lower-case", app("string-equal", app("string-normalize-to-lower-case", v("string", "AbC")), v("string", "abc")), isTrue},
		{"string-concatenate", app("string-equal", app("string-concatenate", v("string", "ab"), v("string", "c"), v("string", "d")), v("string", "abcd")), isTrue},
		{"string-starts-with", app("string-starts-with", v("string", "ab"), v("string", "abc")), isTrue},
		{"string-starts-with order", app("string-starts-with", v("string", "abc"), v("string", "ab")), isFalse},
		{"anyURI-ends-with", app("anyURI-ends-with", v("string", "/b"), v("anyURI", "http://a/b")), isTrue},
		{"string-contains", app("string-contains", v("string", "b"), v("string", "abc")), isTrue},
		{"string-substring", app("string-equal", app("string-substring", v("string", "hello"), v("integer", "1"), v("integer", "3")), v("string", "el")), isTrue},
		{"string-substring to end", app("string-equal", app("string-substring", v("string", "hello"), v("integer", "1"), v("integer", "-1")), v("string", "ello")), isTrue},
		{"string-substring out of range", app("string-equal", app("string-substring", v("string", "hello"), v("integer", "4"), v("integer", "9")), v("string", "o")), isError},
		// Conversions.
		{"integer-from-string", app("integer-equal", app("integer-from-string", v("string", "42")), v("integer", "42")), isTrue},
		{"integer-from-string bad", app("integer-equal", app("integer-from-string", v("string", "4x")), v("integer", "42")), isError},
		{"string-from-double", app("string-equal", app("string-from-double", v("double", "2.5")), v("string", "2.5")), isTrue},
		{"boolean-from-string", app("boolean-from-string", v("string", "true")), isTrue},
		{"dateTime-from-string", app("dateTime-equal", app("dateTime-from-string", v("string", "2024-01-01T00:00:00Z")), v("dateTime", "2024-01-01T00:00:00Z")), isTrue},
		{"string-from-dayTimeDuration", app("string-equal", app("string-from-dayTimeDuration", v("dayTimeDuration", "PT36H")), v("string", "P1DT12H")), isTrue},
		{"ipAddress-from-string", app("string-equal", app("string-from-ipAddress", app("ipAddress-from-string", v("string", "10.0.0.1/255.0.0.0:80-90"))), v("string", "10.0.0.1/255.0.0.0:80-90")), isTrue},
		// Regular expressions (XML Schema syntax, anchored).
		{"regexp anchored", app("string-regexp-match", v("string", "read|write"), v("string", "read")), isTrue},
		{"regexp no partial match", app("string-regexp-match", v("string", "read"), v("string", "unread")), isFalse},
		{"regexp caret is literal", app("string-regexp-match", v("string", "^a"), v("string", "^a")), isTrue},
		{"regexp class subtraction", app("string-regexp-match", v("string", "[a-z-[aeiou]]+"), v("string", "xyz")), isTrue},
		{"regexp class subtraction excludes", app("string-regexp-match", v("string", "[a-z-[aeiou]]+"), v("string", "xaz")), isFalse},
		{"regexp \\d is unicode", app("string-regexp-match", v("string", `\d+`), v("string", "٣4")), isTrue},
		{"regexp \\i\\c*", app("string-regexp-match", v("string", `\i\c*`), v("string", "x-1.b")), isTrue},
		{"regexp bad", app("string-regexp-match", v("string", "a[b"), v("string", "ab")), rejected},
		{"anyURI-regexp-match", app("anyURI-regexp-match", v("string", "http://.*"), v("anyURI", "http://a")), isTrue},
		{"rfc822Name-regexp-match", app("rfc822Name-regexp-match", v("string", ".*@example\\.com"), v("rfc822Name", "a@example.com")), isTrue},
		// Special match functions.
		{"x500Name-match", app("x500Name-match", v("x500Name", "o=Medico Corp, c=US"), v("x500Name", "cn=John Smith, o=Medico Corp, c=US")), isTrue},
		{"x500Name-match not a suffix", app("x500Name-match", v("x500Name", "cn=John Smith"), v("x500Name", "cn=John Smith, o=Medico Corp, c=US")), isFalse},
		{"rfc822Name-match domain", app("rfc822Name-match", v("string", "EXAMPLE.com"), v("rfc822Name", "anne@example.com")), isTrue},
		{"rfc822Name-match subdomain", app("rfc822Name-match", v("string", ".example.com"), v("rfc822Name", "anne@mail.example.com")), isTrue},
		{"rfc822Name-match subdomain only", app("rfc822Name-match", v("string", ".example.com"), v("rfc822Name", "anne@example.com")), isFalse},
		{"rfc822Name-match mailbox", app("rfc822Name-match", v("string", "anne@example.com"), v("rfc822Name", "Anne@example.com")), isFalse},
		// Bags.
		{"one-and-only", app("string-equal", app("string-one-and-only", bag("string", "a")), v("string", "a")), isTrue},
		{"one-and-only of two", app("string-equal", app("string-one-and-only", bag("string", "a", "b")), v("string", "a")), isError},
		{"bag-size", app("integer-equal", app("integer-bag-size", bag("integer", "1", "2", "2")), v("integer", "3")), isTrue},
		{"is-in", app("string-is-in", v("string", "b"), bag("string", "a", "b")), isTrue},
		{"intersection", app("integer-equal", app("string-bag-size", app("string-intersection", bag("string", "a", "b", "b"), bag("string", "b", "c"))), v("integer", "1")), isTrue},
		{"union", app("integer-equal", app("string-bag-size", app("string-union", bag("string", "a", "b"), bag("string", "b", "c"), bag("string", "d"))), v("integer", "4")), isTrue},
		{"at-least-one-member-of", app("string-at-least-one-member-of", bag("string", "x", "b"), bag("string", "b", "c")), isTrue},
		{"subset", app("string-subset", bag("string", "b", "b"), bag("string", "b", "c")), isTrue},
		{"not subset", app("string-subset", bag("string", "a", "b"), bag("string", "b", "c")), isFalse},
		{"set-equals", app("string-set-equals", bag("string", "a", "b", "a"), bag("string", "b", "a")), isTrue},
		{"dayTimeDuration bag", app("dayTimeDuration-is-in", v("dayTimeDuration", "PT60M"), bag("dayTimeDuration", "PT1H")), isTrue},
		// Higher-order.
		{"any-of", app("any-of", fn("string-equal"), v("string", "b"), bag("string", "a", "b")), isTrue},
		{"any-of bag first", app("any-of", fn("string-equal"), bag("string", "a", "b"), v("string", "c")), isFalse},
		{"all-of", app("all-of", fn("integer-greater-than"), v("integer", "10"), bag("integer", "1", "9")), isTrue},
		{"all-of one fails", app("all-of", fn("integer-greater-than"), v("integer", "10"), bag("integer", "1", "19")), isFalse},
		{"any-of-any", app("any-of-any", fn("string-equal"), bag("string", "a", "b"), bag("string", "c", "b")), isTrue},
		{"any-of-any none", app("any-of-any", fn("string-equal"), bag("string", "a", "b"), bag("string", "c", "d")), isFalse},
		{"all-of-any", app("all-of-any", fn("integer-greater-than"), bag("integer", "10", "20"), bag("integer", "1", "15")), isTrue},
		{"all-of-any fails", app("all-of-any", fn("integer-greater-than"), bag("integer", "10", "20"), bag("integer", "11", "15")), isFalse},
		{"any-of-all", app("any-of-all", fn("integer-greater-than"), bag("integer", "3", "5"), bag("integer", "1", "4")), isTrue},
		{"any-of-all fails", app("any-of-all", fn("integer-greater-than"), bag("integer", "3", "4"), bag("integer", "1", "4")), isFalse},
		{"all-of-all", app("all-of-all", fn("integer-greater-than"), bag("integer", "6", "5"), bag("integer", "1", "4")), isTrue},
		{"all-of-all fails", app("all-of-all", fn("integer-greater-than"), bag("integer", "6", "4"), bag("integer", "1", "4")), isFalse},
		{"map", app("string-set-equals", app("map", fn("string-normalize-to-lower-case"), bag("string", "A", "b")), bag("string", "a", "b")), isTrue},
		{"any-of with regexp", app("any-of", fn("string-regexp-match"), v("string", "a.*"), bag("string", "xyz", "abc")), isTrue},
		// Static errors.
		{"wrong type", app("string-equal", v("string", "a"), v("integer", "1")), rejected},
		{"bag where single expected", app("string-equal", v("string", "a"), bag("string", "a")), rejected},
		{"wrong arity", app("not", v("boolean", "true"), v("boolean", "true")), rejected},
		{"non-boolean condition", app("integer-add", v("integer", "1"), v("integer", "2")), rejected},
		{"any-of without bag", app("any-of", fn("string-equal"), v("string", "a"), v("string", "a")), rejected},
		{"any-of with non-predicate", app("any-of", fn("integer-add"), v("integer", "1"), bag("integer", "1")), rejected},
		{"unknown function", app("string-frob", v("string", "a")), rejected},
		{"xpath unsupported", app("xpath-node-count", v("string", "a")), rejected},
		{"bad literal", app("integer-equal", v("integer", "x"), v("integer", "1")), rejected},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := evalCondition(t, tc.cond, true); got != tc.want {
				t.Errorf("folded: got %v, want %v", got, tc.want)
			}
			want := tc.want
			if got := evalCondition(t, tc.cond, false); got != want {
				t.Errorf("at run time: got %v, want %v", got, want)
			}
		})
	}
}

// TestEveryStandardFunctionIsImplemented checks the engine against the
// model's list of standard function names.
func TestEveryStandardFunctionIsImplemented(t *testing.T) {
	unsupported := map[string]bool{"xpath-node-count": true, "xpath-node-equal": true, "xpath-node-match": true, "access-permitted": true}
	for _, name := range xacml.FunctionNames() {
		f := functions[name]
		if f == nil {
			t.Errorf("%s: not in the engine", name)
			continue
		}
		if f.special == nil && !f.canCall() && !unsupported[name] {
			t.Errorf("%s: no implementation", name)
		}
	}
	if len(functions) != len(xacml.FunctionNames()) {
		t.Errorf("engine has %d functions, model lists %d", len(functions), len(xacml.FunctionNames()))
	}
}

// TestEvaluationBudget: a policy whose cost is the product of bag sizes is
// stopped, not run for minutes.
func TestEvaluationBudget(t *testing.T) {
	a, b := make([]string, 2000), make([]string, 2000)
	for i := range a {
		a[i], b[i] = fmt.Sprint(i), fmt.Sprint(5000+i)
	}
	cond := app("any-of-any", fn("integer-equal"), bag("integer", a...), bag("integer", b...))
	if got := evalCondition(t, cond, true); got != isError {
		t.Errorf("constant: got %v, want the policy rejected as a failing constant", got)
	}
	if got := evalCondition(t, cond, false); got != isError {
		t.Errorf("at run time: got %v, want Indeterminate", got)
	}
}
