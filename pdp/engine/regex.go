package engine

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// compileXSDRegexp compiles an XML Schema regular expression (the syntax
// XACML's *-regexp-match functions use) into a Go RE2 regexp. XML Schema
// expressions match the whole string, have no ^/$ anchors (those are
// ordinary characters), support character-class subtraction
// ([a-z-[aeiou]]) and the \i \c escapes; all of these are translated.
func compileXSDRegexp(p string) (*regexp.Regexp, error) {
	t, err := translateXSDRegexp(p)
	if err != nil {
		return nil, err
	}
	return regexp.Compile(t)
}

// translateXSDRegexp returns the anchored RE2 form of an XML Schema regexp.
func translateXSDRegexp(p string) (string, error) {
	var b strings.Builder
	b.WriteString(`^(?:`)
	for i := 0; i < len(p); {
		r, size := utf8.DecodeRuneInString(p[i:])
		switch r {
		case '\\':
			set, lit, n, err := parseEscape(p[i:])
			if err != nil {
				return "", err
			}
			if set != nil {
				writeClass(&b, set)
			} else {
				b.WriteString(regexp.QuoteMeta(string(lit)))
			}
			i += n
			continue
		case '[':
			set, n, err := parseClass(p[i:])
			if err != nil {
				return "", err
			}
			writeClass(&b, set)
			i += n
			continue
		case '^', '$':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '.':
			b.WriteString(`[^\n\r]`)
		case '(':
			if strings.HasPrefix(p[i:], "(?") {
				return "", errors.New("(? groups are not XML Schema syntax")
			}
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	b.WriteString(`)$`)
	return b.String(), nil
}

// runeSet is a sorted list of disjoint inclusive rune ranges.
type runeSet [][2]rune

func (s runeSet) norm() runeSet {
	slices.SortFunc(s, func(a, b [2]rune) int { return int(a[0]) - int(b[0]) })
	var out runeSet
	for _, r := range s {
		if n := len(out); n > 0 && r[0] <= out[n-1][1]+1 {
			if r[1] > out[n-1][1] {
				out[n-1][1] = r[1]
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

func (s runeSet) complement() runeSet {
	s = s.norm()
	var out runeSet
	next := rune(0)
	for _, r := range s {
		if r[0] > next {
			out = append(out, [2]rune{next, r[0] - 1})
		}
		next = r[1] + 1
	}
	if next <= unicode.MaxRune {
		out = append(out, [2]rune{next, unicode.MaxRune})
	}
	return out
}

func (s runeSet) minus(t runeSet) runeSet {
	c := t.complement()
	var out runeSet
	for _, a := range s.norm() {
		for _, b := range c {
			lo, hi := max(a[0], b[0]), min(a[1], b[1])
			if lo <= hi {
				out = append(out, [2]rune{lo, hi})
			}
		}
	}
	return out
}

func fromTable(t *unicode.RangeTable) runeSet {
	var out runeSet
	for _, r := range t.R16 {
		for c := rune(r.Lo); c <= rune(r.Hi); c += rune(r.Stride) {
			if r.Stride == 1 {
				out = append(out, [2]rune{rune(r.Lo), rune(r.Hi)})
				break
			}
			out = append(out, [2]rune{c, c})
		}
	}
	for _, r := range t.R32 {
		for c := rune(r.Lo); c <= rune(r.Hi); c += rune(r.Stride) {
			if r.Stride == 1 {
				out = append(out, [2]rune{rune(r.Lo), rune(r.Hi)})
				break
			}
			out = append(out, [2]rune{c, c})
		}
	}
	return out.norm()
}

func writeClass(b *strings.Builder, s runeSet) {
	s = s.norm()
	if len(s) == 0 {
		b.WriteString(`[^\x{0}-\x{10FFFF}]`)
		return
	}
	b.WriteByte('[')
	for _, r := range s {
		fmt.Fprintf(b, `\x{%x}`, r[0])
		if r[1] != r[0] {
			fmt.Fprintf(b, `-\x{%x}`, r[1])
		}
	}
	b.WriteByte(']')
}

func category(name string) (runeSet, error) {
	if t, ok := unicode.Categories[name]; ok {
		return fromTable(t), nil
	}
	if strings.HasPrefix(name, "Is") {
		if t, ok := unicode.Scripts[name[2:]]; ok {
			return fromTable(t), nil
		}
		return nil, fmt.Errorf("unicode block %s is not supported", name)
	}
	return nil, fmt.Errorf("unknown unicode category %s", name)
}

func union(sets ...runeSet) runeSet {
	var out runeSet
	for _, s := range sets {
		out = append(out, s...)
	}
	return out.norm()
}

func lit(rs ...rune) runeSet {
	var out runeSet
	for _, r := range rs {
		out = append(out, [2]rune{r, r})
	}
	return out
}

func mustCat(name string) runeSet {
	s, _ := category(name)
	return s
}

// parseEscape reads an escape at the start of s: either a class escape
// (set) or a single character (lit). n is the bytes consumed.
func parseEscape(s string) (set runeSet, litR rune, n int, err error) {
	if len(s) < 2 {
		return nil, 0, 0, errors.New("trailing backslash")
	}
	c, size := utf8.DecodeRuneInString(s[1:])
	n = 1 + size
	switch c {
	case 'n':
		return nil, '\n', n, nil
	case 'r':
		return nil, '\r', n, nil
	case 't':
		return nil, '\t', n, nil
	case '\\', '|', '.', '-', '^', '?', '*', '+', '{', '}', '(', ')', '[', ']', '$':
		return nil, c, n, nil
	case 'd':
		return mustCat("Nd"), 0, n, nil
	case 'D':
		return mustCat("Nd").complement(), 0, n, nil
	case 's':
		return lit(' ', '\t', '\n', '\r'), 0, n, nil
	case 'S':
		return lit(' ', '\t', '\n', '\r').complement(), 0, n, nil
	case 'w':
		return union(mustCat("P"), mustCat("Z"), mustCat("C")).complement(), 0, n, nil
	case 'W':
		return union(mustCat("P"), mustCat("Z"), mustCat("C")), 0, n, nil
	case 'i':
		return nameStart(), 0, n, nil
	case 'I':
		return nameStart().complement(), 0, n, nil
	case 'c':
		return nameChar(), 0, n, nil
	case 'C':
		return nameChar().complement(), 0, n, nil
	case 'p', 'P':
		if len(s) < 3 || s[2] != '{' {
			return nil, 0, 0, errors.New(`\p needs {name}`)
		}
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return nil, 0, 0, errors.New(`unclosed \p{`)
		}
		set, err := category(s[3:end])
		if err != nil {
			return nil, 0, 0, err
		}
		if c == 'P' {
			set = set.complement()
		}
		return set, 0, end + 1, nil
	}
	return nil, 0, 0, fmt.Errorf(`unknown escape \%c`, c)
}

func nameStart() runeSet { return union(mustCat("L"), lit('_', ':')) }

func nameChar() runeSet {
	return union(mustCat("L"), mustCat("Nd"), mustCat("Mn"), mustCat("Mc"), lit('_', ':', '.', '-', 0xB7))
}

// parseClass reads a character class expression [..] at the start of s,
// with negation and subtraction.
func parseClass(s string) (runeSet, int, error) {
	i := 1
	neg := false
	if strings.HasPrefix(s[i:], "^") {
		neg = true
		i++
	}
	var set runeSet
	first := true
	for {
		if i >= len(s) {
			return nil, 0, errors.New("unclosed character class")
		}
		if s[i] == ']' && !first {
			i++
			break
		}
		if strings.HasPrefix(s[i:], "-[") && !first {
			sub, n, err := parseClass(s[i+1:])
			if err != nil {
				return nil, 0, err
			}
			i += 1 + n
			if i >= len(s) || s[i] != ']' {
				return nil, 0, errors.New("a subtraction must end the character class")
			}
			i++
			if neg {
				set = set.complement()
			}
			return set.minus(sub), i, nil
		}
		first = false
		var lo rune
		if s[i] == '\\' {
			es, l, n, err := parseEscape(s[i:])
			if err != nil {
				return nil, 0, err
			}
			i += n
			if es != nil {
				set = append(set, es...)
				continue
			}
			lo = l
		} else {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == '[' {
				return nil, 0, errors.New("unescaped [ in a character class")
			}
			lo = r
			i += size
		}
		hi := lo
		if i+1 < len(s) && s[i] == '-' && s[i+1] != ']' && s[i+1] != '[' {
			i++
			if s[i] == '\\' {
				_, l, n, err := parseEscape(s[i:])
				if err != nil {
					return nil, 0, err
				}
				if l == 0 {
					return nil, 0, errors.New("a range cannot end in a class escape")
				}
				hi = l
				i += n
			} else {
				r, size := utf8.DecodeRuneInString(s[i:])
				hi = r
				i += size
			}
			if hi < lo {
				return nil, 0, fmt.Errorf("bad range %c-%c", lo, hi)
			}
		}
		set = append(set, [2]rune{lo, hi})
	}
	set = set.norm()
	if neg {
		set = set.complement()
	}
	return set, i, nil
}
