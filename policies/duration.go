package policies

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrDuration is wrapped by every ParseDuration error.
var ErrDuration = errors.New("invalid xs:duration")

// Limits on the calendar fields of a Duration. Larger values describe no
// policy anyone means and would overflow date arithmetic.
const (
	maxYears  = 10_000
	maxMonths = maxYears * 12
	maxDays   = maxYears * 366
)

// ParseDuration reads an xs:duration: an optional minus sign, "P", then
// years (Y), months (M) and days (D), then optionally "T" with hours (H),
// minutes (M) and seconds (S, fractions up to nanoseconds allowed), for
// example PT30S, P30D, P1Y2M, P0Y3M0DT0H0M0S or -PT1.5S. At least one field
// is required, and "T" must be followed by at least one clock field.
//
// Hours, minutes and seconds are kept together as an exact clock duration,
// so PT90M and PT1H30M parse to the same value; years, months and days stay
// separate because their length depends on the date they are added to.
func ParseDuration(s string) (Duration, error) {
	var d Duration
	bad := func(why string) (Duration, error) {
		return Duration{}, fmt.Errorf("%w %q: %s", ErrDuration, s, why)
	}
	rest := s
	if strings.HasPrefix(rest, "-") {
		d.Negative = true
		rest = rest[1:]
	}
	if !strings.HasPrefix(rest, "P") {
		return bad(`a duration starts with "P" (or "-P"), like P30D or PT1H`)
	}
	rest = rest[1:]
	if rest == "" {
		return bad("a duration needs at least one field, like P30D or PT1H")
	}
	datePart, clockPart, hasT := strings.Cut(rest, "T")
	if hasT && clockPart == "" {
		return bad(`"T" must be followed by hours, minutes or seconds`)
	}
	// Date part: Y, M, D in this order.
	order := "YMD"
	pos := 0
	for datePart != "" {
		n, unit, tail, err := field(datePart)
		if err != nil {
			return bad(err.Error())
		}
		i := strings.IndexByte(order, unit)
		if i < 0 {
			return bad(fmt.Sprintf("unexpected %q in the date part (use Y, M, D; hours, minutes and seconds go after T)", string(unit)))
		}
		if i < pos {
			return bad("date fields must be in the order Y, M, D, each at most once")
		}
		pos = i + 1
		if strings.Contains(n, ".") {
			return bad("only seconds may have a fraction")
		}
		v, err := strconv.Atoi(n)
		if err != nil {
			return bad(fmt.Sprintf("%s%c is out of range", n, unit))
		}
		switch unit {
		case 'Y':
			if v > maxYears {
				return bad(fmt.Sprintf("more than %d years", maxYears))
			}
			d.Years = v
		case 'M':
			if v > maxMonths {
				return bad(fmt.Sprintf("more than %d months", maxMonths))
			}
			d.Months = v
		case 'D':
			if v > maxDays {
				return bad(fmt.Sprintf("more than %d days", maxDays))
			}
			d.Days = v
		}
		datePart = tail
	}
	// Clock part: H, M, S in this order.
	order, pos = "HMS", 0
	var clock float64 // only used for the overflow check
	for clockPart != "" {
		n, unit, tail, err := field(clockPart)
		if err != nil {
			return bad(err.Error())
		}
		i := strings.IndexByte(order, unit)
		if i < 0 {
			return bad(fmt.Sprintf("unexpected %q after T (use H, M, S)", string(unit)))
		}
		if i < pos {
			return bad("clock fields must be in the order H, M, S, each at most once")
		}
		pos = i + 1
		if strings.Contains(n, ".") && unit != 'S' {
			return bad("only seconds may have a fraction")
		}
		var unitDur time.Duration
		switch unit {
		case 'H':
			unitDur = time.Hour
		case 'M':
			unitDur = time.Minute
		case 'S':
			unitDur = time.Second
		}
		whole, frac, _ := strings.Cut(n, ".")
		if len(frac) > 9 {
			return bad("seconds have at most 9 fractional digits (nanoseconds)")
		}
		w, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || float64(w)*float64(unitDur)+clock > math.MaxInt64/2 {
			return bad("the hours, minutes and seconds are too large")
		}
		clock += float64(w) * float64(unitDur)
		d.Clock += time.Duration(w) * unitDur
		if frac != "" {
			ns, _ := strconv.Atoi((frac + "000000000")[:9])
			d.Clock += time.Duration(ns)
		}
		clockPart = tail
	}
	if d.IsZero() {
		d.Negative = false
	}
	return d, nil
}

// field splits "12D..." into "12", 'D' and the rest.
func field(s string) (num string, unit byte, rest string, err error) {
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	if i == 0 {
		return "", 0, "", fmt.Errorf("expected a number at %q", s)
	}
	if i == len(s) {
		return "", 0, "", fmt.Errorf("the number %s has no unit letter", s[:i])
	}
	num = s[:i]
	if strings.Count(num, ".") > 1 || num[0] == '.' || num[len(num)-1] == '.' {
		return "", 0, "", fmt.Errorf("%q is not a number", num)
	}
	return num, s[i], s[i+1:], nil
}

// MustParseDuration is ParseDuration for constants in code and tests; it
// panics on an invalid duration.
func MustParseDuration(s string) Duration {
	d, err := ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return d
}

