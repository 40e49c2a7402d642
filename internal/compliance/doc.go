// Package compliance checks a record's verified event log (package
// internal/audit) against its sticky policies and reports every violation
// with the entry it concerns and the rule it breaks: uses for purposes or by
// principals the policy in force did not allow, uses after deletion or past
// the retention deadline, deletion missing, late or repeated, triggered
// obligations (notifications above all) not performed within their
// MaxDelay, and disclosures the downstream terms did not allow.
//
// The check is a pure function of the log, the policies and the check time:
// Checker.Check never reads a clock. docs/event-log.md lists the rules.
package compliance
