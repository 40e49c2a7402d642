package xacml

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Value is a typed XACML attribute value. Which fields hold the value
// depends on Type:
//
//   - string, anyURI, rfc822Name, x500Name, ipAddress, dnsName: S (lexical form)
//   - hexBinary, base64Binary: S holds the raw bytes
//   - boolean: I (0 or 1); integer: I
//   - double: F
//   - time, date, dateTime: T, with Z set when a timezone was written
//     (values without one are read in UTC)
//   - dayTimeDuration: I nanoseconds; yearMonthDuration: I months
//   - xpathExpression: S (the expression, not evaluated)
type Value struct {
	Type DataType
	Z    bool
	I    int64
	F    float64
	S    string
	T    time.Time
}

// Errors for values that do not fit their data type.
var (
	ErrBadValue = errors.New("bad value for data type")
)

// ParseValue reads the lexical form s of a value of type t.
func ParseValue(t DataType, s string) (Value, error) {
	v := Value{Type: t}
	var err error
	if t != DTString {
		s = strings.TrimSpace(s)
	}
	switch t {
	case DTString, DTXPathExpression:
		v.S = s
	case DTBoolean:
		switch s {
		case "true", "1":
			v.I = 1
		case "false", "0":
		default:
			err = errors.New("a boolean is true, false, 1 or 0")
		}
	case DTInteger:
		v.I, err = ParseInteger(s)
	case DTDouble:
		v.F, err = ParseDouble(s)
	case DTTime:
		v.T, v.Z, err = parseTime(s)
	case DTDate:
		v.T, v.Z, err = parseDate(s)
	case DTDateTime:
		v.T, v.Z, err = parseDateTime(s)
	case DTDayTimeDuration:
		v.I, err = ParseDayTimeDuration(s)
	case DTYearMonthDuration:
		v.I, err = ParseYearMonthDuration(s)
	case DTAnyURI:
		if strings.ContainsAny(s, " <>\"{}|\\^`\x00\t\n\r") {
			err = errors.New("an anyURI may not contain spaces or <>\"{}|\\^`")
		}
		v.S = s
	case DTHexBinary:
		var b []byte
		b, err = hex.DecodeString(s)
		v.S = string(b)
	case DTBase64Binary:
		var b []byte
		b, err = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
		v.S = string(b)
	case DTRFC822Name:
		at := strings.LastIndexByte(s, '@')
		if at <= 0 || at == len(s)-1 || strings.ContainsAny(s, " \t\n") {
			err = errors.New("an rfc822Name is local-part@domain")
		}
		v.S = s
	case DTX500Name:
		_, err = ParseX500Name(s)
		v.S = s
	case DTIPAddress:
		err = checkIPAddress(s)
		v.S = s
	case DTDNSName:
		err = checkDNSName(s)
		v.S = s
	default:
		err = errors.New("unknown data type")
	}
	if err != nil {
		return Value{}, fmt.Errorf("%w: %v", ErrBadValue, err)
	}
	return v, nil
}

// String returns the canonical lexical form of v.
func (v Value) String() string {
	switch v.Type {
	case DTBoolean:
		if v.I != 0 {
			return "true"
		}
		return "false"
	case DTInteger:
		return strconv.FormatInt(v.I, 10)
	case DTDouble:
		return FormatDouble(v.F)
	case DTTime:
		return formatClock(v.T) + formatZone(v.T, v.Z)
	case DTDate:
		return fmt.Sprintf("%s%s", formatYMD(v.T), formatZone(v.T, v.Z))
	case DTDateTime:
		return formatYMD(v.T) + "T" + formatClock(v.T) + formatZone(v.T, v.Z)
	case DTDayTimeDuration:
		return FormatDayTimeDuration(v.I)
	case DTYearMonthDuration:
		return FormatYearMonthDuration(v.I)
	case DTHexBinary:
		return strings.ToUpper(hex.EncodeToString([]byte(v.S)))
	case DTBase64Binary:
		return base64.StdEncoding.EncodeToString([]byte(v.S))
	}
	return v.S
}

var integerRE = regexp.MustCompile(`^[+-]?[0-9]+$`)

// ParseInteger reads an xs:integer that fits in 64 bits.
func ParseInteger(s string) (int64, error) {
	if !integerRE.MatchString(s) {
		return 0, errors.New("an integer is an optional sign and digits")
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "+"), 10, 64)
	if err != nil {
		return 0, errors.New("integer out of the supported 64-bit range")
	}
	return n, nil
}

