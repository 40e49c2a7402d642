package obligations

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// WebhookPayload is the JSON body of a webhook notification.
type WebhookPayload struct {
	ID         string    `json:"id"` // the job id, also the Idempotency-Key header
	PII        string    `json:"pii"`
	Event      EventType `json:"event"`
	Principal  string    `json:"principal,omitempty"`
	Purpose    string    `json:"purpose,omitempty"`
	Recipient  string    `json:"recipient,omitempty"`
	Time       time.Time `json:"time"`
	Obligation string    `json:"obligation"`
	Trigger    string    `json:"trigger,omitempty"`
	Text       string    `json:"text"`
}

// payloadFor builds the webhook body of a job.
func payloadFor(j Job) WebhookPayload {
	return WebhookPayload{
		ID:         j.ID,
		PII:        j.PII,
		Event:      j.Event.Type,
		Principal:  j.Event.Principal,
		Purpose:    j.Event.Purpose,
		Recipient:  j.Event.Recipient,
		Time:       j.Event.Time.UTC(),
		Obligation: j.ObligationID,
		Trigger:    string(j.Trigger),
		Text:       Text(j),
	}
}

// Webhook headers.
const (
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderTimestamp      = "X-Sticky-Timestamp"
	HeaderSignature      = "X-Sticky-Signature"
)

// ErrBadSignature is returned by VerifyWebhook for a signature that does
// not match, a malformed header, or a timestamp outside the tolerance.
var ErrBadSignature = errors.New("obligations: bad webhook signature")

// Sign returns the X-Sticky-Signature value for a body sent at timestamp
// (Unix seconds, the X-Sticky-Timestamp value): "sha256=" and the hex
// HMAC-SHA256 under secret of timestamp + "." + body.
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifyWebhook checks a received webhook: the signature must match and the
// timestamp must be within tolerance of now (replay protection). Receivers
// should also drop repeated Idempotency-Key values.
func VerifyWebhook(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not Unix seconds", ErrBadSignature, timestamp)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: timestamp %s is %s away from now", ErrBadSignature, timestamp, d.Round(time.Second))
	}
	if !strings.HasPrefix(signature, "sha256=") {
		return fmt.Errorf("%w: signature must start with sha256=", ErrBadSignature)
	}
	want := Sign(secret, timestamp, body)
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return fmt.Errorf("%w: signature does not match", ErrBadSignature)
	}
	return nil
}
