package obligations

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/stickypolicy/sticky/policies"
)

// Runner performs due jobs from an Outbox. Exact deadlines are kept by a
// timer set to the outbox's next due time (NextDue, answered from an index)
// and reset by Kick when new jobs are enqueued; nothing scans the jobs.
// robfig/cron drives the periodic housekeeping (a safety kick every minute,
// purging old finished jobs). Run first performs everything that fell due
// while the server was down.
//
// Local jobs (delete, anonymise, inbox, log) and remote jobs (email,
// webhook) run in separate lanes so that a slow receiver never delays a
// deletion. Delivery is at least once: a failed try is retried with
// exponential backoff and, after MaxTries, the job ends as failed (an
// obligation_failed event and the admin listing), never silently dropped.
type Runner struct {
	outbox Outbox
	perf   Performers
	clock  Clock
	opt    options

	kicks map[Lane]chan struct{}
}

type options struct {
	maxTries      int
	backoffBase   time.Duration
	backoffMax    time.Duration
	lease         time.Duration
	batch         int
	remoteWorkers int
	parallel      int
	maxSleep      time.Duration
	keepFinished  time.Duration
	logger        *slog.Logger
	onFailed      func(ctx context.Context, j Job, err error)
}

// Option configures a Runner.
type Option func(*options)

// WithMaxTries sets how many tries a job gets before it fails for good
// (default 8).
func WithMaxTries(n int) Option { return func(o *options) { o.maxTries = max(n, 1) } }

// WithBackoff sets the delay before the second try and the cap of the
// doubling delays after it (defaults 1s and 1h).
func WithBackoff(base, maxDelay time.Duration) Option {
	return func(o *options) { o.backoffBase, o.backoffMax = base, maxDelay }
}

// WithLease sets how long a claim holds a job before another worker may
// retake it (default 1m).
func WithLease(d time.Duration) Option { return func(o *options) { o.lease = d } }

// WithRemoteWorkers sets how many emails and webhooks are delivered at once
// (default 8).
func WithRemoteWorkers(n int) Option { return func(o *options) { o.remoteWorkers = max(n, 1) } }

// WithParallel sets how many jobs of one claimed batch ProcessDue performs
// at once (default 16).
func WithParallel(n int) Option { return func(o *options) { o.parallel = max(n, 1) } }

// WithBatch sets how many jobs one claim takes (default 64).
func WithBatch(n int) Option { return func(o *options) { o.batch = max(n, 1) } }

// WithKeepFinished sets how long done and cancelled jobs are kept before
// housekeeping forgets them (default 7 days).
func WithKeepFinished(d time.Duration) Option { return func(o *options) { o.keepFinished = d } }

// WithLogger sets where the runner logs (job ids, actions, media, attempts:
// never data, addresses or purposes). Default: discard.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithOnFailed sets a hook called when a job fails for good, after the
// obligation_failed event was recorded.
func WithOnFailed(f func(ctx context.Context, j Job, err error)) Option {
	return func(o *options) { o.onFailed = f }
}

