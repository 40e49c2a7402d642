package httpapi

import (
	"bytes"
	"errors"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/stickypolicy/sticky/pep"
)

// FuzzCreateForm feeds arbitrary multipart bodies to the POST /v1/pii form
// reader: it must either return the parts or an error that maps to 400 or
// 413, never panic.
func FuzzCreateForm(f *testing.F) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.SetBoundary("B")
	w.WriteField("data", "hello")
	w.WriteField("policy", "<p/>")
	w.WriteField("subject", "alice@example.org")
	w.WriteField("encrypt_for", "bob@example.org,carol@example.org")
	w.Close()
	f.Add(buf.Bytes())
	f.Add([]byte("--B\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\nx\r\n--B--\r\n"))
	f.Add([]byte("--B\r\n\r\n--B--"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := readCreateForm(multipart.NewReader(bytes.NewReader(body), "B"))
		if err != nil {
			if s := statusOf(err); s != http.StatusBadRequest && s != http.StatusRequestEntityTooLarge {
				t.Fatalf("error %v maps to %d", err, s)
			}
			if !errors.Is(err, pep.ErrInvalidInput) {
				t.Fatalf("error %v is not ErrInvalidInput", err)
			}
			return
		}
		if in.Policy == nil {
			t.Fatal("accepted a form without a policy part")
		}
	})
}
