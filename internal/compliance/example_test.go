package compliance_test

import (
	"fmt"
	"os"
	"time"

	"github.com/stickypolicy/sticky/internal/audit"
	"github.com/stickypolicy/sticky/internal/compliance"
)

func Example() {
	xml, err := os.ReadFile("testdata/basic.xml") // bob may read for ServiceProvision; alice is told within PT1M
	if err != nil {
		panic(err)
	}
	key := []byte("alice's subject key")
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	ph := audit.PolicyHash(xml)
	stored := audit.Seal("", audit.Entry{PII: "rec-1", Seq: 1, Time: t0, Type: audit.TypeStored,
		Principal: audit.Pseudonym(key, "alice@example.org"), Decision: "Permit", PolicyHash: ph})
	read := audit.Seal(stored.Hash, audit.Entry{PII: "rec-1", Seq: 2, Time: t0.Add(time.Hour), Type: audit.TypeAccessed,
		Principal: audit.Pseudonym(key, "bob@example.org"), Purpose: "https://w3id.org/dpv#Marketing", Decision: "Permit", PolicyHash: ph})
	log := audit.NewLog(audit.Header{PII: "rec-1", Policies: []audit.PolicyRef{{Hash: ph, Version: 1, Since: t0, XML: string(xml)}}},
		[]audit.Entry{stored, read})
	if err := log.Verify(); err != nil {
		panic(err)
	}
	pols, err := compliance.LogPolicies(log, nil)
	if err != nil {
		panic(err)
	}
	rep := compliance.NewChecker().Check(compliance.Input{Log: log, Policies: pols, At: t0.Add(24 * time.Hour)})
	fmt.Println(rep.Verdict)
	for _, v := range rep.Violations {
		fmt.Println(v.Seq, v.Rule)
	}
	// Output:
	// non-compliant
	// 2 purpose-not-allowed
	// 2 notification-missing
}
