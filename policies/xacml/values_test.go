package xacml

import (
	"testing"
)

func TestParseValue(t *testing.T) {
	tests := []struct {
		dt        DataType
		in, canon string
		ok        bool
	}{
		{DTBoolean, "1", "true", true},
		{DTBoolean, "yes", "", false},
		{DTInteger, "+0042", "42", true},
		{DTInteger, "99999999999999999999", "", false},
		{DTDouble, "1e3", "1000.0", true},
		{DTDouble, "-INF", "-INF", true},
		{DTDouble, "Infinity", "", false},
		{DTTime, "23:59:59.5+02:00", "23:59:59.5+02:00", true},
		{DTTime, "24:00:00", "00:00:00", true},
		{DTTime, "25:00:00", "", false},
		{DTDate, "2024-02-29Z", "2024-02-29Z", true},
		{DTDate, "2023-02-29", "", false},
		{DTDateTime, "2024-01-01T10:00:00-05:00", "2024-01-01T10:00:00-05:00", true},
		{DTDateTime, "2024-01-01 10:00:00", "", false},
		{DTDateTime, "2024-01-01T10:00:00+15:00", "", false},
		{DTDayTimeDuration, "P1DT2H3M4.5S", "P1DT2H3M4.5S", true},
		{DTDayTimeDuration, "-PT90M", "-PT1H30M", true},
		{DTDayTimeDuration, "P1Y", "", false},
		{DTDayTimeDuration, "PT", "", false},
		{DTYearMonthDuration, "P14M", "P1Y2M", true},
		{DTYearMonthDuration, "P1D", "", false},
		{DTAnyURI, "http://a/b?c", "http://a/b?c", true},
		{DTAnyURI, "a b", "", false},
		{DTHexBinary, "0aFF", "0AFF", true},
		{DTHexBinary, "abc", "", false},
		{DTBase64Binary, "aGk=", "aGk=", true},
		{DTBase64Binary, "a", "", false},
		{DTRFC822Name, "a@Example.org", "a@Example.org", true},
		{DTRFC822Name, "example.org", "", false},
		{DTX500Name, "cn=a, o=b\\, inc, c=US", "cn=a, o=b\\, inc, c=US", true},
		{DTX500Name, "just text", "", false},
		{DTIPAddress, "10.0.0.1/255.255.255.0:80-443", "10.0.0.1/255.255.255.0:80-443", true},
		{DTIPAddress, "[2001:db8::1]:8080", "[2001:db8::1]:8080", true},
		{DTIPAddress, "300.0.0.1", "", false},
		{DTDNSName, "*.example.org:443", "*.example.org:443", true},
		{DTDNSName, "-bad-.org", "", false},
	}
	for _, tc := range tests {
		v, err := ParseValue(tc.dt, tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("%s %q: err %v, want ok=%v", tc.dt, tc.in, err, tc.ok)
			continue
		}
		if tc.ok && v.String() != tc.canon {
			t.Errorf("%s %q: canonical %q, want %q", tc.dt, tc.in, v.String(), tc.canon)
		}
	}
}

// FuzzParseValue: every accepted value's canonical form parses back to the
// same canonical form.
func FuzzParseValue(f *testing.F) {
	for _, s := range []string{"1", "-3.5E2", "12:00:00Z", "2024-02-29", "2024-01-31T23:59:59.999+14:00", "P1DT1S", "-P3Y", "0f", "aGk=", "a@b.c", "cn=x,o=y", "10.0.0.1", "[::1]:1-2", "a.b.c"} {
		for dt := DTString; dt < DTXPathExpression; dt++ {
			f.Add(uint8(dt), s)
		}
	}
	f.Fuzz(func(t *testing.T, dt uint8, s string) {
		typ := DataType(dt%uint8(DTXPathExpression-1)) + 1
		v, err := ParseValue(typ, s)
		if err != nil {
			return
		}
		c := v.String()
		w, err := ParseValue(typ, c)
		if err != nil {
			t.Fatalf("%s: canonical form %q of %q does not parse: %v", typ, c, s, err)
		}
		if w.String() != c {
			t.Fatalf("%s: %q → %q → %q", typ, s, c, w.String())
		}
	})
}
