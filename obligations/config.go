package obligations

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the obligation handler's configuration: the SMTP server for
// email notifications, the webhook signing secret, and the retry policy.
type Config struct {
	SMTP              SMTPConfig
	WebhookSecret     string
	WebhookSecretFile string
	WebhookTimeout    time.Duration
	// WebhookDenyPrivate refuses webhook addresses that resolve to
	// loopback, private or link-local IP addresses.
	WebhookDenyPrivate bool
	MaxTries           int
	BackoffBase        time.Duration
	BackoffMax         time.Duration
	Lease              time.Duration

	// Secrets from the environment, used when their flag is not given
	// (kept out of the flag defaults so that -h never prints them).
	envPassword, envSecret string
}

// fill applies the secrets from the environment to unset settings.
func (c *Config) fill() {
	if c.SMTP.Password == "" {
		c.SMTP.Password = c.envPassword
	}
	if c.WebhookSecret == "" {
		c.WebhookSecret = c.envSecret
	}
}

// Environment variables read by RegisterFlags as flag defaults.
const (
	EnvSMTPHost          = "STICKY_SMTP_HOST"
	EnvSMTPPort          = "STICKY_SMTP_PORT"
	EnvSMTPFrom          = "STICKY_SMTP_FROM"
	EnvSMTPUsername      = "STICKY_SMTP_USERNAME"
	EnvSMTPPassword      = "STICKY_SMTP_PASSWORD"
	EnvSMTPStartTLS      = "STICKY_SMTP_STARTTLS"
	EnvWebhookSecret     = "STICKY_WEBHOOK_SECRET"
	EnvWebhookSecretFile = "STICKY_WEBHOOK_SECRET_FILE"
	EnvMaxTries          = "STICKY_OBLIGATION_MAX_TRIES"
	EnvWebhookDenyPriv   = "STICKY_WEBHOOK_DENY_PRIVATE"
)

// RegisterFlags defines the obligation flags on fs (--smtp-host,
// --smtp-port, --smtp-from, --smtp-username, --smtp-password,
// --smtp-starttls, --webhook-secret, --webhook-secret-file,
// --webhook-timeout, --webhook-deny-private, --obligation-max-tries, --obligation-backoff,
// --obligation-backoff-max) with defaults taken from the STICKY_*
// environment variables through getenv (pass os.Getenv). Secrets are better
// given by environment or file than on the command line, where other users
// of the machine can see them.
func RegisterFlags(fs *flag.FlagSet, getenv func(string) string) *Config {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	c := &Config{}
	port, _ := strconv.Atoi(getenv(EnvSMTPPort))
	if port == 0 {
		port = 25
	}
	tries, _ := strconv.Atoi(getenv(EnvMaxTries))
	if tries == 0 {
		tries = 8
	}
	starttls := getenv(EnvSMTPStartTLS)
	if starttls == "" {
		starttls = StartTLSAuto
	}
	fs.StringVar(&c.SMTP.Host, "smtp-host", getenv(EnvSMTPHost), "SMTP server for email notifications (env "+EnvSMTPHost+"); empty disables email")
	fs.IntVar(&c.SMTP.Port, "smtp-port", port, "SMTP server port (env "+EnvSMTPPort+")")
	fs.StringVar(&c.SMTP.From, "smtp-from", getenv(EnvSMTPFrom), "sender address of email notifications (env "+EnvSMTPFrom+")")
	fs.StringVar(&c.SMTP.Username, "smtp-username", getenv(EnvSMTPUsername), "SMTP AUTH PLAIN user (env "+EnvSMTPUsername+")")
	c.envPassword, c.envSecret = getenv(EnvSMTPPassword), getenv(EnvWebhookSecret)
	fs.StringVar(&c.SMTP.Password, "smtp-password", "", "SMTP password (prefer env "+EnvSMTPPassword+")")
	fs.StringVar(&c.SMTP.StartTLS, "smtp-starttls", starttls, "STARTTLS: auto, always or never (env "+EnvSMTPStartTLS+")")
	fs.StringVar(&c.WebhookSecret, "webhook-secret", "", "HMAC key signing webhooks (prefer env "+EnvWebhookSecret+"); default: DATA/webhook.secret, created on first start")
	fs.StringVar(&c.WebhookSecretFile, "webhook-secret-file", getenv(EnvWebhookSecretFile), "file holding the webhook HMAC key (env "+EnvWebhookSecretFile+")")
	fs.DurationVar(&c.WebhookTimeout, "webhook-timeout", 10*time.Second, "time allowed for one webhook delivery")
	denyPrivate, _ := strconv.ParseBool(getenv(EnvWebhookDenyPriv))
	fs.BoolVar(&c.WebhookDenyPrivate, "webhook-deny-private", denyPrivate, "refuse webhook addresses on loopback, private or link-local networks (env "+EnvWebhookDenyPriv+")")
	fs.IntVar(&c.MaxTries, "obligation-max-tries", tries, "tries before an obligation is marked failed (env "+EnvMaxTries+")")
	fs.DurationVar(&c.BackoffBase, "obligation-backoff", time.Second, "delay before the second try; it doubles after each failure")
	fs.DurationVar(&c.BackoffMax, "obligation-backoff-max", time.Hour, "longest delay between tries")
	c.Lease = time.Minute
	return c
}

