package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gorilla/mux"

	"github.com/stickypolicy/sticky/pdp"
	"github.com/stickypolicy/sticky/pep"
)

// recordJSON is a record's metadata as the API shows it.
type recordJSON struct {
	ID            string  `json:"id"`
	Subject       string  `json:"subject"`
	StoredBy      string  `json:"stored_by,omitempty"`
	ContentType   string  `json:"content_type,omitempty"`
	Size          int64   `json:"size"`
	Encrypted     bool    `json:"encrypted"`
	StoredAt      string  `json:"stored_at,omitempty"`
	DeleteAt      *string `json:"delete_at"`
	PolicyVersion int64   `json:"policy_version,omitempty"`
}

func timeJSON(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func deleteAtJSON(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	// The exact deadline, with its fraction of a second: truncated to the
	// second it would name an instant before the one the decision point
	// enforces, and a client trusting it would see data served "past" it.
	s := timeJSON(t)
	return &s
}

func toRecordJSON(r pep.Record) recordJSON {
	return recordJSON{ID: r.ID, Subject: r.Subject, StoredBy: r.StoredBy, ContentType: r.ContentType, Size: r.Size,
		Encrypted: r.Encrypted, StoredAt: timeJSON(r.StoredAt), DeleteAt: deleteAtJSON(r.DeleteAt), PolicyVersion: r.PolicyVersion}
}

// createdJSON is the 201 answer of POST /v1/pii.
type createdJSON struct {
	ID        string  `json:"id"`
	Subject   string  `json:"subject"`
	DeleteAt  *string `json:"delete_at"`
	Encrypted bool    `json:"encrypted"`
}

// requireMediaType checks the request's Content-Type against the accepted
// media types (415 otherwise) and returns its parameters.
func requireMediaType(r *http.Request, accepted ...string) (map[string]string, error) {
	ct := r.Header.Get("Content-Type")
	want := strings.Join(accepted, " or ")
	if ct == "" {
		return nil, fmt.Errorf("%w: the request has no Content-Type; send %s", errUnsupportedMediaType, want)
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, fmt.Errorf("%w: the Content-Type %q cannot be parsed; send %s", errUnsupportedMediaType, ct, want)
	}
	for _, a := range accepted {
		if mt == a || (a == "application/xml" && strings.HasSuffix(mt, "+xml")) {
			return params, nil
		}
	}
	return nil, fmt.Errorf("%w: Content-Type %s is not accepted here; send %s", errUnsupportedMediaType, mt, want)
}

func (a *API) createPII(w http.ResponseWriter, r *http.Request, p pep.Principal) {
	params, err := requireMediaType(r, "multipart/form-data")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if params["boundary"] == "" {
		a.writeError(w, r, fmt.Errorf("%w: the multipart/form-data Content-Type has no boundary", pep.ErrInvalidInput))
		return
	}
	in, err := readCreateForm(multipart.NewReader(r.Body, params["boundary"]))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	rec, err := a.svc.Create(r.Context(), p, in)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/pii/"+rec.ID)
	writeJSON(w, http.StatusCreated, createdJSON{ID: rec.ID, Subject: rec.Subject, DeleteAt: deleteAtJSON(rec.DeleteAt), Encrypted: rec.Encrypted})
}

// maxContentType bounds the data part's Content-Type, which is stored.
const maxContentType = 255

// truncate shortens s to at most n bytes for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// readCreateForm reads the parts of POST /v1/pii.
func readCreateForm(mr *multipart.Reader) (pep.CreateInput, error) {
	var in pep.CreateInput
	seen := map[string]bool{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return in, badMultipart(err)
		}
		name := part.FormName()
		if name == "" {
			return in, fmt.Errorf("%w: a multipart part has no form name (Content-Disposition: form-data; name=...)", pep.ErrInvalidInput)
		}
		if seen[name] {
			return in, fmt.Errorf("%w: the part %q is given twice", pep.ErrInvalidInput, name)
		}
		seen[name] = true
		switch name {
		case "data", "policy", "subject", "encrypt_for", "category":
		default:
			return in, fmt.Errorf("%w: unknown part %q (the parts are data, policy, subject, encrypt_for and category)", pep.ErrInvalidInput, name)
		}
		b, err := io.ReadAll(part)
		if err != nil {
			return in, badMultipart(err)
		}
		switch name {
		case "data":
			in.Data = b
			in.ContentType = strings.TrimSpace(part.Header.Get("Content-Type"))
			if in.ContentType == "" {
				in.ContentType = "application/octet-stream"
			}
			// Kept as sent and served back as the Content-Type header, so it
			// must be a media type (type/subtype and parameters).
			if mt, _, err := mime.ParseMediaType(in.ContentType); err != nil || !strings.Contains(mt, "/") || len(in.ContentType) > maxContentType {
				return in, fmt.Errorf("%w: the data part's Content-Type %q is not a media type like text/plain or application/pdf", pep.ErrInvalidInput, truncate(in.ContentType, 100))
			}
		case "policy":
			in.Policy = b
		case "subject":
			in.Subject = strings.TrimSpace(string(b))
			if in.Subject == "" {
				return in, fmt.Errorf("%w: the subject part is empty", pep.ErrInvalidInput)
			}
		case "category": // data-subject rights: matched by operator rules
			in.Category = strings.TrimSpace(string(b))
		case "encrypt_for":
			ids, err := pep.SplitIdentities(string(b))
			if err != nil {
				return in, err
			}
			in.EncryptFor = ids
		}
	}
	if !seen["data"] {
		return in, fmt.Errorf("%w: the data part is missing", pep.ErrInvalidInput)
	}
	if !seen["policy"] {
		return in, fmt.Errorf("%w: the policy part is missing", pep.ErrInvalidInput)
	}
	return in, nil
}

