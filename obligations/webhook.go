package obligations

// This file is the one place in obligations that uses net/http (DESIGN.md).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
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

func newWebhookPosterTimeout(secret []byte, timeout time.Duration, clock Clock) *WebhookPoster {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return NewWebhookPoster(secret, noRedirectClient(timeout), clock)
}
