package compliance

import (
	"errors"
	"fmt"
	"time"

	"github.com/stickypolicy/sticky/internal/audit"
)

// Rule names a compliance rule. The values are stable: reports and scripts
// rely on them.
type Rule string

// The rules Check applies.
const (
	// RuleTampered: the log's hash chain does not verify (see Tampered).
	RuleTampered Rule = "tampered"
	// RulePurpose: a use or disclosure for a purpose the policy in force did
	// not allow (or with no purpose declared).
	RulePurpose Rule = "purpose-not-allowed"
	// RulePrincipal: a use by a principal the policy in force did not permit.
	RulePrincipal Rule = "principal-not-permitted"
	// RuleUseAfterDeletion: a use or disclosure after the record's deletion.
	RuleUseAfterDeletion Rule = "use-after-deletion"
	// RuleUseAfterDeadline: a use or disclosure at or after the retention
	// deadline.
	RuleUseAfterDeadline Rule = "use-after-deadline"
	// RuleDeletionMissing: the retention deadline (plus the grace) has
	// passed at the check time and the record was not deleted.
	RuleDeletionMissing Rule = "deletion-missing"
	// RuleDeletionLate: the record was deleted after its retention deadline
	// (plus the grace).
	RuleDeletionLate Rule = "deletion-late"
	// RuleDoubleDelete: a second deletion of the same record.
	RuleDoubleDelete Rule = "double-delete"
	// RuleNotificationMissing: a notification an event triggered was not
	// sent by its deadline (trigger time + MaxDelay).
	RuleNotificationMissing Rule = "notification-missing"
	// RuleNotificationLate: a triggered notification was sent after its
	// deadline.
	RuleNotificationLate Rule = "notification-late"
	// RuleDisclosureForbidden: a disclosure although the policy in force
	// did not allow downstream usage.
	RuleDisclosureForbidden Rule = "disclosure-forbidden"
	// RuleRecipientNotPermitted: a disclosure to a recipient the
	// downstream policy did not permit.
	RuleRecipientNotPermitted Rule = "recipient-not-permitted"
	// RuleSentObligation: an obligation triggered by a disclosure
	// (TriggerPersonalDataSent) was not fulfilled, or not in time.
	RuleSentObligation Rule = "sent-obligation-unfulfilled"
	// RuleObligationMissing and RuleObligationLate: another triggered
	// obligation (log, anonymise, delete on an event) was not performed, or
	// not in time.
	RuleObligationMissing Rule = "obligation-missing"
	RuleObligationLate    Rule = "obligation-late"
)

// Verdict is the outcome of a check.
type Verdict string

// The verdicts.
const (
	Compliant    Verdict = "compliant"
	NonCompliant Verdict = "non-compliant"
	TamperedLog  Verdict = "tampered"
)

// Violation is one breach of a rule, at the entry (Seq) it concerns.
type Violation struct {
	Rule    Rule   `json:"rule"`
	Seq     int64  `json:"seq"`
	Message string `json:"message"`
}

// Report is the result of checking one record's log.
type Report struct {
	Verdict    Verdict     `json:"verdict"`
	PII        string      `json:"pii"`
	CheckedAt  time.Time   `json:"checked_at"`
	Entries    int         `json:"entries"`
	Violations []Violation `json:"violations"`
	// Notes says what could not be checked and why (e.g. principals when
	// the log carries only pseudonyms).
	Notes []string `json:"notes,omitempty"`
}

// Tampered returns the report for a log whose chain does not verify: verdict
// tampered and one RuleTampered violation naming the bad entry.
func Tampered(pii string, at time.Time, entries int, err error) Report {
	v := Violation{Rule: RuleTampered, Message: err.Error()}
	var ce *audit.ChainError
	if errors.As(err, &ce) {
		v.Seq = ce.Seq
		if ce.Index >= 0 {
			v.Message = fmt.Sprintf("entry %d (seq %d): %s: %s", ce.Index+1, ce.Seq, ce.Problem, ce.Detail)
		} else {
			v.Message = fmt.Sprintf("header: %s: %s", ce.Problem, ce.Detail)
		}
	}
	return Report{Verdict: TamperedLog, PII: pii, CheckedAt: at.UTC(), Entries: entries, Violations: []Violation{v}}
}
