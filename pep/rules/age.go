package rules

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Age is a length of time used by older_than filters and retention
// settings: a calendar part (years, months, days, applied with calendar
// arithmetic) and an exact clock part.
type Age struct {
	Years, Months, Days int
	Clock               time.Duration
}

// ErrBadAge is wrapped by ParseAge's errors.
var ErrBadAge = errors.New("not a duration")

// ParseAge reads an age in one of three notations:
//   - an xs:duration such as "P30D", "P1Y6M", "PT12H" or "P0Y3M0DT0H0M0S";
//   - a Go duration such as "720h" or "90m";
//   - a whole number of days followed by "d", such as "90d".
//
// Negative and zero ages are refused.
func ParseAge(s string) (Age, error) {
	var a Age
	var err error
	switch {
	case s == "":
		return Age{}, fmt.Errorf("%w: empty", ErrBadAge)
	case strings.HasPrefix(s, "P"):
		a, err = parseXSDuration(s)
	case strings.HasSuffix(s, "d") && isDigits(s[:len(s)-1]):
		n, perr := strconv.Atoi(s[:len(s)-1])
		if perr != nil || n > 1_000_000 {
			return Age{}, fmt.Errorf("%w: %q is out of range", ErrBadAge, s)
		}
		a = Age{Days: n}
	default:
		d, perr := time.ParseDuration(s)
		if perr != nil {
			return Age{}, fmt.Errorf("%w: %q is neither an xs:duration (P30D), a Go duration (720h) nor a number of days (90d)", ErrBadAge, s)
		}
		if d <= 0 {
			return Age{}, fmt.Errorf("%w: %q must be positive", ErrBadAge, s)
		}
		a = Age{Clock: d}
	}
	if err != nil {
		return Age{}, err
	}
	if a.Years == 0 && a.Months == 0 && a.Days == 0 && a.Clock == 0 {
		return Age{}, fmt.Errorf("%w: %q must be positive", ErrBadAge, s)
	}
	return a, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// parseXSDuration parses a non-negative xs:duration (PnYnMnDTnHnMnS; the
// seconds may have a fraction).
func parseXSDuration(s string) (Age, error) {
	bad := func(why string) (Age, error) {
		return Age{}, fmt.Errorf("%w: %q is not an xs:duration (%s)", ErrBadAge, s, why)
	}
	rest := s[1:]
	if rest == "" {
		return bad("no component after P")
	}
	var a Age
	inTime := false
	seen := ""
	order := "YMDTHMS"
	pos := 0
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return bad("two T separators")
			}
			inTime = true
			rest = rest[1:]
			if rest == "" {
				return bad("T with nothing after it")
			}
			pos = strings.IndexByte(order, 'T')
			continue
		}
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		if i == 0 || i == len(rest) {
			return bad("a number must be followed by one of Y, M, D, H, M, S")
		}
		num, unit := rest[:i], rest[i]
		rest = rest[i+1:]
		key := string(unit)
		if inTime {
			key = "T" + key
		}
		if strings.Contains(seen, key+",") {
			return bad("component " + string(unit) + " given twice")
		}
		seen += key + ","
		var at int
		if inTime {
			at = strings.IndexByte(order[4:], unit)
			if at >= 0 {
				at += 4
			}
		} else {
			at = strings.IndexByte(order[:3], unit)
		}
		if at < 0 {
			return bad("unknown component " + string(unit))
		}
		if at < pos {
			return bad("components out of order")
		}
		pos = at + 1
		if strings.Contains(num, ".") && !(inTime && unit == 'S') {
			return bad("only seconds may have a fraction")
		}
		if unit == 'S' && inTime {
			f, err := strconv.ParseFloat(num, 64)
			if err != nil || f > 1e12 {
				return bad("seconds out of range")
			}
			a.Clock += time.Duration(f * float64(time.Second))
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil || n > 1_000_000 {
			return bad("number out of range")
		}
		switch {
		case !inTime && unit == 'Y':
			a.Years = n
		case !inTime && unit == 'M':
			a.Months = n
		case !inTime && unit == 'D':
			a.Days = n
		case inTime && unit == 'H':
			a.Clock += time.Duration(n) * time.Hour
		case inTime && unit == 'M':
			a.Clock += time.Duration(n) * time.Minute
		}
	}
	return a, nil
}

// Before returns t moved back by the age: the cut-off time before which a
// record is older than a.
func (a Age) Before(t time.Time) time.Time {
	return t.AddDate(-a.Years, -a.Months, -a.Days).Add(-a.Clock)
}

// String returns the age as an xs:duration.
func (a Age) String() string {
	var b strings.Builder
	b.WriteString("P")
	if a.Years != 0 {
		fmt.Fprintf(&b, "%dY", a.Years)
	}
	if a.Months != 0 {
		fmt.Fprintf(&b, "%dM", a.Months)
	}
	if a.Days != 0 {
		fmt.Fprintf(&b, "%dD", a.Days)
	}
	if a.Clock != 0 {
		b.WriteString("T")
		c := a.Clock
		if h := c / time.Hour; h > 0 {
			fmt.Fprintf(&b, "%dH", h)
			c -= h * time.Hour
		}
		if m := c / time.Minute; m > 0 {
			fmt.Fprintf(&b, "%dM", m)
			c -= m * time.Minute
		}
		if c > 0 {
			b.WriteString(strconv.FormatFloat(c.Seconds(), 'f', -1, 64) + "S")
		}
	}
	if b.Len() == 1 {
		return "PT0S"
	}
	return b.String()
}