// IsZero reports whether d has no length.
func (d Duration) IsZero() bool {
	return d.Years == 0 && d.Months == 0 && d.Days == 0 && d.Clock == 0
}

// String returns d as a canonical xs:duration: zero fields left out, the
// clock part as hours, minutes and seconds (fractions without trailing
// zeros), "PT0S" for zero. ParseDuration(d.String()) == d for every d
// ParseDuration returns.
func (d Duration) String() string {
	if d.IsZero() {
		return "PT0S"
	}
	var b strings.Builder
	if d.Negative {
		b.WriteByte('-')
	}
	b.WriteByte('P')
	put := func(v int64, unit byte) {
		if v != 0 {
			b.WriteString(strconv.FormatInt(v, 10))
			b.WriteByte(unit)
		}
	}
	put(int64(d.Years), 'Y')
	put(int64(d.Months), 'M')
	put(int64(d.Days), 'D')
	if d.Clock != 0 {
		b.WriteByte('T')
		c := d.Clock
		if c < 0 { // only reachable for values built in code
			c = -c
		}
		h := c / time.Hour
		c -= h * time.Hour
		m := c / time.Minute
		c -= m * time.Minute
		put(int64(h), 'H')
		put(int64(m), 'M')
		if c != 0 {
			sec := c / time.Second
			ns := c - sec*time.Second
			b.WriteString(strconv.FormatInt(int64(sec), 10))
			if ns != 0 {
				f := strings.TrimRight(fmt.Sprintf("%09d", int64(ns)), "0")
				b.WriteByte('.')
				b.WriteString(f)
			}
			b.WriteByte('S')
		}
	}
	return b.String()
}

// MarshalText implements encoding.TextMarshaler (the canonical form).
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseDuration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// AddTo returns t + d following the XML Schema rule (xs:duration,
// appendix E of XML Schema Part 2): months and years are added first and the
// day of month is pinned to the last day of the resulting month (31 January
// + P1M is 28 or 29 February, never 3 March), then days are added in t's
// location, then the exact clock part. A negative duration subtracts in the
// same way.
func (d Duration) AddTo(t time.Time) time.Time {
	sign := 1
	if d.Negative {
		sign = -1
	}
	if months := sign * (d.Years*12 + d.Months); months != 0 {
		y, m, day := t.Date()
		hh, mm, ss := t.Clock()
		total := int(m) - 1 + months
		y += floorDiv(total, 12)
		m = time.Month(total-floorDiv(total, 12)*12) + 1
		if last := daysIn(y, m); day > last {
			day = last
		}
		t = time.Date(y, m, day, hh, mm, ss, t.Nanosecond(), t.Location())
	}
	if d.Days != 0 {
		if t.Location() == time.UTC {
			// A day is always 24 hours in UTC; skip the calendar.
			t = t.Add(time.Duration(sign*d.Days) * 24 * time.Hour)
		} else {
			t = t.AddDate(0, 0, sign*d.Days)
		}
	}
	return t.Add(time.Duration(sign) * d.Clock)
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// Compare compares d and o as real durations starting at ref: it returns
// -1, 0 or +1 as ref+d is before, equal to or after ref+o. P1M and P30D
// compare differently in February and in March, which is why a reference
// time is needed; Sticky uses the record's storage time.
func (d Duration) Compare(o Duration, ref time.Time) int {
	return d.AddTo(ref).Compare(o.AddTo(ref))
}

// NoLongerThan reports whether d is no longer than o at every reference
// time, so it can be decided without knowing when the duration starts. It
// is exact when both durations have the same number of months (years count
// as 12 months) and otherwise assumes the worst case: every month of d has
// 31 days and every month of o has 28 days (a month is never shorter when
// added with the day pinned to the end of the month).
func (d Duration) NoLongerThan(o Duration) bool {
	dm, ds, dn := d.split()
	om, os, on := o.split()
	const day = 24 * 60 * 60
	switch {
	case dm < om:
		// d has fewer months: the gap is at least 28 days a month.
		os += (om - dm) * 28 * day
	case dm > om:
		// d has more months: the gap is at most 31 days a month.
		ds += (dm - om) * 31 * day
	}
	ds, dn = norm(ds, dn)
	os, on = norm(os, on)
	return ds < os || ds == os && dn <= on
}

// norm moves a negative nanosecond part into the seconds, so that
// (seconds, nanoseconds) pairs compare lexicographically.
func norm(sec, nsec int64) (int64, int64) {
	if nsec < 0 {
		return sec - 1, nsec + int64(time.Second)
	}
	return sec, nsec
}

// split returns d as signed months and a signed fixed part in seconds and
// nanoseconds (days as 24 hours, which is exact in UTC where Sticky does
// its arithmetic). The calendar limits of ParseDuration keep every value
// far from overflowing.
func (d Duration) split() (months, sec, nsec int64) {
	months = int64(d.Years)*12 + int64(d.Months)
	sec = int64(d.Days)*24*60*60 + int64(d.Clock/time.Second)
	nsec = int64(d.Clock % time.Second)
	if d.Negative {
		return -months, -sec, -nsec
	}
	return months, sec, nsec
}
