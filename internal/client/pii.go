package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"time"
)

// StoreRequest is what Store sends as POST /v1/pii.
type StoreRequest struct {
	// Data is read to its end and stored (required).
	Data io.Reader
	// Filename names the data part (default "data").
	Filename string
	// ContentType is the data's content type (default application/octet-stream).
	ContentType string
	// Policy is the PPL policy XML (required).
	Policy []byte
	// Subject names the data subject when a controller stores data about it.
	Subject string
	// EncryptFor lists identities the server encrypts the data to with IBE.
	EncryptFor []string
}

// Stored is the server's answer to a store.
type Stored struct {
	ID        string     `json:"id"`
	Subject   string     `json:"subject"`
	DeleteAt  *time.Time `json:"delete_at"`
	Encrypted bool       `json:"encrypted"`
	// Raw is the answer as the server sent it.
	Raw json.RawMessage `json:"-"`
}

// ErrMissing is returned before any request when a required input is missing.
var ErrMissing = errors.New("missing input")

// Store stores data under a sticky policy (POST /v1/pii). The data is streamed,
// not buffered.
func (c *Client) Store(ctx context.Context, in StoreRequest) (*Stored, error) {
	if in.Data == nil {
		return nil, fmt.Errorf("%w: the data to store", ErrMissing)
	}
	if len(in.Policy) == 0 {
		return nil, fmt.Errorf("%w: the policy", ErrMissing)
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		pw.CloseWithError(writeStoreParts(mw, in))
	}()
	var out Stored
	raw, err := c.doJSON(ctx, request{method: http.MethodPost, url: c.endpoint("v1", "pii"), body: pr, contentType: mw.FormDataContentType()}, &out)
	pr.CloseWithError(io.ErrClosedPipe) // unblocks the writer if the server answered early
	if err != nil {
		return nil, err
	}
	out.Raw = raw
	return &out, nil
}

// writeStoreParts writes the multipart body: the small fields first, the data
// last, so that the server can check them before the bytes arrive.
func writeStoreParts(mw *multipart.Writer, in StoreRequest) error {
	ph := textproto.MIMEHeader{}
	ph.Set("Content-Disposition", `form-data; name="policy"; filename="policy.xml"`)
	ph.Set("Content-Type", "application/xml")
	w, err := mw.CreatePart(ph)
	if err != nil {
		return err
	}
	if _, err := w.Write(in.Policy); err != nil {
		return err
	}
	if in.Subject != "" {
		if err := mw.WriteField("subject", in.Subject); err != nil {
			return err
		}
	}
	if len(in.EncryptFor) > 0 {
		if err := mw.WriteField("encrypt_for", strings.Join(in.EncryptFor, ",")); err != nil {
			return err
		}
	}
	name := in.Filename
	if name == "" {
		name = "data"
	}
	ct := in.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	dh := textproto.MIMEHeader{}
	dh.Set("Content-Disposition", fmt.Sprintf(`form-data; name="data"; filename=%q`, sanitizeFilename(name)))
	dh.Set("Content-Type", ct)
	w, err = mw.CreatePart(dh)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, in.Data); err != nil {
		return fmt.Errorf("reading the data to store: %w", err)
	}
	return mw.Close()
}

// sanitizeFilename keeps a file name that fits in a quoted header value.
func sanitizeFilename(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == '"' || r == 0x7f {
			return '_'
		}
		return r
	}, name)
	if name == "" {
		return "data"
	}
	return name
}

// Object is data read from the server. The caller closes Body.
type Object struct {
	ContentType string
	// Size is the length of Body, or -1 when the server did not say.
	Size int64
	Body io.ReadCloser
}

// Get reads a record's data for a declared purpose (GET /v1/pii/{id} with
// X-Purpose). An empty purpose sends none: the data subject reads its own data.
func (c *Client) Get(ctx context.Context, id, purpose string) (*Object, error) {
	if id == "" {
		return nil, fmt.Errorf("%w: the record id", ErrMissing)
	}
	h := http.Header{}
	if purpose != "" {
		h.Set("X-Purpose", purpose)
	}
	resp, err := c.send(ctx, request{method: http.MethodGet, url: c.endpoint("v1", "pii", id), header: h})
	if err != nil {
		return nil, err
	}
	return &Object{ContentType: resp.Header.Get("Content-Type"), Size: resp.ContentLength, Body: resp.Body}, nil
}

// Record is one entry of List: a record's metadata.
type Record struct {
	ID          string     `json:"id"`
	Subject     string     `json:"subject"`
	ContentType string     `json:"content_type"`
	Encrypted   bool       `json:"encrypted"`
	StoredAt    *time.Time `json:"stored_at"`
	DeleteAt    *time.Time `json:"delete_at"`
	Size        int64      `json:"size"`
	// Raw is the entry as the server sent it.
	Raw json.RawMessage `json:"-"`
}

