package obligations

import (
	"time"

	"github.com/stickypolicy/sticky/policies"
)

// addDuration returns t + k*d by the xs:duration rule of policies
// (Duration.AddTo: months pinned to the end of a shorter month), so that
// deadlines agree with the decision point's.
func addDuration(t time.Time, d policies.Duration, k int) time.Time {
	m := policies.Duration{Negative: d.Negative, Years: k * d.Years, Months: k * d.Months, Days: k * d.Days, Clock: time.Duration(k) * d.Clock}
	return m.AddTo(t)
}

// positive reports whether d moves time forward.
func positive(d policies.Duration) bool {
	if d.Negative {
		return false
	}
	return d.Years > 0 || d.Months > 0 || d.Days > 0 || d.Clock > 0
}

// approx is d as an approximate time.Duration, for estimating occurrence
// numbers only.
func approx(d policies.Duration) time.Duration {
	const day = 24 * time.Hour
	return time.Duration(d.Years)*365*day + time.Duration(d.Months)*30*day + time.Duration(d.Days)*day + d.Clock
}

// withDelay returns t + the delay (t when the delay is absent).
func withDelay(t time.Time, d *policies.Duration) time.Time {
	if d == nil {
		return t
	}
	return addDuration(t, *d, 1)
}

// nextOccurrence returns the first k >= minK with Start + k*Period >= t, and
// that occurrence; ok is false when there is none up to End or the period
// does not move time forward.
func (s *Schedule) nextOccurrence(t time.Time, minK int) (int, time.Time, bool) {
	if !positive(s.Period) {
		return 0, time.Time{}, false
	}
	k := minK
	if t.After(s.Start) {
		if a := approx(s.Period); a > 0 {
			est := int(t.Sub(s.Start) / a)
			// The estimate may overshoot for calendar periods (a month is
			// not always 30 days); step back by more than the error.
			est -= est/32 + 2
			if est > k {
				k = est
			}
		}
	}
	at := addDuration(s.Start, s.Period, k)
	for guard := 0; at.Before(t); guard++ {
		if guard > 1000 {
			return 0, time.Time{}, false
		}
		k++
		at = addDuration(s.Start, s.Period, k)
	}
	if !s.End.IsZero() && at.After(s.End) {
		return 0, time.Time{}, false
	}
	return k, at, true
}
