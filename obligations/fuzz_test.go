package obligations

import (
	"testing"
	"time"

	"github.com/stickypolicy/sticky/policies"
)

// FuzzNextOccurrence checks the periodic schedule for any period, start,
// end and time: it terminates, never returns an occurrence before the time
// asked for or after End, and the occurrence is Start + k*Period.
func FuzzNextOccurrence(f *testing.F) {
	f.Add(int64(0), int64(3600), 0, 1, 0, int64(0), int64(90*60), false)
	f.Add(int64(1_000_000), int64(0), 1, 0, 0, int64(0), int64(400*24*3600), false)
	f.Add(int64(-5), int64(86400*365), 0, 0, 7, int64(1), int64(1e9), true)
	f.Fuzz(func(t *testing.T, startSec, endSec int64, years, months, days int, clockNs, afterSec int64, negative bool) {
		if years < 0 || months < 0 || days < 0 || years > 1000 || months > 12000 || days > 400000 || clockNs < 0 {
			return
		}
		const span = int64(200 * 365 * 24 * 3600)
		if startSec < -span || startSec > span || afterSec < -span || afterSec > span || endSec < 0 || endSec > span {
			return
		}
		base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		s := &Schedule{Start: base.Add(time.Duration(startSec) * time.Second),
			Period: policies.Duration{Negative: negative, Years: years, Months: months, Days: days, Clock: time.Duration(clockNs)}}
		if endSec > 0 {
			s.End = s.Start.Add(time.Duration(endSec) * time.Second)
		}
		after := base.Add(time.Duration(afterSec) * time.Second)
		k, at, ok := s.nextOccurrence(after, 0)
		if !ok {
			return
		}
		if negative || !positive(s.Period) {
			t.Fatalf("a period that does not move forward gave occurrence %d at %s", k, at)
		}
		if at.Before(after) || (!s.End.IsZero() && at.After(s.End)) || k < 0 {
			t.Fatalf("occurrence %d at %s for after=%s end=%s", k, at, after, s.End)
		}
		if !at.Equal(addDuration(s.Start, s.Period, k)) {
			t.Fatalf("occurrence %d at %s is not Start + k*Period", k, at)
		}
		if k > 0 && !addDuration(s.Start, s.Period, k-1).Before(after) {
			t.Fatalf("occurrence %d at %s skipped an earlier one at or after %s", k, at, after)
		}
	})
}