// List returns the caller's own records (a subject) or those it may access
// (a controller) (GET /v1/pii).
func (c *Client) List(ctx context.Context) ([]Record, error) {
	var raws []json.RawMessage
	if _, err := c.doJSON(ctx, request{method: http.MethodGet, url: c.endpoint("v1", "pii")}, &raws); err != nil {
		return nil, err
	}
	out := make([]Record, len(raws))
	for i, r := range raws {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			return nil, fmt.Errorf("GET /v1/pii: entry %d is not a record: %w", i, err)
		}
		out[i].Raw = r
	}
	return out, nil
}

// Policy returns a record's sticky policy XML (GET /v1/pii/{id}/policy).
func (c *Client) Policy(ctx context.Context, id string) ([]byte, error) {
	if id == "" {
		return nil, fmt.Errorf("%w: the record id", ErrMissing)
	}
	return c.readAll(ctx, request{method: http.MethodGet, url: c.endpoint("v1", "pii", id, "policy")})
}

// SetPolicy replaces a record's sticky policy (PUT /v1/pii/{id}/policy) and
// returns the server's answer (empty when it sent none).
func (c *Client) SetPolicy(ctx context.Context, id string, policy []byte) (json.RawMessage, error) {
	if id == "" {
		return nil, fmt.Errorf("%w: the record id", ErrMissing)
	}
	if len(policy) == 0 {
		return nil, fmt.Errorf("%w: the policy", ErrMissing)
	}
	body, err := c.readAll(ctx, request{method: http.MethodPut, url: c.endpoint("v1", "pii", id, "policy"), body: strings.NewReader(string(policy)), contentType: "application/xml"})
	return json.RawMessage(body), err
}

// Delete deletes a record (DELETE /v1/pii/{id}).
func (c *Client) Delete(ctx context.Context, id string) error {
	if id == "" {
		return fmt.Errorf("%w: the record id", ErrMissing)
	}
	_, err := c.readAll(ctx, request{method: http.MethodDelete, url: c.endpoint("v1", "pii", id)})
	return err
}

// Restore restores a deleted record within its restore window
// (POST /v1/pii/{id}/restore).
func (c *Client) Restore(ctx context.Context, id string) (json.RawMessage, error) {
	if id == "" {
		return nil, fmt.Errorf("%w: the record id", ErrMissing)
	}
	return c.doJSON(ctx, request{method: http.MethodPost, url: c.endpoint("v1", "pii", id, "restore")}, nil)
}

// Disclosure is the server's answer to a permitted disclosure.
type Disclosure struct {
	PII       string          `json:"pii"`
	Recipient string          `json:"recipient"`
	Purpose   string          `json:"purpose"`
	Time      *time.Time      `json:"time"`
	Raw       json.RawMessage `json:"-"`
}

// Disclose shares a record downstream with recipient for purpose
// (POST /v1/pii/{id}/disclosures).
func (c *Client) Disclose(ctx context.Context, id, recipient, purpose string) (*Disclosure, error) {
	switch {
	case id == "":
		return nil, fmt.Errorf("%w: the record id", ErrMissing)
	case recipient == "":
		return nil, fmt.Errorf("%w: the recipient", ErrMissing)
	case purpose == "":
		return nil, fmt.Errorf("%w: the purpose", ErrMissing)
	}
	body, err := jsonBody(map[string]string{"recipient": recipient, "purpose": purpose})
	if err != nil {
		return nil, err
	}
	var out Disclosure
	raw, err := c.doJSON(ctx, request{method: http.MethodPost, url: c.endpoint("v1", "pii", id, "disclosures"), body: body, contentType: "application/json"}, &out)
	if err != nil {
		return nil, err
	}
	out.Raw = raw
	return &out, nil
}

// Event is one entry of a record's event log.
type Event struct {
	Seq       int64           `json:"seq"`
	Time      time.Time       `json:"time"`
	Type      string          `json:"type"`
	Principal string          `json:"principal"`
	Purpose   string          `json:"purpose,omitempty"`
	Recipient string          `json:"recipient,omitempty"`
	Decision  string          `json:"decision,omitempty"`
	Reason    string          `json:"reason,omitempty"`
	Raw       json.RawMessage `json:"-"`
}

// Events returns a record's event log, oldest first
// (GET /v1/pii/{id}/events).
func (c *Client) Events(ctx context.Context, id string) ([]Event, error) {
	if id == "" {
		return nil, fmt.Errorf("%w: the record id", ErrMissing)
	}
	var raws []json.RawMessage
	if _, err := c.doJSON(ctx, request{method: http.MethodGet, url: c.endpoint("v1", "pii", id, "events")}, &raws); err != nil {
		return nil, err
	}
	out := make([]Event, len(raws))
	for i, r := range raws {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			return nil, fmt.Errorf("events: entry %d is not an event: %w", i, err)
		}
		out[i].Raw = r
	}
	return out, nil
}

// Notification is one entry of the caller's inbox.
type Notification struct {
	Time      time.Time       `json:"time"`
	PII       string          `json:"pii"`
	Event     string          `json:"event"`
	Principal string          `json:"principal"`
	Purpose   string          `json:"purpose"`
	Text      string          `json:"text"`
	Raw       json.RawMessage `json:"-"`
}

