package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const operatorPurposes = `[{"iri": "https://example.org/purposes#Billing", "parent": "https://w3id.org/dpv#ServiceProvision", "label": "Billing"}]`

const serviceProvisionPolicy = `<ppl:Policy xmlns="urn:oasis:names:tc:xacml:2.0:policy:schema:os" xmlns:ppl="http://www.primelife.eu/ppl"
    PolicyId="p" RuleCombiningAlgId="urn:oasis:names:tc:xacml:1.0:rule-combining-algorithm:permit-overrides">
  <Target/>
  <Rule RuleId="bob" Effect="Permit">
    <Target><Subjects><Subject>
      <SubjectMatch MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal">
        <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">bob@example.org</AttributeValue>
        <SubjectAttributeDesignator DataType="http://www.w3.org/2001/XMLSchema#string"
            AttributeId="urn:oasis:names:tc:xacml:1.0:subject:subject-id"/>
      </SubjectMatch>
    </Subject></Subjects></Target>
  </Rule>
  <ppl:DataHandlingPreferences><ppl:AuthorizationsSet>
    <ppl:AuthzUseForPurpose><ppl:Purpose>https://w3id.org/dpv#ServiceProvision</ppl:Purpose></ppl:AuthzUseForPurpose>
  </ppl:AuthorizationsSet></ppl:DataHandlingPreferences>
</ppl:Policy>`

// TestServeOperatorPurposes checks that `serve --purposes FILE` extends the
// taxonomy: an operator's child purpose of an allowed purpose is permitted,
// an unrelated purpose is still denied.
func TestServeOperatorPurposes(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	pfile := filepath.Join(dir, "purposes.json")
	if err := os.WriteFile(pfile, []byte(operatorPurposes), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, _ := startServe(t, data, "--purposes", pfile)
	token := func(role, name string) string {
		code, out, errs := runCmd(t, "principal", "add", "--data", data, "--role", role, name)
		if code != 0 {
			t.Fatalf("principal add %s: %d %s", name, code, errs)
		}
		return strings.TrimSpace(out)
	}
	alice, bob := token("subject", "alice@example.org"), token("controller", "bob@example.org")

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("policy", serviceProvisionPolicy)
	_ = mw.WriteField("data", "invoice-address-marker")
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/pii", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+alice)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	created, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("store: %d %s", resp.StatusCode, created)
	}
	var rec struct{ ID string }
	if err := json.Unmarshal(created, &rec); err != nil || rec.ID == "" {
		t.Fatalf("store answer %s: %v", created, err)
	}
	id := rec.ID

	for _, tc := range []struct {
		purpose string
		want    int
	}{
		{"https://example.org/purposes#Billing", http.StatusOK},
		{"https://w3id.org/dpv#ServiceProvision", http.StatusOK},
		{"https://w3id.org/dpv#Marketing", http.StatusForbidden},
		{"https://example.org/purposes#Unknown", http.StatusForbidden},
	} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/pii/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+bob)
		req.Header.Set("X-Purpose", tc.purpose)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("read for %s: %d %s, want %d", tc.purpose, resp.StatusCode, b, tc.want)
		}
	}
}

// TestServeBadPurposeFile checks that a broken purpose file stops serve
// with a message naming the file, before anything is created.
func TestServeBadPurposeFile(t *testing.T) {
	dir := t.TempDir()
	pfile := filepath.Join(dir, "purposes.json")
	bad := `[{"iri": "https://example.org/p#A", "parent": "https://example.org/p#NoSuchParent"}]`
	if err := os.WriteFile(pfile, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--purposes", pfile}, io.Discard, &stderr)
	if code == 0 {
		t.Fatal("serve accepted a purpose file with an unknown parent")
	}
	if !strings.Contains(stderr.String(), "purposes.json") {
		t.Errorf("error does not name the file: %q", stderr.String())
	}
}
