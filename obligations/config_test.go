package obligations

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRegisterFlagsEnvAndFlags(t *testing.T) {
	env := map[string]string{EnvSMTPHost: "mail.example.org", EnvSMTPPort: "587", EnvSMTPFrom: "sticky@example.org",
		EnvWebhookSecret: "from-env", EnvMaxTries: "5"}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c := RegisterFlags(fs, func(k string) string { return env[k] })
	if err := fs.Parse([]string{"--smtp-port", "2525", "--smtp-starttls", "always", "--obligation-backoff", "2s"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.SMTP.Host != "mail.example.org" || c.SMTP.Port != 2525 || c.SMTP.StartTLS != StartTLSAlways || c.WebhookSecret != "from-env" ||
		c.MaxTries != 5 || c.BackoffBase != 2*time.Second {
		t.Fatalf("config = %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestSecretsNeverInHelp(t *testing.T) {
	env := map[string]string{EnvSMTPPassword: "hunter2", EnvWebhookSecret: "s3cret-from-env"}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var help bytes.Buffer
	fs.SetOutput(&help)
	c := RegisterFlags(fs, func(k string) string { return env[k] })
	if err := fs.Parse([]string{"-h"}); err != flag.ErrHelp {
		t.Fatalf("parse -h: %v", err)
	}
	if strings.Contains(help.String(), "hunter2") || strings.Contains(help.String(), "s3cret") {
		t.Fatalf("help shows a secret:\n%s", help.String())
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.SMTP.Password != "hunter2" || c.WebhookSecret != "s3cret-from-env" {
		t.Fatalf("secrets from the environment not applied: %q %q", c.SMTP.Password, c.WebhookSecret)
	}
	fs2 := flag.NewFlagSet("serve", flag.ContinueOnError)
	c2 := RegisterFlags(fs2, func(k string) string { return env[k] })
	if err := fs2.Parse([]string{"--webhook-secret", "from-flag"}); err != nil {
		t.Fatal(err)
	}
	if s, _ := c2.Secret(t.TempDir(), nil); string(s) != "from-flag" {
		t.Fatalf("the flag did not win over the environment: %q", s)
	}
}

func TestValidateNamesTheSetting(t *testing.T) {
	for name, c := range map[string]struct {
		mut  func(*Config)
		want string
	}{
		"starttls": {func(c *Config) { c.SMTP.StartTLS = "sometimes" }, "--smtp-starttls"},
		"from":     {func(c *Config) { c.SMTP.Host = "mail" }, "--smtp-from"},
		"port":     {func(c *Config) { c.SMTP.Port = 70000 }, "--smtp-port"},
		"tries":    {func(c *Config) { c.MaxTries = 0 }, "--obligation-max-tries"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := RegisterFlags(flag.NewFlagSet("x", flag.ContinueOnError), nil)
			c.mut(cfg)
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate = %v; want an error naming %s", err, c.want)
			}
		})
	}
}

func TestSecretCreatedOnceInDataDir(t *testing.T) {
	dir := t.TempDir()
	c := &Config{}
	a, err := c.Secret(dir, bytes.NewReader(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Secret(dir, bytes.NewReader(bytes.Repeat([]byte{9}, 32)))
	if err != nil || !bytes.Equal(a, b) || len(a) != 64 {
		t.Fatalf("second read gave %q (%v); want the first secret %q", b, err, a)
	}
	fi, err := os.Stat(filepath.Join(dir, "webhook.secret"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file mode %v, %v; want 0600", fi.Mode(), err)
	}
	c.WebhookSecret = "explicit"
	if s, _ := c.Secret(dir, nil); string(s) != "explicit" {
		t.Fatalf("explicit secret ignored: %q", s)
	}
}