// NewRunner returns a Runner over the outbox, acting through perf, telling
// time by clock.
func NewRunner(outbox Outbox, perf Performers, clock Clock, opts ...Option) *Runner {
	o := options{
		maxTries:      8,
		backoffBase:   time.Second,
		backoffMax:    time.Hour,
		lease:         time.Minute,
		batch:         64,
		remoteWorkers: 8,
		parallel:      16,
		maxSleep:      time.Minute,
		keepFinished:  7 * 24 * time.Hour,
		logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, f := range opts {
		f(&o)
	}
	if clock == nil {
		clock = SystemClock{}
	}
	r := &Runner{outbox: outbox, perf: perf, clock: clock, opt: o, kicks: map[Lane]chan struct{}{}}
	for _, l := range AllLanes() {
		r.kicks[l] = make(chan struct{}, 1)
	}
	return r
}

// Kick tells the runner that jobs were enqueued: it re-reads the next due
// time. It never blocks.
func (r *Runner) Kick() {
	for _, ch := range r.kicks {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Run performs jobs until ctx is done. It first releases the claims of a
// previous process (a single runner per database) and performs everything
// overdue. It returns nil when ctx is cancelled.
func (r *Runner) Run(ctx context.Context) error {
	n, err := r.outbox.ReleaseLeases(ctx, r.clock.Now())
	if err != nil {
		return fmt.Errorf("obligations: releasing leases: %w", err)
	}
	if n > 0 {
		r.opt.logger.Info("obligations: retaking jobs claimed before a restart", "jobs", n)
	}
	c := cron.New()
	if _, err := c.AddFunc("@every 1m", r.Kick); err != nil {
		return fmt.Errorf("obligations: cron: %w", err)
	}
	if _, err := c.AddFunc("@every 1h", func() { r.housekeeping(ctx) }); err != nil {
		return fmt.Errorf("obligations: cron: %w", err)
	}
	c.Start()
	defer c.Stop()

	var wg sync.WaitGroup
	wg.Go(func() { r.loop(ctx, LaneLocal) })
	wg.Go(func() { r.loop(ctx, LaneRemote) })
	wg.Wait()
	return nil
}

func (r *Runner) housekeeping(ctx context.Context) {
	n, err := r.outbox.Purge(ctx, r.clock.Now().Add(-r.opt.keepFinished))
	if err != nil {
		r.opt.logger.Warn("obligations: purge failed", "err", err)
		return
	}
	if n > 0 {
		r.opt.logger.Info("obligations: purged finished jobs", "jobs", n)
	}
}

// loop runs one lane: perform what is due, sleep until the next due time or
// a kick.
func (r *Runner) loop(ctx context.Context, lane Lane) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	var inflight sync.WaitGroup
	defer inflight.Wait()
	slots := make(chan struct{}, r.opt.remoteWorkers)
	for {
		var err error
		if lane == LaneRemote {
			err = r.dispatchRemote(ctx, slots, &inflight)
		} else {
			_, err = r.ProcessDue(ctx, lane)
		}
		wait := r.opt.maxSleep
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			r.opt.logger.Warn("obligations: outbox error", "lane", lane, "err", err)
			wait = time.Second
		} else if at, ok, err := r.outbox.NextDue(ctx, lane); err != nil {
			r.opt.logger.Warn("obligations: outbox error", "lane", lane, "err", err)
			wait = time.Second
		} else if ok {
			wait = min(max(at.Sub(r.clock.Now()), 0), r.opt.maxSleep)
		}
		if lane == LaneRemote && len(slots) == cap(slots) {
			wait = r.opt.maxSleep // all workers busy: a finishing one kicks
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-r.kicks[lane]:
		}
	}
}

// dispatchRemote claims as many due remote jobs as there are free workers
// and starts them.
func (r *Runner) dispatchRemote(ctx context.Context, slots chan struct{}, inflight *sync.WaitGroup) error {
	for {
		free := cap(slots) - len(slots)
		if free == 0 {
			return nil
		}
		jobs, err := r.outbox.Claim(ctx, LaneRemote, r.clock.Now(), free, r.opt.lease)
		if err != nil {
			return err
		}
		for _, j := range jobs {
			slots <- struct{}{}
			inflight.Go(func() {
				defer func() {
					<-slots
					select {
					case r.kicks[LaneRemote] <- struct{}{}:
					default:
					}
				}()
				r.perform(ctx, j)
			})
		}
		if len(jobs) < free {
			return nil
		}
	}
}

// ProcessDue claims and performs every job of the lane that is runnable
// now, a batch at a time, and returns how many it performed (done or not).
// The jobs of a batch are performed side by side and their completions
// written in one transaction (each with its own lease check, inbox row and
// events). Tests drive it with a fake clock; Run calls it for the local
// lane.
func (r *Runner) ProcessDue(ctx context.Context, lane Lane) (int, error) {
	total := 0
	for {
		jobs, err := r.outbox.Claim(ctx, lane, r.clock.Now(), r.opt.batch, r.opt.lease)
		if err != nil {
			return total, err
		}
		var (
			mu   sync.Mutex
			done []Completion
			wg   sync.WaitGroup
		)
		sem := make(chan struct{}, r.opt.parallel)
		for _, j := range jobs {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				o, err := r.do(ctx, j)
				if err != nil {
					r.failed(ctx, j, err)
					return
				}
				mu.Lock()
				done = append(done, Completion{Job: j, Outcome: o})
				mu.Unlock()
			})
		}
		wg.Wait()
		r.completeAll(ctx, done)
		total += len(jobs)
		if len(jobs) < r.opt.batch {
			return total, nil
		}
	}
}

