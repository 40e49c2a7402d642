package obligations

import (
	"context"
	"errors"
	"fmt"
)

// ErrGone is what a Deleter or Anonymiser returns (wrapped) when the record
// no longer exists: the job is then done, not failed.
var ErrGone = errors.New("obligations: record is gone")

// ErrNotConfigured is returned by a performer that the server was not
// configured for (no SMTP host, no webhook secret); such a failure is
// permanent.
var ErrNotConfigured = errors.New("obligations: not configured")

// Deleter deletes a record whose retention ended. pep implements it: the
// bytes are gone, the "deleted" event is logged (and its obligations
// planned) in the same transaction. It must be idempotent: a record already
// gone is reported with an error wrapping ErrGone (or nil).
type Deleter interface {
	DeleteForRetention(ctx context.Context, pii string) error
}

// Anonymiser replaces a record by an anonymised form and keeps no original.
// pep implements it; like Deleter it is idempotent.
type Anonymiser interface {
	AnonymiseForRetention(ctx context.Context, pii string) error
}

// Mailer sends one plain text email. SMTPMailer is the real one.
type Mailer interface {
	SendMail(ctx context.Context, m Mail) error
}

// Mail is one email.
type Mail struct {
	To        string
	Subject   string
	Body      string
	MessageID string // stable across retries, so mail clients drop duplicates
}

// Poster delivers one webhook. WebhookPoster is the real one.
type Poster interface {
	PostWebhook(ctx context.Context, url string, p WebhookPayload) error
}

// AddressBook resolves an identity to its email address (the --email of
// `stickyd principal add`) for email notifications without an Address.
type AddressBook interface {
	EmailAddress(ctx context.Context, identity string) (string, error)
}

// Performers are what the Runner acts through. A nil performer makes the
// jobs that need it fail permanently with ErrNotConfigured (visible in the
// failed listing); a nil AddressBook sends email to the Address as given.
type Performers struct {
	Deleter    Deleter
	Anonymiser Anonymiser
	Mailer     Mailer
	Webhooks   Poster
	Addresses  AddressBook
}

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent wraps err so that the Runner does not retry the job.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err was marked Permanent or is
// ErrNotConfigured.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p) || errors.Is(err, ErrNotConfigured)
}

func notConfigured(what string) error {
	return fmt.Errorf("%w: %s", ErrNotConfigured, what)
}
