package obligations

import (
	"errors"
	"testing"
	"time"
)

func TestVerifyWebhook(t *testing.T) {
	secret := []byte("s3cret")
	body := []byte(`{"id":"job_1"}`)
	now := time.Unix(1_900_000_000, 0)
	ts := "1900000000"
	sig := Sign(secret, ts, body)
	if err := VerifyWebhook(secret, ts, sig, body, now.Add(30*time.Second), time.Minute); err != nil {
		t.Fatalf("a good signature was refused: %v", err)
	}
	cases := map[string]struct {
		secret    []byte
		ts, sig   string
		body      []byte
		now       time.Time
		tolerance time.Duration
	}{
		"tampered_body":   {secret, ts, sig, []byte(`{"id":"job_2"}`), now, time.Minute},
		"wrong_secret":    {[]byte("other"), ts, sig, body, now, time.Minute},
		"replayed_later":  {secret, ts, sig, body, now.Add(2 * time.Minute), time.Minute},
		"from_the_future": {secret, ts, sig, body, now.Add(-2 * time.Minute), time.Minute},
		"timestamp_moved": {secret, "1900000001", sig, body, now, time.Minute},
		"no_prefix":       {secret, ts, sig[len("sha256="):], body, now, time.Minute},
		"bad_timestamp":   {secret, "yesterday", sig, body, now, time.Minute},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if err := VerifyWebhook(c.secret, c.ts, c.sig, c.body, c.now, c.tolerance); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("VerifyWebhook = %v; want ErrBadSignature", err)
			}
		})
	}
}
