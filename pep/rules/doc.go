// Package rules is Sticky's operator rules engine: it reads a JSON rules file
// (anonymise, pseudonymise or delete records by category, subject, age and
// purpose), validates it strictly, and plans which records each rule would
// change. It is pure: it touches no storage; pep executes the plan.
package rules