// Notifications returns the caller's inbox, newest last
// (GET /v1/notifications).
func (c *Client) Notifications(ctx context.Context) ([]Notification, error) {
	var raws []json.RawMessage
	if _, err := c.doJSON(ctx, request{method: http.MethodGet, url: c.endpoint("v1", "notifications")}, &raws); err != nil {
		return nil, err
	}
	out := make([]Notification, len(raws))
	for i, r := range raws {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			return nil, fmt.Errorf("notifications: entry %d is not a notification: %w", i, err)
		}
		out[i].Raw = r
	}
	return out, nil
}

// DecisionRequest asks what the server would decide for the caller.
type DecisionRequest struct {
	PII       string `json:"pii"`
	Purpose   string `json:"purpose"`
	Action    string `json:"action"`              // default "read"
	Recipient string `json:"recipient,omitempty"` // for a disclosure decision
}

// Decision is the server's decision for a DecisionRequest.
type Decision struct {
	Decision    string            `json:"decision"`
	Obligations []json.RawMessage `json:"obligations"`
	Reason      string            `json:"reason"`
	Raw         json.RawMessage   `json:"-"`
}

// Decide asks for a decision without touching data or logging an event
// (POST /v1/decision).
func (c *Client) Decide(ctx context.Context, in DecisionRequest) (*Decision, error) {
	if in.PII == "" {
		return nil, fmt.Errorf("%w: the record id", ErrMissing)
	}
	if in.Action == "" {
		in.Action = "read"
	}
	body, err := jsonBody(in)
	if err != nil {
		return nil, err
	}
	var out Decision
	raw, err := c.doJSON(ctx, request{method: http.MethodPost, url: c.endpoint("v1", "decision"), body: body, contentType: "application/json"}, &out)
	if err != nil {
		return nil, err
	}
	out.Raw = raw
	return &out, nil
}

// SetPreferences registers the caller's data handling preferences
// (PUT /v1/subjects/me/preferences) and returns the server's answer.
func (c *Client) SetPreferences(ctx context.Context, prefs []byte) (json.RawMessage, error) {
	if len(prefs) == 0 {
		return nil, fmt.Errorf("%w: the preferences", ErrMissing)
	}
	body, err := c.readAll(ctx, request{method: http.MethodPut, url: c.endpoint("v1", "subjects", "me", "preferences"), body: strings.NewReader(string(prefs)), contentType: "application/xml"})
	return json.RawMessage(body), err
}

// Preferences returns the caller's registered preferences XML
// (GET /v1/subjects/me/preferences).
func (c *Client) Preferences(ctx context.Context) ([]byte, error) {
	return c.readAll(ctx, request{method: http.MethodGet, url: c.endpoint("v1", "subjects", "me", "preferences")})
}

// IBEParams returns the PKG's public parameters (GET /v1/ibe/params, no
// authentication needed).
func (c *Client) IBEParams(ctx context.Context) ([]byte, error) {
	return c.readAll(ctx, request{method: http.MethodGet, url: c.endpoint("v1", "ibe", "params")})
}

// Key formats of IBEKey.
const (
	KeyFormatString = "string"
	KeyFormatX509   = "x509"
)

// IBEKey returns the caller's own IBE private key (POST /v1/ibe/key) in
// format KeyFormatString or KeyFormatX509; publicKeyPEM (optional, x509 only)
// is the caller's key-agreement public key to certify.
func (c *Client) IBEKey(ctx context.Context, format string, publicKeyPEM []byte) ([]byte, error) {
	req := map[string]string{"format": format}
	if len(publicKeyPEM) > 0 {
		req["public_key"] = string(publicKeyPEM)
	}
	body, err := jsonBody(req)
	if err != nil {
		return nil, err
	}
	return c.readAll(ctx, request{method: http.MethodPost, url: c.endpoint("v1", "ibe", "key"), body: body, contentType: "application/json"})
}

// Export returns everything held on a data subject as one JSON document
// (GET /v1/subjects/{id}/export).
func (c *Client) Export(ctx context.Context, subject string) (json.RawMessage, error) {
	if subject == "" {
		return nil, fmt.Errorf("%w: the subject", ErrMissing)
	}
	return c.doJSON(ctx, request{method: http.MethodGet, url: c.endpoint("v1", "subjects", subject, "export")}, nil)
}

// Forget erases everything held on a data subject, or with dryRun only
// reports what it would erase (POST /v1/subjects/{id}/forget). It returns the
// server's report.
func (c *Client) Forget(ctx context.Context, subject string, dryRun bool) (json.RawMessage, error) {
	if subject == "" {
		return nil, fmt.Errorf("%w: the subject", ErrMissing)
	}
	u := c.endpoint("v1", "subjects", subject, "forget")
	if dryRun {
		u += "?dry_run=true"
	}
	return c.doJSON(ctx, request{method: http.MethodPost, url: u}, nil)
}