func badMultipart(err error) error {
	var maxBytes *http.MaxBytesError
	if errors.As(err, &maxBytes) {
		return err
	}
	return fmt.Errorf("%w: malformed multipart body: %v", pep.ErrInvalidInput, err)
}

// purposeOf returns the declared purpose: the X-Purpose header, else the
// purpose query parameter.
func purposeOf(r *http.Request) string {
	if p := strings.TrimSpace(r.Header.Get("X-Purpose")); p != "" {
		return p
	}
	return strings.TrimSpace(r.URL.Query().Get("purpose"))
}

// maxPurpose bounds a declared purpose, which every decision logs.
const maxPurpose = 2048

// checkPurpose refuses a declared purpose that cannot be an IRI: longer
// than maxPurpose, or holding spaces or control characters. It is bad
// input (400), not a question for the policy, and it is not logged.
func checkPurpose(purpose string) error {
	if len(purpose) > maxPurpose {
		return fmt.Errorf("%w: the declared purpose is %d bytes long; a purpose IRI has at most %d", pep.ErrInvalidInput, len(purpose), maxPurpose)
	}
	if i := strings.IndexFunc(purpose, func(r rune) bool { return r <= ' ' || r == 0x7f || unicode.IsSpace(r) }); i >= 0 {
		return fmt.Errorf("%w: the declared purpose %q is not an IRI (it holds a space or control character); e.g. https://w3id.org/dpv#ServiceProvision", pep.ErrInvalidInput, truncate(purpose, 100))
	}
	return nil
}

func (a *API) getPII(w http.ResponseWriter, r *http.Request, p pep.Principal) {
	purpose := purposeOf(r)
	if err := checkPurpose(purpose); err != nil {
		a.writeError(w, r, err)
		return
	}
	rec, data, err := a.svc.Retrieve(r.Context(), p, mux.Vars(r)["id"], purpose)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", rec.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Sticky-Encrypted", strconv.FormatBool(rec.Encrypted))
	w.WriteHeader(http.StatusOK)
	w.Write(data)
}