// Validate reports a configuration that cannot work, naming the setting.
func (c *Config) Validate() error {
	c.fill()
	switch c.SMTP.StartTLS {
	case StartTLSAuto, StartTLSAlways, StartTLSNever:
	default:
		return fmt.Errorf("obligations: --smtp-starttls must be auto, always or never, not %q", c.SMTP.StartTLS)
	}
	if c.SMTP.Host != "" && c.SMTP.From == "" {
		return errors.New("obligations: --smtp-from is required when --smtp-host is set")
	}
	if c.SMTP.Port <= 0 || c.SMTP.Port > 65535 {
		return fmt.Errorf("obligations: --smtp-port %d is not a port", c.SMTP.Port)
	}
	if c.MaxTries < 1 {
		return fmt.Errorf("obligations: --obligation-max-tries must be at least 1, not %d", c.MaxTries)
	}
	if c.BackoffBase <= 0 || c.BackoffMax < c.BackoffBase {
		return errors.New("obligations: --obligation-backoff must be positive and at most --obligation-backoff-max")
	}
	return nil
}

// Secret returns the webhook signing key: --webhook-secret, else the
// content of --webhook-secret-file, else DATA/webhook.secret, created (mode
// 0600, 32 random bytes in hex from rnd) when missing.
func (c *Config) Secret(dataDir string, rnd io.Reader) ([]byte, error) {
	c.fill()
	if c.WebhookSecret != "" {
		return []byte(c.WebhookSecret), nil
	}
	path := c.WebhookSecretFile
	create := false
	if path == "" {
		path, create = filepath.Join(dataDir, "webhook.secret"), true
	}
	b, err := os.ReadFile(path)
	if err == nil {
		s := strings.TrimSpace(string(b))
		if s == "" {
			return nil, fmt.Errorf("obligations: webhook secret file %s is empty", path)
		}
		return []byte(s), nil
	}
	if !create || !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("obligations: reading webhook secret: %w", err)
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	var key [32]byte
	if _, err := io.ReadFull(rnd, key[:]); err != nil {
		return nil, fmt.Errorf("obligations: making webhook secret: %w", err)
	}
	s := hex.EncodeToString(key[:])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("obligations: writing webhook secret: %w", err)
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("obligations: writing webhook secret: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("obligations: writing webhook secret: %w", err)
	}
	return []byte(s), nil
}

// Options returns the Runner options of the configuration.
func (c *Config) Options() []Option {
	opts := []Option{WithMaxTries(c.MaxTries), WithBackoff(c.BackoffBase, c.BackoffMax)}
	if c.Lease > 0 {
		opts = append(opts, WithLease(c.Lease))
	}
	return opts
}

// Performers returns the remote performers of the configuration (the SMTP
// mailer and the webhook poster signing with secret); the caller adds the
// Deleter, Anonymiser, EventSink and AddressBook.
func (c *Config) Performers(secret []byte, clock Clock) Performers {
	c.fill()
	return Performers{
		Mailer:   NewSMTPMailer(c.SMTP, clock),
		Webhooks: newWebhookPosterTimeout(secret, c.WebhookTimeout, c.WebhookDenyPrivate, clock),
	}
}