// completeAll records the completions in one transaction; if that fails
// (one bad completion spoils the batch), each is recorded on its own.
func (r *Runner) completeAll(ctx context.Context, done []Completion) {
	if len(done) == 0 {
		return
	}
	errs, err := r.outbox.CompleteAll(ctx, done)
	if err == nil {
		for i, e := range errs {
			if e != nil {
				r.opt.logger.Warn("obligations: lease lost", "job", done[i].Job.ID)
			}
		}
		return
	}
	r.opt.logger.Warn("obligations: completing a batch", "jobs", len(done), "err", err)
	for _, c := range done {
		r.complete(ctx, c.Job, c.Outcome)
	}
}

func (r *Runner) complete(ctx context.Context, j Job, o Outcome) {
	err := r.outbox.Complete(ctx, j, o)
	switch {
	case err == nil:
		r.opt.logger.Debug("obligations: done", "job", j.ID, "action", j.Action, "media", j.Media, "attempt", j.Attempts)
	case errors.Is(err, ErrLeaseLost):
		r.opt.logger.Warn("obligations: lease lost", "job", j.ID)
	default:
		r.failed(ctx, j, err)
	}
}

// perform does one claimed job and records the outcome.
func (r *Runner) perform(ctx context.Context, j Job) {
	o, err := r.do(ctx, j)
	if err != nil {
		r.failed(ctx, j, err)
		return
	}
	r.complete(ctx, j, o)
}

// failed records a failed try: retried after a backoff, or failed for good
// (permanent error, or the last try).
func (r *Runner) failed(ctx context.Context, j Job, err error) {
	if ctx.Err() != nil {
		// Shutting down: the claim expires and the job is retaken.
		return
	}
	now := r.clock.Now()
	final := IsPermanent(err) || j.Attempts >= r.opt.maxTries
	f := Failure{Now: now, Err: err.Error(), Final: final}
	if !final {
		f.RetryAt = now.Add(r.backoff(j.Attempts))
	} else {
		f.Events = []Event{{
			Type: EventObligationFailed, PII: j.PII, Owner: j.Owner, Purpose: j.Event.Purpose, Recipient: j.Address, Time: now,
			Reason: fmt.Sprintf("%s (%s)%s failed after %d tries: %v", j.ObligationID, describe(j), triggerRef(j), j.Attempts, err),
		}}
	}
	if ferr := r.outbox.Fail(ctx, j, f); ferr != nil {
		r.opt.logger.Warn("obligations: recording failure", "job", j.ID, "err", ferr)
		return
	}
	r.opt.logger.Info("obligations: try failed", "job", j.ID, "action", j.Action, "media", j.Media, "attempt", j.Attempts, "final", final)
	if final && r.opt.onFailed != nil {
		r.opt.onFailed(ctx, j, err)
	}
}

// backoff is the delay after the given failed attempt: base * 2^(attempt-1),
// capped.
func (r *Runner) backoff(attempt int) time.Duration {
	d := r.opt.backoffBase
	for i := 1; i < attempt && d < r.opt.backoffMax; i++ {
		d *= 2
	}
	return min(d, r.opt.backoffMax)
}

func describe(j Job) string {
	if j.Media != "" {
		return string(j.Action) + " by " + j.Media
	}
	return string(j.Action)
}

