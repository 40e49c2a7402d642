package acceptance

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<ppl:Policy xmlns="urn:oasis:names:tc:xacml:2.0:policy:schema:os" xmlns:ppl="http://www.primelife.eu/ppl" PolicyId="&lol9;"
    RuleCombiningAlgId="urn:oasis:names:tc:xacml:1.0:rule-combining-algorithm:permit-overrides"><Target/></ppl:Policy>`

const externalEntity = `<?xml version="1.0"?>
<!DOCTYPE p [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ppl:Policy xmlns="urn:oasis:names:tc:xacml:2.0:policy:schema:os" xmlns:ppl="http://www.primelife.eu/ppl" PolicyId="&xxe;"
    RuleCombiningAlgId="urn:oasis:names:tc:xacml:1.0:rule-combining-algorithm:permit-overrides"><Target/></ppl:Policy>`

// deepNesting is 100,000 nested elements.
func deepNesting() string {
	return strings.Repeat("<a>", 100000) + strings.Repeat("</a>", 100000)
}

// hiddenLength hides a reader's length so that the request is chunked.
type hiddenLength struct{ io.Reader }

// TestHostileInput: bad and hostile input gets a clear 4xx JSON error,
// never a 500, and nothing is stored.
func TestHostileInput(t *testing.T) {
	s := startServer(t)
	alice := s.principal("subject", "alice@example.org")
	bob := s.principal("controller", "bob@example.org")
	policy := readTestdata(t, "subject-policy.xml")
	data := part{name: "data", contentType: "text/plain", body: []byte("x")}
	pol := func(x string) part { return part{name: "policy", contentType: "application/xml", body: []byte(x)} }

	t.Run("invalid policy is 400 naming what is wrong", func(t *testing.T) {
		bad := strings.Replace(policy, "<ob:Duration>P30D</ob:Duration>", "<ob:Duration>P3X0D</ob:Duration>", 1)
		r := s.storeRaw(alice, data, pol(bad))
		wantError(t, r, http.StatusBadRequest)
		if !bytes.Contains(r.body, []byte("P3X0D")) || !bytes.Contains(r.body, []byte("Duration")) {
			t.Errorf("400 does not name the element and value at fault: %s", r.body)
		}
		bad = strings.Replace(policy, `RuleCombiningAlgId="urn:oasis:names:tc:xacml:1.0:rule-combining-algorithm:permit-overrides"`, `RuleCombiningAlgId="urn:example:no-such-algorithm"`, 1)
		r = s.storeRaw(alice, data, pol(bad))
		wantError(t, r, http.StatusBadRequest)
		if !bytes.Contains(r.body, []byte("RuleCombiningAlgId")) || !bytes.Contains(r.body, []byte("urn:example:no-such-algorithm")) {
			t.Errorf("400 does not name the attribute and value at fault: %s", r.body)
		}
		bad = strings.Replace(policy, `<ppl:AuthzDownstreamUsage allowed="false"/>`, `<ppl:AuthzDownstreamUsage allowed="maybe"/>`, 1)
		m := wantError(t, s.storeRaw(alice, data, pol(bad)), http.StatusBadRequest, "problems")
		if ps, _ := m["problems"].([]any); len(ps) == 0 {
			t.Errorf("no problems listed: %v", m)
		} else if p, _ := ps[0].(map[string]any); p["element"] != "ppl:AuthzDownstreamUsage" || p["attribute"] != "allowed" || p["value"] != "maybe" {
			t.Errorf("problem %v does not name element ppl:AuthzDownstreamUsage, attribute allowed, value maybe", p)
		}
		wantError(t, s.storeRaw(alice, data, pol("<ppl:Policy")), http.StatusBadRequest)
		wantError(t, s.storeRaw(alice, data, pol("")), http.StatusBadRequest)
	})

	hostile := map[string]string{"billion laughs": billionLaughs, "external entity": externalEntity, "100k-deep nesting": deepNesting()}
	for name, doc := range hostile {
		t.Run(name, func(t *testing.T) {
			r := s.storeRaw(alice, data, pol(doc))
			if r.status != http.StatusBadRequest && r.status != http.StatusRequestEntityTooLarge {
				t.Errorf("POST /v1/pii: %s, want 400 or 413", r)
			}
			wantError(t, r, r.status)
			if bytes.Contains(r.body, []byte("root:")) {
				t.Errorf("the answer holds a local file: %s", r.body)
			}
			rec := s.store(alice, []byte("y"), "text/plain", policy)
			r = s.do("PUT", "/v1/pii/"+rec.ID+"/policy", alice, strings.NewReader(doc), "Content-Type", "application/xml")
			if r.status != http.StatusBadRequest && r.status != http.StatusRequestEntityTooLarge {
				t.Errorf("PUT policy: %s, want 400 or 413", r)
			}
			wantError(t, r, r.status)
			r = s.do("PUT", "/v1/subjects/me/preferences", alice, strings.NewReader(doc), "Content-Type", "application/xml")
			if r.status != http.StatusBadRequest && r.status != http.StatusRequestEntityTooLarge {
				t.Errorf("PUT preferences: %s, want 400 or 413", r)
			}
			wantError(t, r, r.status)
		})
	}

	t.Run("multipart", func(t *testing.T) {
		cases := []struct {
			name, ct string
			body     string
			status   int
		}{
			{"garbage body", "multipart/form-data; boundary=XYZ", "this is not multipart at all", 400},
			{"no boundary", "multipart/form-data", "--XYZ\r\n", 400},
			{"truncated", "multipart/form-data; boundary=XYZ", "--XYZ\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\nabc", 400},
			{"no parts", "multipart/form-data; boundary=XYZ", "--XYZ--\r\n", 400},
			{"JSON instead", "application/json", `{"data": "x", "policy": "y"}`, 415},
			{"no content type", "", "data=x", 415},
			{"urlencoded", "application/x-www-form-urlencoded", "data=x&policy=y", 415},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var hdr []string
				if c.ct != "" {
					hdr = []string{"Content-Type", c.ct}
				}
				wantError(t, s.do("POST", "/v1/pii", alice, strings.NewReader(c.body), hdr...), c.status)
			})
		}
		t.Run("missing data", func(t *testing.T) { wantError(t, s.storeRaw(alice, pol(policy)), 400) })
		t.Run("data content type not a media type", func(t *testing.T) {
			wantError(t, s.storeRaw(alice, part{name: "data", contentType: "not a type", body: []byte("x")}, pol(policy)), 400)
		})
		t.Run("missing policy", func(t *testing.T) { wantError(t, s.storeRaw(alice, data), 400) })
		t.Run("unknown encrypt_for identity list", func(t *testing.T) {
			r := s.storeRaw(alice, data, pol(policy), part{name: "encrypt_for", body: []byte(",,,")})
			if r.status != http.StatusBadRequest {
				t.Errorf("encrypt_for \",,,\": %s, want 400", r)
			}
		})
	})

	t.Run("oversize body is 413", func(t *testing.T) {
		big := bytes.Repeat([]byte("A"), 33<<20)
		body, ct := multipartBody(t, part{name: "data", contentType: "application/octet-stream", body: big}, pol(policy))
		b, _ := io.ReadAll(body)
		wantError(t, s.do("POST", "/v1/pii", alice, bytes.NewReader(b), "Content-Type", ct), http.StatusRequestEntityTooLarge)
		wantError(t, s.do("POST", "/v1/pii", alice, hiddenLength{bytes.NewReader(b)}, "Content-Type", ct), http.StatusRequestEntityTooLarge)
		huge := strings.Replace(policy, "<Target/>", "<Target/><!--"+strings.Repeat("x", 2<<20)+"-->", 1)
		r := s.storeRaw(alice, data, pol(huge))
		wantError(t, r, http.StatusRequestEntityTooLarge)
		rec := s.store(alice, []byte("y"), "text/plain", policy)
		wantError(t, s.do("PUT", "/v1/pii/"+rec.ID+"/policy", alice, strings.NewReader(huge), "Content-Type", "application/xml"), http.StatusRequestEntityTooLarge)
		wantError(t, s.do("PUT", "/v1/subjects/me/preferences", alice, strings.NewReader(huge), "Content-Type", "application/xml"), http.StatusRequestEntityTooLarge)
	})

	t.Run("answers do not echo huge input", func(t *testing.T) {
		r := s.storeRaw(alice, data, pol(policy), part{name: "category", body: bytes.Repeat([]byte("c"), 200<<10)})
		wantError(t, r, http.StatusBadRequest)
		huge := strings.Replace(policy, `allowed="false"`, `allowed="`+strings.Repeat("m", 300<<10)+`"`, 1)
		r2 := s.storeRaw(alice, data, pol(huge))
		wantError(t, r2, http.StatusBadRequest, "problems")
		for _, x := range []resp{r, r2} {
			if len(x.body) > 20<<10 {
				t.Errorf("a %d-byte error answer to a huge input", len(x.body))
			}
		}
	})
	t.Run("wrong JSON types", func(t *testing.T) {
		rec := s.store(alice, []byte("z"), "text/plain", policy)
		cases := []struct{ path, body string }{
			{"/v1/decision", `{"pii": 5, "purpose": "x"}`},
			{"/v1/decision", `{"pii": "` + rec.ID + `", "purpose": ["a"]}`},
			{"/v1/decision", `{"pii": "` + rec.ID + `", "purpose": "` + purposeService + `", "action": "launch"}`},
			{"/v1/decision", `[1, 2, 3]`},
			{"/v1/decision", `{"pii": "` + rec.ID + `"`},
			{"/v1/decision", ``},
			{"/v1/decision", strings.Repeat("[", 100000) + strings.Repeat("]", 100000)},
			{"/v1/ibe/key", `{"format": 1}`},
			{"/v1/ibe/key", `{"format": "pgp"}`},
			{"/v1/ibe/key", `{"format": "string", "identity": "alice@example.org"}`},
			{"/v1/pii/" + rec.ID + "/disclosures", `{"recipient": 1, "purpose": true}`},
		}
		for _, c := range cases {
			t.Run(c.path+" "+c.body[:min(len(c.body), 40)], func(t *testing.T) {
				wantError(t, s.postJSON(c.path, bob, c.body), http.StatusBadRequest)
			})
		}
	})

	t.Run("unknown ids and odd paths", func(t *testing.T) {
		for _, id := range []string{"NOSUCHRECORD0000000000000", "x", strings.Repeat("z", 5000), "%00", "..%2F..%2Fetc", "%E2%98%83", "'%20OR%201=1--"} {
			for _, p := range []string{"", "/policy", "/events"} {
				r := s.do("GET", "/v1/pii/"+id+p, alice, nil)
				if r.status != http.StatusNotFound && r.status != http.StatusBadRequest {
					t.Errorf("GET /v1/pii/%s%s: %s, want 404 (or 400)", id[:min(len(id), 20)], p, r)
				}
				if r.status >= 500 || r.status < 400 {
					continue
				}
				wantError(t, r, r.status)
			}
		}
		wantError(t, s.do("GET", "/v1/nothing-here", alice, nil), http.StatusNotFound)
	})

	t.Run("bad purpose header", func(t *testing.T) {
		rec := s.store(alice, []byte("z"), "text/plain", policy)
		for _, c := range []struct {
			purpose string
			status  int
		}{
			{"not an IRI", 400},
			{"urn:" + strings.Repeat("p", 10000), 400},
			{"https://w3id.org/dpv#NoSuchPurpose", 403},
		} {
			r := s.do("GET", "/v1/pii/"+rec.ID, bob, nil, "X-Purpose", c.purpose)
			wantError(t, r, c.status)
		}
	})

	t.Run("nothing was stored", func(t *testing.T) {
		// Only the records stored on purpose above.
		for _, m := range decodeArray(t, s.do("GET", "/v1/pii", alice, nil)) {
			if m["size"] != float64(1) {
				t.Errorf("a refused request stored something: %v", m)
			}
		}
	})
	if r := s.do("GET", "/healthz", "", nil); r.status != http.StatusOK {
		t.Errorf("the server does not serve after hostile input: %s", r)
	}
}