func (a *API) listPII(w http.ResponseWriter, r *http.Request, p pep.Principal) {
	recs, err := a.svc.List(r.Context(), p)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]recordJSON, 0, len(recs))
	for _, rec := range recs {
		out = append(out, toRecordJSON(rec))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) deletePII(w http.ResponseWriter, r *http.Request, p pep.Principal) {
	if err := a.svc.Delete(r.Context(), p, mux.Vars(r)["id"]); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) getPolicy(w http.ResponseWriter, r *http.Request, p pep.Principal) {
	rec, err := a.svc.Policy(r.Context(), p, mux.Vars(r)["id"])
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Sticky-Policy-Version", strconv.FormatInt(rec.PolicyVersion, 10))
	w.WriteHeader(http.StatusOK)
	w.Write(rec.Policy)
}

// readXML reads an XML request body.
func readXML(r *http.Request) ([]byte, error) {
	if _, err := requireMediaType(r, "application/xml", "text/xml"); err != nil {
		return nil, err
	}
	return io.ReadAll(r.Body)
}

func (a *API) putPolicy(w http.ResponseWriter, r *http.Request, p pep.Principal) {
	xml, err := readXML(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	rec, err := a.svc.UpdatePolicy(r.Context(), p, mux.Vars(r)["id"], xml)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toRecordJSON(rec))
}

// readJSON decodes a JSON request body into v, refusing unknown fields.
func readJSON(r *http.Request, v any) error {
	if _, err := requireMediaType(r, "application/json"); err != nil {
		return err
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var maxBytes *http.MaxBytesError
		if errors.As(err, &maxBytes) {
			return err
		}
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: the request body is empty; send a JSON object", pep.ErrInvalidInput)
		}
		return fmt.Errorf("%w: %s", pep.ErrInvalidInput, describeJSONError(err))
	}
	if dec.More() {
		return fmt.Errorf("%w: the body holds more than one JSON value", pep.ErrInvalidInput)
	}
	return nil
}

// describeJSONError says what is wrong with a JSON body in words a person
// understands, without Go type names.
func describeJSONError(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		want := jsonKind(typeErr.Type)
		if typeErr.Field == "" {
			return fmt.Sprintf("the body must be a JSON %s, not a JSON %s", want, typeErr.Value)
		}
		return fmt.Sprintf("the field %q must be a JSON %s, not a JSON %s", typeErr.Field, want, typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("the body is not valid JSON (at byte %d: %s)", syntaxErr.Offset, strings.TrimPrefix(syntaxErr.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the body is not valid JSON (it ends too early)"
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	return "the body is not the expected JSON: " + msg
}

// jsonKind names the JSON type that decodes into t.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "value"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	}
	return "value"
}

type disclosureJSON struct {
	PII       string `json:"pii"`
	Recipient string `json:"recipient"`
	Purpose   string `json:"purpose"`
	By        string `json:"by"`
	Time      string `json:"time"`
}

func (a *API) disclose(w http.ResponseWriter, r *http.Request, p pep.Principal) {
	var in struct {
		Recipient string `json:"recipient"`
		Purpose   string `json:"purpose"`
	}
	if err := readJSON(r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := checkPurpose(strings.TrimSpace(in.Purpose)); err != nil {
		a.writeError(w, r, err)
		return
	}
	d, err := a.svc.Disclose(r.Context(), p, mux.Vars(r)["id"], in.Recipient, in.Purpose)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, disclosureJSON{PII: d.PII, Recipient: d.Recipient, Purpose: d.Purpose, By: d.By, Time: timeJSON(d.Time)})
}

type eventJSON struct {
	Seq        int64  `json:"seq"`
	Time       string `json:"time"`
	Type       string `json:"type"`
	Principal  string `json:"principal"`
	Purpose    string `json:"purpose,omitempty"`
	Recipient  string `json:"recipient,omitempty"`
	Decision   string `json:"decision,omitempty"`
	Reason     string `json:"reason,omitempty"`
	PolicyHash string `json:"policy_hash,omitempty"`
	Prev       string `json:"prev"`
	Hash       string `json:"hash"`
}

func (a *API) events(w http.ResponseWriter, r *http.Request, p pep.Principal) {
	evs, err := a.svc.Events(r.Context(), p, mux.Vars(r)["id"])
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]eventJSON, 0, len(evs))
	for _, e := range evs {
		out = append(out, eventJSON{Seq: e.Seq, Time: timeJSON(e.Time), Type: e.Type, Principal: e.Principal, Purpose: e.Purpose,
			Recipient: e.Recipient, Decision: e.Decision, Reason: e.Reason, PolicyHash: e.PolicyHash, Prev: e.Prev, Hash: e.Hash})
	}
	writeJSON(w, http.StatusOK, out)
}

