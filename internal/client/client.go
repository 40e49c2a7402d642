package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// DefaultURL is the server address used when none is configured.
const DefaultURL = "http://127.0.0.1:8080"

// Client talks to one Sticky server as one principal. It is safe for
// concurrent use.
type Client struct {
	base  *url.URL
	token string
	hc    *http.Client
	agent string
}

// Option configures New.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default http.DefaultClient).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.agent = ua } }

// ErrUnreachable wraps a failure to get any answer from the server.
var ErrUnreachable = errors.New("cannot reach the Sticky server")

// ErrBadURL is returned by New for a server address it cannot use.
var ErrBadURL = errors.New("bad server URL")

// New returns a client of the server at baseURL (e.g. http://127.0.0.1:8080)
// authenticating with the bearer token (empty: no Authorization header).
func New(baseURL, token string, opts ...Option) (*Client, error) {
	if baseURL == "" {
		baseURL = DefaultURL
	}
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrBadURL, baseURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w %q: want http://HOST:PORT or https://HOST:PORT", ErrBadURL, baseURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%w %q: the host is missing", ErrBadURL, baseURL)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	c := &Client{base: u, token: strings.TrimSpace(token), hc: http.DefaultClient, agent: "sticky-client"}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// URL returns the server's base URL.
func (c *Client) URL() string { return c.base.String() }

// endpoint joins the base URL with path segments, escaping each one.
func (c *Client) endpoint(segments ...string) string {
	var b strings.Builder
	b.WriteString(c.base.String())
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// request is one call to the server.
type request struct {
	method      string
	url         string
	body        io.Reader
	contentType string
	header      http.Header
}

// send performs req and returns the response when its status is 2xx, or an
// *Error otherwise. The caller closes the body.
func (c *Client) send(ctx context.Context, req request) (*http.Response, error) {
	hr, err := http.NewRequestWithContext(ctx, req.method, req.url, req.body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.method, req.url, err)
	}
	for k, vs := range req.header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	if req.contentType != "" {
		hr.Header.Set("Content-Type", req.contentType)
	}
	if c.token != "" {
		hr.Header.Set("Authorization", "Bearer "+c.token)
	}
	hr.Header.Set("User-Agent", c.agent)
	resp, err := c.hc.Do(hr)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) && ctx.Err() == nil {
			err = ue.Err
		}
		return nil, fmt.Errorf("%w at %s: %s %s: %w", ErrUnreachable, c.base, req.method, hr.URL.Path, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return nil, newError(req.method, hr.URL.Path, resp.StatusCode, body)
}

// maxJSONBody bounds a JSON answer (events and lists of a busy record can be
// long, but not unbounded).
const maxJSONBody = 256 << 20

// readAll sends req and returns the whole 2xx body.
func (c *Client) readAll(ctx context.Context, req request) ([]byte, error) {
	resp, err := c.send(ctx, req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJSONBody))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %w", req.method, resp.Request.URL.Path, err)
	}
	return body, nil
}

// doJSON sends req and decodes the 2xx JSON answer into out (when not nil);
// it returns the raw body.
func (c *Client) doJSON(ctx context.Context, req request, out any) (json.RawMessage, error) {
	body, err := c.readAll(ctx, req)
	if err != nil {
		return nil, err
	}
	if out == nil {
		if !json.Valid(body) {
			return nil, fmt.Errorf("%s %s: the server's answer is not JSON", req.method, req.url)
		}
	} else if err := json.Unmarshal(body, out); err != nil {
		return nil, fmt.Errorf("%s %s: the server's answer is not the expected JSON: %w", req.method, req.url, err)
	}
	return json.RawMessage(body), nil
}

// jsonBody encodes v as a request body.
func jsonBody(v any) (io.Reader, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(b), nil
}

// Health checks GET /healthz; nil when the server can serve.
func (c *Client) Health(ctx context.Context) error {
	_, err := c.readAll(ctx, request{method: http.MethodGet, url: c.endpoint("healthz")})
	return err
}