// do performs the job's action and returns what completing it writes.
func (r *Runner) do(ctx context.Context, j Job) (Outcome, error) {
	o := Outcome{}
	if n, ok := Next(j); ok {
		o.Next = append(o.Next, n)
	}
	switch j.Action {
	case policies.ActionDeletePersonalData:
		if r.perf.Deleter == nil {
			return o, notConfigured("no deleter")
		}
		if err := r.perf.Deleter.DeleteForRetention(ctx, j.PII); err != nil && !errors.Is(err, ErrGone) {
			return o, err
		}
	case policies.ActionAnonymizePersonalData:
		if r.perf.Anonymiser == nil {
			return o, notConfigured("no anonymiser")
		}
		if err := r.perf.Anonymiser.AnonymiseForRetention(ctx, j.PII); err != nil && !errors.Is(err, ErrGone) {
			return o, err
		}
	case policies.ActionLog, policies.ActionSecureLog:
		o.Events = append(o.Events, Event{
			Type: EventLogged, PII: j.PII, Owner: j.Owner, Principal: j.Event.Principal, Purpose: j.Event.Purpose,
			Recipient: j.Event.Recipient, Time: r.clock.Now(),
			Reason: fmt.Sprintf("%s: %s on %s%s", j.ObligationID, j.Trigger, j.Event.Type, triggerRef(j)),
		})
	case policies.ActionNotifyDataSubject:
		if err := r.notify(ctx, j, &o); err != nil {
			return o, err
		}
	default:
		return o, Permanent(fmt.Errorf("obligations: unknown action %q", j.Action))
	}
	o.Now = r.clock.Now()
	return o, nil
}

// notify delivers a notification (email, webhook) or prepares its inbox
// row, and adds the "notified" event to the outcome.
func (r *Runner) notify(ctx context.Context, j Job, o *Outcome) error {
	now := r.clock.Now()
	switch j.Media {
	case MediaInbox:
		if j.Address == "" {
			return Permanent(errors.New("obligations: inbox notification without a recipient"))
		}
		n, ev := InboxDelivery(j, now)
		o.Notification = &n
		o.Events = append(o.Events, ev)
		return nil
	case MediaEmail:
		if r.perf.Mailer == nil {
			return notConfigured("no SMTP server")
		}
		to := j.Address
		if r.perf.Addresses != nil && (to == j.Owner || !strings.Contains(to, "@")) {
			// An identity rather than an address: use its registered email.
			if a, err := r.perf.Addresses.EmailAddress(ctx, to); err == nil && a != "" {
				to = a
			}
		}
		m := Mail{To: to, Subject: "Sticky notification about record " + j.PII, Body: Text(j) + "\r\n\r\nNotification " + j.ID + "\r\n", MessageID: j.ID}
		if err := r.perf.Mailer.SendMail(ctx, m); err != nil {
			return err
		}
	case MediaWebhook:
		if r.perf.Webhooks == nil {
			return notConfigured("no webhook poster")
		}
		if j.Address == "" {
			return Permanent(errors.New("obligations: webhook notification without a URL"))
		}
		if err := r.perf.Webhooks.PostWebhook(ctx, j.Address, payloadFor(j)); err != nil {
			return err
		}
	default:
		return Permanent(fmt.Errorf("obligations: unknown notification media %q (want inbox, email or webhook)", j.Media))
	}
	o.Events = append(o.Events, notifiedEvent(j, now))
	return nil
}

// notifiedEvent is the "notified" event recorded when j was delivered.
func notifiedEvent(j Job, now time.Time) Event {
	return Event{
		Type: EventNotified, PII: j.PII, Owner: j.Owner, Purpose: j.Event.Purpose, Recipient: j.Address, Time: now,
		Reason: fmt.Sprintf("%s by %s about %s%s", j.ObligationID, j.Media, j.Event.Type, triggerRef(j)),
	}
}

// InboxDelivery returns the inbox row of an inbox notification job
// delivered at now, and the "notified" event to append with it (in the same
// transaction). The store uses it to deliver notifications due at their
// event inside the event's own transaction.
func InboxDelivery(j Job, now time.Time) (Notification, Event) {
	return Notification{
		ID: j.ID, Recipient: j.Address, Time: j.Event.Time, Delivered: now, PII: j.PII,
		Event: j.Event.Type, Principal: j.Event.Principal, Purpose: j.Event.Purpose, Text: Text(j),
	}, notifiedEvent(j, now)
}

// triggerRef names, in the reason of an event the runner writes, the log
// entry whose event triggered the job: " (trigger seq N)", the form the
// loganalyser (internal/audit.ParseTriggerRef) matches obligations by; ""
// when the triggering entry's seq is unknown.
func triggerRef(j Job) string {
	if j.Event.Seq < 1 {
		return ""
	}
	return fmt.Sprintf(" (trigger seq %d)", j.Event.Seq)
}