var doubleRE = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// ParseDouble reads an xs:double (including INF, -INF and NaN).
func ParseDouble(s string) (float64, error) {
	switch s {
	case "INF", "+INF":
		return math.Inf(1), nil
	case "-INF":
		return math.Inf(-1), nil
	case "NaN":
		return math.NaN(), nil
	}
	if !doubleRE.MatchString(s) {
		return 0, errors.New("a double is a decimal number with an optional exponent, INF, -INF or NaN")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, err
	}
	return f, nil
}

// FormatDouble writes a double in its xs:double canonical-ish form.
func FormatDouble(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "INF"
	case math.IsInf(f, -1):
		return "-INF"
	case math.IsNaN(f):
		return "NaN"
	}
	s := strconv.FormatFloat(f, 'G', -1, 64)
	if !strings.ContainsAny(s, ".EN") {
		s += ".0"
	}
	return s
}

var (
	timeRE     = regexp.MustCompile(`^(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$`)
	dateRE     = regexp.MustCompile(`^(-?\d{4,})-(\d{2})-(\d{2})(Z|[+-]\d{2}:\d{2})?$`)
	dateTimeRE = regexp.MustCompile(`^(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$`)
)

func zone(s string) (*time.Location, bool, error) {
	switch {
	case s == "":
		return time.UTC, false, nil
	case s == "Z":
		return time.UTC, true, nil
	}
	h, _ := strconv.Atoi(s[1:3])
	m, _ := strconv.Atoi(s[4:6])
	if h > 14 || m > 59 || (h == 14 && m > 0) {
		return nil, false, errors.New("timezone offset out of range")
	}
	off := h*3600 + m*60
	if s[0] == '-' {
		off = -off
	}
	if off == 0 {
		return time.UTC, true, nil
	}
	return time.FixedZone(s, off), true, nil
}

func clock(hh, mm, ss, frac string) (h, m, sec, ns int, err error) {
	h, _ = strconv.Atoi(hh)
	m, _ = strconv.Atoi(mm)
	sec, _ = strconv.Atoi(ss)
	if frac != "" {
		f := frac[1:]
		if len(f) > 9 {
			f = f[:9]
		}
		for len(f) < 9 {
			f += "0"
		}
		ns, _ = strconv.Atoi(f)
	}
	if h == 24 && m == 0 && sec == 0 && ns == 0 {
		return h, m, sec, ns, nil
	}
	if h > 23 || m > 59 || sec > 59 {
		return 0, 0, 0, 0, errors.New("time of day out of range")
	}
	return h, m, sec, ns, nil
}

func parseTime(s string) (time.Time, bool, error) {
	g := timeRE.FindStringSubmatch(s)
	if g == nil {
		return time.Time{}, false, errors.New("a time is hh:mm:ss[.fff][timezone]")
	}
	h, m, sec, ns, err := clock(g[1], g[2], g[3], g[4])
	if err != nil {
		return time.Time{}, false, err
	}
	loc, hasZ, err := zone(g[5])
	if err != nil {
		return time.Time{}, false, err
	}
	if h == 24 {
		h = 0
	}
	return time.Date(1970, 1, 1, h, m, sec, ns, loc), hasZ, nil
}

func ymd(y, mo, d string) (int, time.Month, int, error) {
	year, err := strconv.Atoi(y)
	if err != nil || year < 1 || year > 9999 {
		return 0, 0, 0, errors.New("the year must be between 0001 and 9999")
	}
	month, _ := strconv.Atoi(mo)
	day, _ := strconv.Atoi(d)
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, time.Month(month)) {
		return 0, 0, 0, errors.New("day or month out of range")
	}
	return year, time.Month(month), day, nil
}

func daysIn(year int, m time.Month) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func parseDate(s string) (time.Time, bool, error) {
	g := dateRE.FindStringSubmatch(s)
	if g == nil {
		return time.Time{}, false, errors.New("a date is yyyy-mm-dd[timezone]")
	}
	y, mo, d, err := ymd(g[1], g[2], g[3])
	if err != nil {
		return time.Time{}, false, err
	}
	loc, hasZ, err := zone(g[4])
	if err != nil {
		return time.Time{}, false, err
	}
	return time.Date(y, mo, d, 0, 0, 0, 0, loc), hasZ, nil
}

func parseDateTime(s string) (time.Time, bool, error) {
	g := dateTimeRE.FindStringSubmatch(s)
	if g == nil {
		return time.Time{}, false, errors.New("a dateTime is yyyy-mm-ddThh:mm:ss[.fff][timezone]")
	}
	y, mo, d, err := ymd(g[1], g[2], g[3])
	if err != nil {
		return time.Time{}, false, err
	}
	h, m, sec, ns, err := clock(g[4], g[5], g[6], g[7])
	if err != nil {
		return time.Time{}, false, err
	}
	loc, hasZ, err := zone(g[8])
	if err != nil {
		return time.Time{}, false, err
	}
	return time.Date(y, mo, d, h, m, sec, ns, loc), hasZ, nil
}

