package acceptance

import (
	"net/http"
	"strings"
	"testing"
)

// TestJunkNeverFails: every route, called by every role with junk bodies
// and content types, answers with a JSON 4xx or a success, never a 5xx.
func TestJunkNeverFails(t *testing.T) {
	s := startServer(t)
	tokens := map[string]string{
		"subject":    s.principal("subject", "alice@example.org"),
		"controller": s.principal("controller", "bob@example.org"),
		"admin":      s.principal("admin", "root@example.org"),
	}
	rec := s.store(tokens["subject"], []byte("x"), "text/plain", readTestdata(t, "subject-policy.xml"))
	routes := []struct{ method, path string }{
		{"POST", "/v1/pii"}, {"GET", "/v1/pii"},
		{"GET", "/v1/pii/{id}"}, {"DELETE", "/v1/pii/{id}"},
		{"GET", "/v1/pii/{id}/policy"}, {"PUT", "/v1/pii/{id}/policy"},
		{"POST", "/v1/pii/{id}/disclosures"}, {"GET", "/v1/pii/{id}/events"},
		{"POST", "/v1/pii/{id}/restore"},
		{"GET", "/v1/notifications"}, {"POST", "/v1/decision"},
		{"PUT", "/v1/subjects/me/preferences"}, {"GET", "/v1/subjects/me/preferences"},
		{"GET", "/v1/subjects/{subject}/export"}, {"POST", "/v1/subjects/{subject}/forget"},
		{"GET", "/v1/admin/pseudonyms/{id}"},
		{"POST", "/v1/ibe/key"}, {"GET", "/v1/ibe/params"}, {"GET", "/healthz"},
	}
	bodies := []struct{ ct, body string }{
		{"application/json", `{"pii": {"a": [1, 2, {"b": null}]}, "purpose": 1e999}`},
		{"application/json", strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000)},
		{"application/json", "\x00\xff\xfe"},
		{"application/xml", billionLaughs},
		{"application/xml", "<?xml version=\"1.0\" encoding=\"EBCDIC\"?><a/>"},
		{"text/xml", "<ppl:DataHandlingPreferences xmlns:ppl=\"http://www.primelife.eu/ppl\"><ppl:AuthorizationsSet><ppl:AuthzUseForPurpose><ppl:Purpose></ppl:Purpose></ppl:AuthzUseForPurpose></ppl:AuthorizationsSet></ppl:DataHandlingPreferences>"},
		{"multipart/form-data; boundary=\"", "--"},
		{"multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"data\"; filename=\"../../etc/passwd\"\r\nContent-Type: \x00\r\n\r\nx\r\n--b--\r\n"},
		{"", ""},
		{"application/json; charset=utf-16", `{}`},
	}
	ids := map[string]string{"{id}": rec.ID, "{subject}": "alice@example.org"}
	for _, rt := range routes {
		for role, tok := range tokens {
			for i, b := range bodies {
				path := rt.path
				for k, v := range ids {
					path = strings.ReplaceAll(path, k, v)
				}
				var hdr []string
				if b.ct != "" {
					hdr = []string{"Content-Type", b.ct}
				}
				hdr = append(hdr, "X-Purpose", "\u2603 not a purpose")
				r := s.do(rt.method, path, tok, strings.NewReader(b.body), hdr...)
				if r.status >= 500 {
					t.Errorf("%s %s as %s with body %d: %s", rt.method, rt.path, role, i, r)
				}
				if r.status >= 400 {
					wantError(t, r, r.status)
				}
			}
		}
	}
	if r := s.do("GET", "/healthz", "", nil); r.status != http.StatusOK {
		t.Errorf("health after junk: %s", r)
	}
}
