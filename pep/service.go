package pep

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"io"
	"time"

	"github.com/stickypolicy/sticky/obligations"
	"github.com/stickypolicy/sticky/policies"
)

// Clock tells the time; tests inject a fake one.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// JobQueue is implemented by a Store's Tx that can enqueue obligation jobs in
// the same transaction as the event that planned them (internal/store's Tx,
// through the outbox).
type JobQueue interface {
	EnqueueJobs(ctx context.Context, jobs []obligations.Job) error
}

// TimeDrivenCanceller is implemented by a Store's Tx that can cancel the
// pending time-driven obligation jobs of a record (retention, periodic), which
// pep does when the record is deleted or its policy replaced.
type TimeDrivenCanceller interface {
	CancelTimeDriven(ctx context.Context, pii string, now time.Time) (int, error)
}

func cancelTimeDriven(ctx context.Context, tx Tx, pii string, now time.Time) error {
	if c, ok := tx.(TimeDrivenCanceller); ok {
		_, err := c.CancelTimeDriven(ctx, pii, now)
		return err
	}
	return nil
}

// Inbox is implemented by a Store that keeps the notifications inbox.
type Inbox interface {
	Notifications(ctx context.Context, principal string) ([]obligations.Notification, error)
}

// Service implements Sticky's use cases over a Store. It is safe for
// concurrent use.
type Service struct {
	store         Store
	clock         Clock
	rand          io.Reader
	tax           *policies.Taxonomy
	planner       *obligations.Planner
	cache         *policyCache
	compiled      *compiledCache
	ibe           IBE
	kick          func()
	maxPolicy     int
	restoreWindow time.Duration // WithRestoreWindow (pep/restore.go)
}

// Option configures New.
type Option func(*Service)

// WithClock sets the clock (default: the system clock).
func WithClock(c Clock) Option { return func(s *Service) { s.clock = c } }

// WithRand sets the randomness for record ids (default crypto/rand.Reader).
func WithRand(r io.Reader) Option { return func(s *Service) { s.rand = r } }

// WithTaxonomy sets the purpose taxonomy (default policies.DefaultTaxonomy()).
func WithTaxonomy(t *policies.Taxonomy) Option { return func(s *Service) { s.tax = t } }

// WithIBE enables identity-based encryption (encrypt_for, /v1/ibe/...).
func WithIBE(i IBE) Option { return func(s *Service) { s.ibe = i } }

// WithKick sets a function called after a commit that enqueued obligation
// jobs (the obligations runner's Kick).
func WithKick(f func()) Option { return func(s *Service) { s.kick = f } }

// WithMaxPolicyBytes bounds the size of a policy or preferences document
// (default DefaultMaxPolicyBytes); larger ones are ErrTooLarge.
func WithMaxPolicyBytes(n int) Option { return func(s *Service) { s.maxPolicy = n } }

// WithPolicyCacheSize bounds the number of compiled policies kept in memory
// (default DefaultPolicyCacheSize).
func WithPolicyCacheSize(n int) Option {
	return func(s *Service) { s.cache, s.compiled = newPolicyCache(n), newCompiledCache(n) }
}

// DefaultMaxPolicyBytes is the default policy document limit (1 MiB).
const DefaultMaxPolicyBytes = 1 << 20

// New returns a Service over store.
func New(store Store, opts ...Option) *Service {
	s := &Service{store: store, clock: systemClock{}, rand: rand.Reader, maxPolicy: DefaultMaxPolicyBytes, kick: func() {}}
	for _, o := range opts {
		o(s)
	}
	if s.tax == nil {
		s.tax = policies.DefaultTaxonomy()
	}
	if s.cache == nil {
		s.cache = newPolicyCache(DefaultPolicyCacheSize)
	}
	if s.compiled == nil {
		s.compiled = newCompiledCache(DefaultPolicyCacheSize)
	}
	if s.kick == nil {
		s.kick = func() {}
	}
	s.planner = obligations.NewPlanner(s.tax)
	return s
}

// Taxonomy returns the purpose taxonomy in use.
func (s *Service) Taxonomy() *policies.Taxonomy { return s.tax }

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID draws a random, opaque record id (128 bits).
func (s *Service) newID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return "", fmt.Errorf("drawing a record id: %w", err)
	}
	return idEncoding.EncodeToString(b[:]), nil
}

// Authenticate returns the principal holding token, or ErrUnauthenticated.
func (s *Service) Authenticate(ctx context.Context, token string) (Principal, error) {
	if !wellFormedToken(token) {
		return Principal{}, fmt.Errorf("%w: the bearer token is not a Sticky token", ErrUnauthenticated)
	}
	p, err := s.store.PrincipalByToken(ctx, HashToken(token))
	if err != nil {
		if isNotFound(err) {
			return Principal{}, fmt.Errorf("%w: unknown or revoked token", ErrUnauthenticated)
		}
		return Principal{}, err
	}
	return p, nil
}

// enqueue writes jobs in tx (its JobQueue) and reports whether there were any.
func enqueue(ctx context.Context, tx Tx, jobs []obligations.Job) error {
	if len(jobs) == 0 {
		return nil
	}
	q, ok := tx.(JobQueue)
	if !ok {
		return fmt.Errorf("%w: the store cannot record obligations", ErrUnavailable)
	}
	return q.EnqueueJobs(ctx, jobs)
}
