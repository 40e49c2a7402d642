package policies

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want Duration
		str  string
	}{
		{"PT30S", Duration{Clock: 30 * time.Second}, "PT30S"},
		{"P30D", Duration{Days: 30}, "P30D"},
		{"P0Y3M0DT0H0M0S", Duration{Months: 3}, "P3M"},
		{"P1Y2M3DT4H5M6S", Duration{Years: 1, Months: 2, Days: 3, Clock: 4*time.Hour + 5*time.Minute + 6*time.Second}, "P1Y2M3DT4H5M6S"},
		{"-P1D", Duration{Negative: true, Days: 1}, "-P1D"},
		{"-PT1.5S", Duration{Negative: true, Clock: 1500 * time.Millisecond}, "-PT1.5S"},
		{"PT0.000000001S", Duration{Clock: 1}, "PT0.000000001S"},
		{"PT1.250S", Duration{Clock: 1250 * time.Millisecond}, "PT1.25S"},
		{"PT90M", Duration{Clock: 90 * time.Minute}, "PT1H30M"},
		{"PT36H", Duration{Clock: 36 * time.Hour}, "PT36H"},
		{"P1M", Duration{Months: 1}, "P1M"},
		{"PT1M", Duration{Clock: time.Minute}, "PT1M"},
		{"P0D", Duration{}, "PT0S"},
		{"-PT0S", Duration{}, "PT0S"},
		{"P10000Y", Duration{Years: 10000}, "P10000Y"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if err != nil {
				t.Fatalf("ParseDuration(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseDuration(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if s := got.String(); s != tt.str {
				t.Errorf("String() = %q, want %q", s, tt.str)
			}
			back, err := ParseDuration(got.String())
			if err != nil || back != got {
				t.Errorf("String() does not parse back: %v %+v", err, back)
			}
		})
	}
}

func TestParseDurationErrors(t *testing.T) {
	tests := []struct{ in, why string }{
		{"", "starts with"},
		{"30D", "starts with"},
		{"P", "at least one field"},
		{"-P", "at least one field"},
		{"PT", `"T" must be followed`},
		{"P1DT", `"T" must be followed`},
		{"P1H", "date part"},
		{"PT1D", "after T"},
		{"P1D1M", "order"},
		{"PT1S1M", "order"},
		{"P1M1M", "order"},
		{"P1.5D", "only seconds"},
		{"PT1.5M", "only seconds"},
		{"PT1.0000000001S", "9 fractional digits"},
		{"P-1D", "expected a number"},
		{"P1", "no unit"},
		{"PT1..2S", "not a number"},
		{"PT.5S", "not a number"},
		{"PT5.S", "not a number"},
		{"P10001Y", "years"},
		{"P99999999999999999999D", "out of range"},
		{"PT9999999999999999999H", "too large"},
		{"PT3000000H", "too large"},
		{"P1D ", "expected a number"},
		{"p1d", "starts with"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseDuration(tt.in)
			if err == nil {
				t.Fatalf("ParseDuration(%q) accepted", tt.in)
			}
			if !errors.Is(err, ErrDuration) {
				t.Errorf("error %v does not wrap ErrDuration", err)
			}
			if !strings.Contains(err.Error(), tt.why) {
				t.Errorf("error %q does not say %q", err, tt.why)
			}
		})
	}
}

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDurationAddTo(t *testing.T) {
	tests := []struct{ start, dur, want string }{
		{"2026-01-31T10:00:00Z", "P1M", "2026-02-28T10:00:00Z"},
		{"2024-01-31T10:00:00Z", "P1M", "2024-02-29T10:00:00Z"},
		{"2026-03-31T00:00:00Z", "-P1M", "2026-02-28T00:00:00Z"},
		{"2026-01-15T00:00:00Z", "P30D", "2026-02-14T00:00:00Z"},
		{"2026-12-15T00:00:00Z", "P1M", "2027-01-15T00:00:00Z"},
		{"2026-01-15T00:00:00Z", "-P1M", "2025-12-15T00:00:00Z"},
		{"2026-01-15T00:00:00Z", "P1Y2M", "2027-03-15T00:00:00Z"},
		{"2024-02-29T00:00:00Z", "P1Y", "2025-02-28T00:00:00Z"},
		{"2026-01-15T00:00:00Z", "PT30S", "2026-01-15T00:00:30Z"},
		{"2026-01-15T00:00:00Z", "-PT1.5S", "2026-01-14T23:59:58.5Z"},
		{"2026-01-31T23:00:00Z", "P1MT2H", "2026-03-01T01:00:00Z"},
		{"2026-01-31T00:00:00Z", "P1M1D", "2026-03-01T00:00:00Z"},
		{"2026-01-15T00:00:00Z", "-P13M", "2024-12-15T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.start+"+"+tt.dur, func(t *testing.T) {
			got := MustParseDuration(tt.dur).AddTo(date(tt.start))
			if !got.Equal(date(tt.want)) {
				t.Errorf("%s + %s = %s, want %s", tt.start, tt.dur, got.Format(time.RFC3339Nano), tt.want)
			}
		})
	}
}

