// Package obligations is Sticky's event handler and obligation handler: it turns events into due obligations from a record's sticky policy, keeps them in a durable outbox, and performs them (delete, anonymise, notify by inbox, email or webhook, log) with retries.
package obligations
