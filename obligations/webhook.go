package obligations

// This file is the one place in obligations that uses net/http (DESIGN.md).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// WebhookPoster delivers webhook notifications: an HTTP POST of the JSON
// WebhookPayload with the headers Idempotency-Key (the job id, the same on
// every retry), X-Sticky-Timestamp (Unix seconds) and X-Sticky-Signature
// (see Sign). Any 2xx answer is a delivery; anything else is retried, except
// 4xx answers other than 408 and 429, which are permanent.
type WebhookPoster struct {
	client *http.Client
	secret []byte
	clock  Clock
}

// NewWebhookPoster returns a WebhookPoster signing with secret. A nil
// client gets a 10-second timeout client that does not follow redirects.
func NewWebhookPoster(secret []byte, client *http.Client, clock Clock) *WebhookPoster {
	if client == nil {
		client = noRedirectClient(10 * time.Second)
	}
	if clock == nil {
		clock = SystemClock{}
	}
	return &WebhookPoster{client: client, secret: secret, clock: clock}
}

// PostWebhook sends p to url.
func (w *WebhookPoster) PostWebhook(ctx context.Context, url string, p WebhookPayload) error {
	if len(w.secret) == 0 {
		return notConfigured("no webhook secret (--webhook-secret or STICKY_WEBHOOK_SECRET)")
	}
	body, err := json.Marshal(p)
	if err != nil {
		return Permanent(fmt.Errorf("obligations: encoding webhook: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("obligations: webhook address is not a usable URL: %w", err))
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return Permanent(fmt.Errorf("obligations: webhook address must be http or https, not %q", req.URL.Scheme))
	}
	ts := strconv.FormatInt(w.clock.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sticky-webhook/1")
	req.Header.Set(HeaderIdempotencyKey, p.ID)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(w.secret, ts, body))
	resp, err := w.client.Do(req)
	if errors.Is(err, ErrPrivateAddress) {
		return Permanent(fmt.Errorf("obligations: webhook: %w", err))
	}
	if err != nil {
		return fmt.Errorf("obligations: webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests:
		return Permanent(fmt.Errorf("obligations: webhook refused with status %d", resp.StatusCode))
	default:
		return fmt.Errorf("obligations: webhook answered status %d", resp.StatusCode)
	}
}

func noRedirectClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

func newWebhookPosterTimeout(secret []byte, timeout time.Duration, denyPrivate bool, clock Clock) *WebhookPoster {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	c := noRedirectClient(timeout)
	if denyPrivate {
		c.Transport = PublicOnlyTransport()
	}
	return NewWebhookPoster(secret, c, clock)
}

// ErrPrivateAddress is returned (wrapped) when a webhook address resolves to
// a loopback, private, link-local or otherwise non-public IP address and the
// server refuses those (--webhook-deny-private).
var ErrPrivateAddress = errors.New("webhook address is not a public IP address")

// PublicOnlyTransport returns an HTTP transport that refuses to connect to
// loopback, private, link-local, multicast and unspecified addresses. The
// check is made on the address actually dialled, after name resolution, so
// a name that resolves to an internal address is refused too.
func PublicOnlyTransport() *http.Transport {
	d := &net.Dialer{
		Timeout: 10 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip := net.ParseIP(host)
			if ip == nil || !publicIP(ip) {
				return fmt.Errorf("%w: %s", ErrPrivateAddress, host)
			}
			return nil
		},
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = d.DialContext
	return t
}

func publicIP(ip net.IP) bool {
	return !(ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified())
}
