package audit_test

import (
	"fmt"
	"time"

	"github.com/stickypolicy/sticky/internal/audit"
)

func Example() {
	key := []byte("alice's subject key (32 random bytes in real use)")
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	stored := audit.Seal("", audit.Entry{PII: "rec-1", Seq: 1, Time: at, Type: audit.TypeStored,
		Principal: audit.Pseudonym(key, "alice@example.org"), Decision: "Permit"})
	read := audit.Seal(stored.Hash, audit.Entry{PII: "rec-1", Seq: 2, Time: at.Add(time.Hour), Type: audit.TypeAccessed,
		Principal: audit.Pseudonym(key, "bob@example.org"), Purpose: "https://w3id.org/dpv#ServiceProvision", Decision: "Permit"})
	log := []audit.Entry{stored, read}
	fmt.Println(stored.Prev == audit.Genesis("rec-1"), audit.Verify(log))

	log[1].Purpose = "https://w3id.org/dpv#Marketing"
	fmt.Println(audit.Verify(log) != nil)
	// Output:
	// true <nil>
	// true
}