func TestDurationCompare(t *testing.T) {
	tests := []struct {
		a, b string
		ref  string
		want int
	}{
		{"P1M", "P30D", "2026-02-01T00:00:00Z", -1}, // February: 28 days
		{"P1M", "P30D", "2026-03-01T00:00:00Z", 1},  // March: 31 days
		{"P1M", "P30D", "2026-04-01T00:00:00Z", 0},  // April: 30 days
		{"P1D", "PT24H", "2026-04-01T00:00:00Z", 0},
		{"PT1H", "PT60M", "2026-04-01T00:00:00Z", 0},
		{"PT59M", "PT1H", "2026-04-01T00:00:00Z", -1},
		{"P1Y", "P12M", "2026-04-01T00:00:00Z", 0},
		{"P1Y", "P365D", "2024-01-01T00:00:00Z", 1}, // leap year
		{"-P1D", "PT0S", "2026-04-01T00:00:00Z", -1},
		{"PT9S", "PT10S", "2026-04-01T00:00:00Z", -1},
	}
	for _, tt := range tests {
		t.Run(tt.a+"vs"+tt.b+"@"+tt.ref, func(t *testing.T) {
			got := MustParseDuration(tt.a).Compare(MustParseDuration(tt.b), date(tt.ref))
			if got != tt.want {
				t.Errorf("Compare = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestDurationNoLongerThan(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"P30D", "P30D", true},
		{"P29D", "P30D", true},
		{"P31D", "P30D", false},
		{"PT9S", "PT10S", true},  // not string order
		{"PT10S", "PT9S", false}, // not string order
		{"PT1H", "PT59M", false}, // not string order
		{"PT23H", "P1D", true},
		{"P1D", "PT24H", true},
		{"P1Y", "P12M", true},
		{"P12M", "P1Y", true},
		{"P11M", "P1Y", true},
		{"P1M", "P30D", false}, // may be 31 days
		{"P30D", "P1M", false}, // February
		{"P28D", "P1M", true},
		{"P1M", "P31D", true},
		{"P1M", "P32D", true},
		{"P2M", "P61D", false}, // could be 62 days
		{"P2M", "P62D", true},
		{"PT1.5S", "PT1.4S", false},
		{"PT1.4S", "PT1.5S", true},
		{"-PT1.5S", "-PT1.2S", true},
		{"-P1M", "PT0S", true},
		{"P1MT0.5S", "P31DT0.4S", false},
		{"P1MT0.5S", "P31DT0.6S", true},
	}
	for _, tt := range tests {
		t.Run(tt.a+"<="+tt.b, func(t *testing.T) {
			a, b := MustParseDuration(tt.a), MustParseDuration(tt.b)
			if got := a.NoLongerThan(b); got != tt.want {
				t.Errorf("NoLongerThan = %v, want %v", got, tt.want)
			}
			if !tt.want {
				return
			}
			// Whenever the rule says "no longer", it must hold at every
			// reference time: check the start of each day of two years.
			ref := date("2023-01-01T00:00:00Z")
			for i := 0; i < 731; i++ {
				r := ref.AddDate(0, 0, i)
				if a.Compare(b, r) > 0 {
					t.Fatalf("%s is longer than %s at %s", tt.a, tt.b, r)
				}
			}
		})
	}
}

func TestDurationText(t *testing.T) {
	var d Duration
	if err := d.UnmarshalText([]byte("P1DT1H")); err != nil {
		t.Fatal(err)
	}
	b, _ := d.MarshalText()
	if string(b) != "P1DT1H" {
		t.Errorf("MarshalText = %s", b)
	}
	if err := d.UnmarshalText([]byte("1 day")); !errors.Is(err, ErrDuration) {
		t.Errorf("UnmarshalText(1 day) = %v", err)
	}
}

// FuzzParseDuration checks that ParseDuration never panics, that accepted
// durations print canonically and parse back equal, and that adding them
// to a time never panics.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"PT30S", "P30D", "P0Y3M0DT0H0M0S", "-PT1.5S", "P1Y2M3DT4H5M6.789S", "P10000Y", "PT0S"} {
		f.Add(s)
	}
	ref := time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if !errors.Is(err, ErrDuration) {
				t.Fatalf("error %v does not wrap ErrDuration", err)
			}
			return
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Fatalf("%q -> %q -> %+v, %v", s, d.String(), back, err)
		}
		_ = d.AddTo(ref)
		if d.Compare(d, ref) != 0 || !d.NoLongerThan(d) {
			t.Fatalf("%q is not equal to itself", s)
		}
	})
}