func formatYMD(t time.Time) string {
	return fmt.Sprintf("%04d-%02d-%02d", t.Year(), int(t.Month()), t.Day())
}

func formatClock(t time.Time) string {
	s := fmt.Sprintf("%02d:%02d:%02d", t.Hour(), t.Minute(), t.Second())
	if ns := t.Nanosecond(); ns != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%09d", ns), "0")
	}
	return s
}

func formatZone(t time.Time, hasZ bool) string {
	if !hasZ {
		return ""
	}
	_, off := t.Zone()
	if off == 0 {
		return "Z"
	}
	sign := '+'
	if off < 0 {
		sign = '-'
		off = -off
	}
	return fmt.Sprintf("%c%02d:%02d", sign, off/3600, off%3600/60)
}

var (
	dayTimeRE   = regexp.MustCompile(`^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)
	yearMonthRE = regexp.MustCompile(`^(-)?P(?:(\d+)Y)?(?:(\d+)M)?$`)
)

// ParseDayTimeDuration reads an xs:dayTimeDuration into nanoseconds.
func ParseDayTimeDuration(s string) (int64, error) {
	g := dayTimeRE.FindStringSubmatch(s)
	if g == nil || s == "P" || s == "-P" || strings.HasSuffix(s, "T") {
		return 0, errors.New("a dayTimeDuration is like P1DT2H3M4.5S")
	}
	if g[2] == "" && g[3] == "" && g[4] == "" && g[5] == "" {
		return 0, errors.New("a dayTimeDuration needs at least one component")
	}
	var total float64
	var ns int64
	add := func(part string, unit int64) {
		if part == "" {
			return
		}
		n, _ := strconv.ParseInt(part, 10, 64)
		ns += n * unit
		total += float64(n) * float64(unit)
	}
	add(g[2], int64(24*time.Hour))
	add(g[3], int64(time.Hour))
	add(g[4], int64(time.Minute))
	if g[5] != "" {
		whole, frac, _ := strings.Cut(g[5], ".")
		add(whole, int64(time.Second))
		if frac != "" {
			if len(frac) > 9 {
				frac = frac[:9]
			}
			for len(frac) < 9 {
				frac += "0"
			}
			n, _ := strconv.ParseInt(frac, 10, 64)
			ns += n
		}
	}
	if total > math.MaxInt64/2 {
		return 0, errors.New("duration too long")
	}
	if g[1] == "-" {
		ns = -ns
	}
	return ns, nil
}

// FormatDayTimeDuration writes nanoseconds as an xs:dayTimeDuration.
func FormatDayTimeDuration(ns int64) string {
	var b strings.Builder
	if ns < 0 {
		b.WriteByte('-')
		ns = -ns
	}
	b.WriteByte('P')
	d := ns / int64(24*time.Hour)
	ns -= d * int64(24*time.Hour)
	h := ns / int64(time.Hour)
	ns -= h * int64(time.Hour)
	m := ns / int64(time.Minute)
	ns -= m * int64(time.Minute)
	if d > 0 {
		fmt.Fprintf(&b, "%dD", d)
	}
	if h > 0 || m > 0 || ns > 0 || d == 0 {
		b.WriteByte('T')
		if h > 0 {
			fmt.Fprintf(&b, "%dH", h)
		}
		if m > 0 {
			fmt.Fprintf(&b, "%dM", m)
		}
		if ns > 0 || (h == 0 && m == 0) {
			sec := ns / int64(time.Second)
			frac := ns % int64(time.Second)
			if frac == 0 {
				fmt.Fprintf(&b, "%dS", sec)
			} else {
				fmt.Fprintf(&b, "%d%sS", sec, strings.TrimRight(fmt.Sprintf(".%09d", frac), "0"))
			}
		}
	}
	return b.String()
}

// ParseYearMonthDuration reads an xs:yearMonthDuration into months.
func ParseYearMonthDuration(s string) (int64, error) {
	g := yearMonthRE.FindStringSubmatch(s)
	if g == nil || (g[2] == "" && g[3] == "") {
		return 0, errors.New("a yearMonthDuration is like P1Y2M")
	}
	var months int64
	if g[2] != "" {
		y, err := strconv.ParseInt(g[2], 10, 32)
		if err != nil {
			return 0, errors.New("too many years")
		}
		months += y * 12
	}
	if g[3] != "" {
		m, err := strconv.ParseInt(g[3], 10, 32)
		if err != nil {
			return 0, errors.New("too many months")
		}
		months += m
	}
	if g[1] == "-" {
		months = -months
	}
	return months, nil
}

// FormatYearMonthDuration writes months as an xs:yearMonthDuration.
func FormatYearMonthDuration(months int64) string {
	sign := ""
	if months < 0 {
		sign = "-"
		months = -months
	}
	y, m := months/12, months%12
	switch {
	case y == 0:
		return fmt.Sprintf("%sP%dM", sign, m)
	case m == 0:
		return fmt.Sprintf("%sP%dY", sign, y)
	}
	return fmt.Sprintf("%sP%dY%dM", sign, y, m)
}

// RDN is one attribute type and value of an X.500 name.
type RDN struct{ Type, Value string }

// ParseX500Name reads an RFC 2253 distinguished name into its relative
// distinguished names (multi-valued RDNs are kept as one entry per
// attribute), normalised for comparison: types lower-cased, values with
// whitespace collapsed and lower-cased.
func ParseX500Name(s string) ([][]RDN, error) {
	var out [][]RDN
	var cur []RDN
	var tb, vb strings.Builder
	inValue, quoted := false, false
	flush := func() error {
		t := strings.ToLower(strings.TrimSpace(tb.String()))
		v := strings.Join(strings.Fields(strings.ToLower(vb.String())), " ")
		if t == "" {
			return errors.New("an x500Name is a list of type=value pairs separated by commas")
		}
		cur = append(cur, RDN{t, v})
		tb.Reset()
		vb.Reset()
		inValue = false
		return nil
	}
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			if inValue {
				vb.WriteByte(s[i])
			} else {
				tb.WriteByte(s[i])
			}
		case c == '"' && inValue:
			quoted = !quoted
		case quoted:
			vb.WriteByte(c)
		case c == '=' && !inValue:
			inValue = true
		case (c == ',' || c == ';') && inValue:
			if err := flush(); err != nil {
				return nil, err
			}
			out = append(out, cur)
			cur = nil
		case c == '+' && inValue:
			if err := flush(); err != nil {
				return nil, err
			}
		case inValue:
			vb.WriteByte(c)
		case c == ',' || c == ';' || c == '+':
			return nil, errors.New("an x500Name is a list of type=value pairs separated by commas")
		default:
			tb.WriteByte(c)
		}
	}
	if !inValue || quoted {
		return nil, errors.New("an x500Name is a list of type=value pairs separated by commas")
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return append(out, cur), nil
}

var portRangeRE = regexp.MustCompile(`^(\d+)?(-)?(\d+)?$`)

func checkPortRange(s string) error {
	if s == "" || s == "-" {
		return errors.New("empty port range")
	}
	if !portRangeRE.MatchString(s) {
		return errors.New("a port range is port, port-port, -port or port-")
	}
	return nil
}

func checkIPAddress(s string) error {
	addr, rest := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return errors.New("unclosed [ in IPv6 address")
		}
		addr, rest = s[1:end], s[end+1:]
		ip, err := netip.ParseAddr(addr)
		if err != nil || !ip.Is6() {
			return errors.New("bad IPv6 address")
		}
		if strings.HasPrefix(rest, "/") {
			mask, r2, _ := strings.Cut(rest[1:], ":")
			mask = strings.TrimSuffix(strings.TrimPrefix(mask, "["), "]")
			if _, err := netip.ParseAddr(mask); err != nil {
				return errors.New("bad IPv6 mask")
			}
			if r2 != "" || strings.Contains(rest[1:], ":") && r2 == "" && strings.HasSuffix(rest, ":") {
				rest = ":" + r2
			} else {
				rest = ""
			}
		}
	} else {
		addr, rest, _ = strings.Cut(s, ":")
		if rest != "" || strings.HasSuffix(s, ":") {
			rest = ":" + rest
		}
		a, mask, hasMask := strings.Cut(addr, "/")
		ip, err := netip.ParseAddr(a)
		if err != nil || !ip.Is4() {
			return errors.New("bad IPv4 address")
		}
		if hasMask {
			if m, err := netip.ParseAddr(mask); err != nil || !m.Is4() {
				return errors.New("bad IPv4 mask")
			}
		}
	}
	if rest != "" {
		if !strings.HasPrefix(rest, ":") {
			return errors.New("unexpected text after the address")
		}
		return checkPortRange(rest[1:])
	}
	return nil
}

var hostRE = regexp.MustCompile(`^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.?$`)

func checkDNSName(s string) error {
	host, port, hasPort := strings.Cut(s, ":")
	if !hostRE.MatchString(host) && host != "*" {
		return errors.New("bad host name")
	}
	if hasPort {
		return checkPortRange(port)
	}
	return nil
}
