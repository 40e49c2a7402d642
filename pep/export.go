package pep

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"
)

// ExportFormat names the export document's format.
const ExportFormat = "sticky-subject-export/1"

// SubjectExport is everything Sticky holds on a data subject, as one
// machine-readable document (right of access and portability).
type SubjectExport struct {
	Format      string           `json:"format"`
	Subject     string           `json:"subject"`
	GeneratedAt time.Time        `json:"generated_at"`
	Principal   *ExportPrincipal `json:"principal"`   // null when the subject has no account
	Preferences *string          `json:"preferences"` // the registered DataHandlingPreferences XML
	Records     []ExportRecord   `json:"records"`
	// ErasedRecords are records that are gone but whose event logs remain.
	ErasedRecords []ExportErased       `json:"erased_records"`
	Notifications []ExportNotification `json:"notifications"`
}

// ExportPrincipal is the subject's account.
type ExportPrincipal struct {
	Name    string    `json:"name"`
	Role    Role      `json:"role"`
	Email   string    `json:"email,omitempty"`
	Created time.Time `json:"created"`
}

// ExportRecord is one record held on the subject.
type ExportRecord struct {
	ID          string `json:"id"`
	ContentType string `json:"content_type"`
	Category    string `json:"category,omitempty"`
	Size        int64  `json:"size"`
	// Encrypted says that Data is IBE ciphertext (as stored).
	Encrypted bool `json:"encrypted"`
	// Data is the stored bytes, base64 (standard encoding).
	Data string `json:"data"`
	// State is "active", "deleted" (within its restore window),
	// "pseudonymised" or "anonymised".
	State           string     `json:"state"`
	StoredBy        string     `json:"stored_by"`
	StoredAt        time.Time  `json:"stored_at"`
	DeleteAt        *time.Time `json:"delete_at"`
	RestorableUntil *time.Time `json:"restorable_until,omitempty"`
	PolicyVersion   int64      `json:"policy_version"`
	PolicyHash      string     `json:"policy_hash"`
	// Policy is the sticky policy XML.
	Policy   string          `json:"policy"`
	Original *ExportOriginal `json:"pseudonymised_original,omitempty"`
	// AccessHistory is the record's event log, oldest first, identities
	// resolved where they are still known.
	AccessHistory []ExportEvent `json:"access_history"`
	// Recipients are those the record was disclosed to.
	Recipients []ExportRecipient `json:"recipients"`
}

// ExportOriginal is a pseudonymised record's original.
type ExportOriginal struct {
	ContentType string `json:"content_type"`
	Encrypted   bool   `json:"encrypted"`
	Data        string `json:"data"`
	Rule        string `json:"rule"`
}

// ExportEvent is one entry of a record's access history.
type ExportEvent struct {
	Seq       int64     `json:"seq"`
	Time      time.Time `json:"time"`
	Type      string    `json:"type"`
	Principal string    `json:"principal,omitempty"`
	Purpose   string    `json:"purpose,omitempty"`
	Recipient string    `json:"recipient,omitempty"`
	Decision  string    `json:"decision,omitempty"`
	Reason    string    `json:"reason,omitempty"`
}

// ExportRecipient is one disclosure.
type ExportRecipient struct {
	Recipient   string    `json:"recipient"`
	Purpose     string    `json:"purpose"`
	DisclosedBy string    `json:"disclosed_by"`
	Time        time.Time `json:"time"`
}

// ExportErased is an erased record's remaining log.
type ExportErased struct {
	ID            string        `json:"id"`
	AccessHistory []ExportEvent `json:"access_history"`
}

// ExportNotification is one message of the subject's inbox.
type ExportNotification struct {
	Time      time.Time `json:"time"`
	PII       string    `json:"pii"`
	Event     string    `json:"event"`
	Principal string    `json:"principal,omitempty"`
	Purpose   string    `json:"purpose,omitempty"`
	Text      string    `json:"text"`
}

