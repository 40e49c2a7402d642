package obligations

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// StartTLS modes of SMTPConfig.
const (
	StartTLSAuto   = "auto"   // use STARTTLS when the server offers it
	StartTLSAlways = "always" // refuse to send without STARTTLS
	StartTLSNever  = "never"
)

// SMTPConfig says how to reach the mail server for email notifications.
type SMTPConfig struct {
	Host     string // empty: email notifications are not configured
	Port     int
	From     string
	Username string // AUTH PLAIN when set (only over TLS or to localhost)
	Password string
	StartTLS string // auto, always or never
	HELO     string // default "localhost"
	Timeout  time.Duration
	// TLSConfig overrides the STARTTLS settings (tests trust their own CA).
	TLSConfig *tls.Config
}

// SMTPMailer sends email notifications over SMTP (net/smtp).
type SMTPMailer struct {
	cfg   SMTPConfig
	clock Clock
}

// NewSMTPMailer returns a Mailer for cfg.
func NewSMTPMailer(cfg SMTPConfig, clock Clock) *SMTPMailer {
	if cfg.Port == 0 {
		cfg.Port = 25
	}
	if cfg.StartTLS == "" {
		cfg.StartTLS = StartTLSAuto
	}
	if cfg.HELO == "" {
		cfg.HELO = "localhost"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if clock == nil {
		clock = SystemClock{}
	}
	return &SMTPMailer{cfg: cfg, clock: clock}
}

// SendMail sends m. Addresses that cannot be parsed and 5xx answers are
// permanent failures; connection problems and 4xx answers are retried.
func (s *SMTPMailer) SendMail(ctx context.Context, m Mail) error {
	if s.cfg.Host == "" {
		return notConfigured("no SMTP host (--smtp-host or STICKY_SMTP_HOST)")
	}
	from, err := mail.ParseAddress(s.cfg.From)
	if err != nil {
		return Permanent(fmt.Errorf("obligations: SMTP sender %q is not an email address: %w", s.cfg.From, err))
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return Permanent(fmt.Errorf("obligations: notification address is not an email address: %w", err))
	}
	if strings.ContainsAny(m.Subject, "\r\n") || strings.ContainsAny(m.MessageID, "\r\n<>") {
		return Permanent(errors.New("obligations: line break in an email header"))
	}
	msg := s.message(from, to, m)

	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	d := net.Dialer{Timeout: s.cfg.Timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("obligations: SMTP: %w", err)
	}
	deadline := time.Now().Add(s.cfg.Timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		conn.Close()
		return smtpErr(err)
	}
	defer c.Close()
	if err := c.Hello(s.cfg.HELO); err != nil {
		return smtpErr(err)
	}
	if s.cfg.StartTLS != StartTLSNever {
		if ok, _ := c.Extension("STARTTLS"); ok {
			tc := s.cfg.TLSConfig
			if tc == nil {
				tc = &tls.Config{ServerName: s.cfg.Host, MinVersion: tls.VersionTLS12}
			}
			if err := c.StartTLS(tc); err != nil {
				return smtpErr(err)
			}
		} else if s.cfg.StartTLS == StartTLSAlways {
			return Permanent(errors.New("obligations: SMTP server does not offer STARTTLS and --smtp-starttls=always"))
		}
	}
	if s.cfg.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host)); err != nil {
			return smtpErr(err)
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return smtpErr(err)
	}
	if err := c.Rcpt(to.Address); err != nil {
		return smtpErr(err)
	}
	w, err := c.Data()
	if err != nil {
		return smtpErr(err)
	}
	if _, err := w.Write(msg); err != nil {
		return smtpErr(err)
	}
	if err := w.Close(); err != nil {
		return smtpErr(err)
	}
	if err := c.Quit(); err != nil {
		return smtpErr(err)
	}
	return nil
}

func (s *SMTPMailer) message(from, to *mail.Address, m Mail) []byte {
	var b strings.Builder
	b.WriteString("From: " + from.String() + "\r\n")
	b.WriteString("To: " + to.String() + "\r\n")
	b.WriteString("Subject: " + m.Subject + "\r\n")
	b.WriteString("Date: " + s.clock.Now().UTC().Format(time.RFC1123Z) + "\r\n")
	if m.MessageID != "" {
		b.WriteString("Message-ID: <" + m.MessageID + "@sticky>\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\n")
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\n")
	b.WriteString("Content-Transfer-Encoding: 8bit\r\n")
	b.WriteString("Auto-Submitted: auto-generated\r\n\r\n")
	body := strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n")
	b.WriteString(body)
	if !strings.HasSuffix(body, "\r\n") {
		b.WriteString("\r\n")
	}
	return []byte(b.String())
}

// smtpErr wraps an SMTP failure; 5xx answers are permanent.
func smtpErr(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return Permanent(fmt.Errorf("obligations: SMTP refused: %w", err))
	}
	return fmt.Errorf("obligations: SMTP: %w", err)
}
