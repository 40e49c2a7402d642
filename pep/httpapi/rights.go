package httpapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/stickypolicy/sticky/pep"
)

// This file holds the data-subject rights endpoints (docs/data-subject-rights.md):
//
//	GET  /v1/subjects/{id}/export          the subject itself or an admin
//	POST /v1/subjects/{id}/forget[?dry_run=true]   the subject itself or an admin
//	POST /v1/pii/{id}/restore              the record's subject or an admin
//	GET  /v1/admin/pseudonyms/{id}         admins: a pseudonymised original
//
// {id} of /v1/subjects may be "me".

// registerRights adds the data-subject rights routes to the router.
func (a *API) registerRights(r *mux.Router) {
	r.HandleFunc("/v1/subjects/{id}/export", a.authenticate(a.exportSubject)).Methods(http.MethodGet)
	r.HandleFunc("/v1/subjects/{id}/forget", a.authenticate(a.forgetSubject)).Methods(http.MethodPost)
	r.HandleFunc("/v1/pii/{id}/restore", a.authenticate(a.restorePII)).Methods(http.MethodPost)
	r.HandleFunc("/v1/admin/pseudonyms/{id}", a.authenticate(a.reidentify)).Methods(http.MethodGet)
}

func (a *API) exportSubject(w http.ResponseWriter, r *http.Request, p pep.Principal) {
	out, err := a.svc.Export(r.Context(), p, mux.Vars(r)["id"])
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="sticky-export.json"`)
	writeJSON(w, http.StatusOK, out)
}

// boolQuery reads an optional boolean query parameter.
func boolQuery(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%w: %s=%q: want true or false", pep.ErrInvalidInput, name, v)
	}
	return b, nil
}

func (a *API) forgetSubject(w http.ResponseWriter, r *http.Request, p pep.Principal) {
	dry, err := boolQuery(r, "dry_run")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	rep, err := a.svc.Forget(r.Context(), p, mux.Vars(r)["id"], dry)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// restoredJSON is the answer of POST /v1/pii/{id}/restore.
type restoredJSON struct {
	recordJSON
	State string `json:"state"`
}

func (a *API) restorePII(w http.ResponseWriter, r *http.Request, p pep.Principal) {
	rec, err := a.svc.Restore(r.Context(), p, mux.Vars(r)["id"])
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, restoredJSON{recordJSON: toRecordJSON(rec), State: "active"})
}

func (a *API) reidentify(w http.ResponseWriter, r *http.Request, p pep.Principal) {
	o, err := a.svc.Reidentify(r.Context(), p, mux.Vars(r)["id"])
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", o.ContentType)
	w.Header().Set("X-Sticky-Record", o.PII)
	w.Header().Set("X-Sticky-Rule", o.Rule)
	if o.Encrypted {
		w.Header().Set("X-Sticky-Encrypted", "true")
	}
	w.WriteHeader(http.StatusOK)
	w.Write(o.Data)
}
