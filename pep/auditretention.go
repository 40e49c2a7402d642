package pep

import (
	"context"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// EnforceAuditRetention removes what the server keeps about records that
// are gone once it is older than window: whole event chains (with a
// checkpoint of their head), finished obligation jobs and rights reports
// (see RightsStore.PurgeAuditLog). Logs of live records are never cut.
func (s *Service) EnforceAuditRetention(ctx context.Context, window time.Duration) (AuditPurge, error) {
	if window <= 0 {
		return AuditPurge{}, fmt.Errorf("%w: the audit retention window must be positive", ErrInvalidInput)
	}
	rs, err := s.rights()
	if err != nil {
		return AuditPurge{}, err
	}
	now := s.clock.Now().UTC()
	return rs.PurgeAuditLog(context.WithoutCancel(ctx), now.Add(-window), now) // see writeTx
}

// RunAuditRetention enforces audit-log retention now and then on the
// schedule spec (robfig/cron syntax, e.g. "@every 1h") until ctx is done.
// report is called after each run with its result (for the server's log:
// counts only).
func (s *Service) RunAuditRetention(ctx context.Context, window time.Duration, spec string, report func(AuditPurge, error)) error {
	if report == nil {
		report = func(AuditPurge, error) {}
	}
	run := func() { report(s.EnforceAuditRetention(ctx, window)) }
	c := cron.New()
	if _, err := c.AddFunc(spec, run); err != nil {
		return fmt.Errorf("audit retention schedule %q: %w", spec, err)
	}
	run()
	c.Start()
	<-ctx.Done()
	<-c.Stop().Done()
	return nil
}