type notificationJSON struct {
	Time      string `json:"time"`
	PII       string `json:"pii"`
	Event     string `json:"event"`
	Principal string `json:"principal"`
	// Purpose is always present (CONTRACT.md lists it for every
	// notification): "" when the event declared none (e.g. stored).
	Purpose string `json:"purpose"`
	Text    string `json:"text"`
}

func (a *API) notifications(w http.ResponseWriter, r *http.Request, p pep.Principal) {
	ns, err := a.svc.Notifications(r.Context(), p)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]notificationJSON, 0, len(ns))
	for _, n := range ns {
		out = append(out, notificationJSON{Time: timeJSON(n.Time), PII: n.PII, Event: string(n.Event), Principal: n.Principal, Purpose: n.Purpose, Text: n.Text})
	}
	writeJSON(w, http.StatusOK, out)
}

type decisionJSON struct {
	Decision    string           `json:"decision"`
	Obligations []obligationJSON `json:"obligations"`
	// Reason is always present (CONTRACT.md's shape): "" for a Permit.
	Reason string `json:"reason"`
}

type obligationJSON struct {
	ID         string          `json:"id"`
	Advice     bool            `json:"advice,omitempty"`
	Attributes []attributeJSON `json:"attributes,omitempty"`
}

type attributeJSON struct {
	ID       string `json:"id"`
	Category string `json:"category,omitempty"`
	DataType string `json:"datatype,omitempty"`
	Value    string `json:"value"`
}

func (a *API) decision(w http.ResponseWriter, r *http.Request, p pep.Principal) {
	var in struct {
		PII       string `json:"pii"`
		Purpose   string `json:"purpose"`
		Action    string `json:"action"`
		Recipient string `json:"recipient"`
	}
	if err := readJSON(r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := checkPurpose(strings.TrimSpace(in.Purpose)); err != nil {
		a.writeError(w, r, err)
		return
	}
	res, err := a.svc.Decide(r.Context(), p, pep.DecisionInput{PII: in.PII, Purpose: in.Purpose, Action: pdp.Action(in.Action), Recipient: in.Recipient})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := decisionJSON{Decision: res.Decision.String(), Obligations: []obligationJSON{}, Reason: res.Reason}
	for _, o := range res.Obligations {
		oj := obligationJSON{ID: o.ID, Advice: o.Advice}
		for _, at := range o.Attributes {
			oj.Attributes = append(oj.Attributes, attributeJSON{ID: at.ID, Category: at.Category, DataType: at.DataType, Value: at.Value})
		}
		out.Obligations = append(out.Obligations, oj)
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) putPreferences(w http.ResponseWriter, r *http.Request, p pep.Principal) {
	xml, err := readXML(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.svc.SetPreferences(r.Context(), p, xml); err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"subject": p.Name, "status": "registered"})
}

func (a *API) getPreferences(w http.ResponseWriter, r *http.Request, p pep.Principal) {
	xml, err := a.svc.Preferences(r.Context(), p)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(xml)
}

func (a *API) ibeParams(w http.ResponseWriter, r *http.Request) {
	b, err := a.svc.IBEParams(r.Context())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(b)
}

func (a *API) ibeKey(w http.ResponseWriter, r *http.Request, p pep.Principal) {
	var in struct {
		Format    string `json:"format"`
		PublicKey string `json:"public_key"`
	}
	if err := readJSON(r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	key, err := a.svc.IBEKey(r.Context(), p, in.Format, []byte(in.PublicKey))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if in.Format == "x509" {
		w.Header().Set("Content-Type", "application/x-pem-file")
	} else {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Write(key)
}
