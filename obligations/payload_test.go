package obligations

import (
	"errors"
	"net"
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

func TestPublicIP(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1": false, "::1": false, "10.1.2.3": false, "192.168.0.1": false, "172.16.5.4": false,
		"169.254.169.254": false, "fe80::1": false, "0.0.0.0": false, "fd00::1": false, "224.0.0.1": false,
		"93.184.216.34": true, "2606:4700::1111": true,
	} {
		if got := publicIP(net.ParseIP(addr)); got != want {
			t.Errorf("publicIP(%s) = %v; want %v", addr, got, want)
		}
	}
}