// Export returns everything held on subject ("me": the caller) for p, the
// subject itself or an admin; anyone else is refused. The export is an
// access: each live record gets a subject_access event (the subject) or an
// exported event (an admin), written after the document was assembled, so
// the document's histories end just before it. An unknown subject is
// ErrNotFound.
func (s *Service) Export(ctx context.Context, p Principal, subject string) (*SubjectExport, error) {
	subject = SubjectOf(p, subject)
	if p.Name != subject && p.Role != RoleAdmin {
		return nil, deny("only the data subject itself or an admin may export a data subject's data")
	}
	rs, err := s.rights()
	if err != nil {
		return nil, err
	}
	now := s.clock.Now().UTC()
	out := &SubjectExport{Format: ExportFormat, Subject: subject, GeneratedAt: now, Records: []ExportRecord{},
		ErasedRecords: []ExportErased{}, Notifications: []ExportNotification{}}
	pr, err := s.store.Principal(ctx, subject)
	switch {
	case err == nil:
		out.Principal = &ExportPrincipal{Name: pr.Name, Role: pr.Role, Email: pr.Email, Created: pr.Created.UTC()}
	case !isNotFound(err):
		return nil, err
	}
	if xml, err := s.store.Preferences(ctx, subject); err == nil {
		x := string(xml)
		out.Preferences = &x
	} else if !isNotFound(err) {
		return nil, err
	}
	held, err := rs.HeldRecords(ctx, subject)
	if err != nil {
		return nil, err
	}
	for _, h := range held {
		r := ExportRecord{ID: h.ID, ContentType: h.ContentType, Category: h.Category, Size: int64(len(h.Data)), Encrypted: h.Encrypted,
			Data: base64.StdEncoding.EncodeToString(h.Data), State: "active", StoredBy: h.StoredBy, StoredAt: h.StoredAt.UTC(),
			PolicyVersion: h.PolicyVersion, PolicyHash: h.PolicyHash, Policy: string(h.Policy), Recipients: []ExportRecipient{}}
		if h.State != "" {
			r.State = h.State
		}
		if !h.DeleteAt.IsZero() {
			d := h.DeleteAt.UTC()
			r.DeleteAt = &d
		}
		if h.Deleted {
			r.State = "deleted"
			u := h.EraseAt.UTC()
			r.RestorableUntil = &u
		}
		if o := h.Original; o != nil {
			r.Original = &ExportOriginal{ContentType: o.ContentType, Encrypted: o.Encrypted, Data: base64.StdEncoding.EncodeToString(o.Data), Rule: o.Rule}
		}
		if r.AccessHistory, err = s.exportEvents(ctx, h.ID); err != nil {
			return nil, err
		}
		ds := h.Disclosures
		if !h.Deleted {
			if ds, err = rs.Disclosures(ctx, h.ID); err != nil {
				return nil, err
			}
		}
		for _, d := range ds {
			r.Recipients = append(r.Recipients, ExportRecipient{Recipient: d.Recipient, Purpose: d.Purpose, DisclosedBy: d.By, Time: d.Time.UTC()})
		}
		out.Records = append(out.Records, r)
	}
	erased, err := rs.ErasedRecords(ctx, subject)
	if err != nil {
		return nil, err
	}
	for _, id := range erased {
		evs, err := s.exportEvents(ctx, id)
		if err != nil {
			return nil, err
		}
		out.ErasedRecords = append(out.ErasedRecords, ExportErased{ID: id, AccessHistory: evs})
	}
	if inbox, ok := s.store.(Inbox); ok {
		ns, err := inbox.Notifications(ctx, subject)
		if err != nil {
			return nil, err
		}
		for _, n := range ns {
			out.Notifications = append(out.Notifications, ExportNotification{Time: n.Time.UTC(), PII: n.PII, Event: string(n.Event),
				Principal: n.Principal, Purpose: n.Purpose, Text: n.Text})
		}
	}
	if out.Principal == nil && len(out.Records) == 0 && len(out.ErasedRecords) == 0 && out.Preferences == nil {
		return nil, fmt.Errorf("%w: no data subject %q is known", ErrNotFound, subject)
	}
	// The export is an access to each live record: log it.
	typ, reason := EventSubjectAccess, "export of the data subject's data (right of access)"
	if p.Name != subject {
		typ, reason = EventExported, "export of the data subject's data by an admin"
	}
	for _, h := range held {
		if h.Deleted {
			continue
		}
		ev := permitted(h.Record, typ, p.Name, now)
		ev.Reason = reason
		if err := s.write(ctx, h.Record, s.policyOrNil(h.Record), ev, nil, false); err != nil && !isNotFound(err) {
			return nil, err
		}
	}
	return out, nil
}

func (s *Service) exportEvents(ctx context.Context, pii string) ([]ExportEvent, error) {
	evs, err := s.store.Events(ctx, pii)
	if err != nil {
		return nil, err
	}
	out := make([]ExportEvent, 0, len(evs))
	for _, e := range evs {
		out = append(out, ExportEvent{Seq: e.Seq, Time: e.Time.UTC(), Type: e.Type, Principal: e.Principal, Purpose: e.Purpose,
			Recipient: e.Recipient, Decision: e.Decision, Reason: e.Reason})
	}
	return out, nil
}
