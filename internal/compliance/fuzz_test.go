package compliance

import (
	"testing"
	"time"

	"github.com/stickypolicy/sticky/internal/audit"
)

// FuzzCheck builds well-sealed logs of arbitrary entries (types, principals,
// purposes, recipients, reasons, time steps) and checks that Check never
// panics and that every violation names a rule and an entry of the log.
func FuzzCheck(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 1, 1, 0, 2, 2, 2, 1, 3, 6, 0, 0, 9})
	f.Add([]byte{6, 0, 0, 1, 6, 0, 0, 1, 1, 3, 2, 200})
	f.Add([]byte{3, 1, 0, 0, 5, 1, 1, 7, 7, 2, 3, 30})
	types := []string{audit.TypeStored, audit.TypeAccessed, audit.TypeSubjectAccess, audit.TypeDenied, audit.TypeDisclosed,
		audit.TypePolicyUpdated, audit.TypeDeleted, audit.TypeNotified, audit.TypeObligationFail, audit.TypeLogged, "unheard-of"}
	people := []string{"", alice, bob, carol, erin, mallory}
	purposes := []string{"", service, marketing, "urn:x:unknown"}
	reasons := []string{"", "obligation-2 by inbox about accessed", "obligation-2 by inbox about accessed (trigger seq 2)",
		"obligation-1 (delete) failed after 5 tries: x", "trigger seq 99999999999999999999"}
	files := []string{"basic.xml", "shared.xml", "marketing.xml", "periodic.xml"}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		if len(data) > 4*64 {
			data = data[:4*64]
		}
		b := newLog(t, files[len(data)%len(files)])
		at := time.Duration(0)
		for i := 0; i+3 < len(data); i += 4 {
			typ := types[int(data[i])%len(types)]
			if typ == audit.TypePolicyUpdated {
				b.usePolicy(files[int(data[i+1])%len(files)], at)
			}
			at += time.Duration(data[i+3]) * time.Hour
			b.add(at, typ, people[int(data[i+1])%len(people)], purposes[int(data[i+2])%len(purposes)],
				people[int(data[i+2]>>2)%len(people)], []string{"Permit", "Deny", ""}[int(data[i+1]>>4)%3],
				reasons[int(data[i+3])%len(reasons)])
		}
		l := b.log(data[0]%2 == 0)
		rep := check(t, l, t0.Add(at).Add(time.Duration(data[len(data)-1])*time.Hour*24))
		if (rep.Verdict == Compliant) != (len(rep.Violations) == 0) {
			t.Fatalf("verdict %s with %d violations", rep.Verdict, len(rep.Violations))
		}
		for _, v := range rep.Violations {
			if v.Rule == "" || v.Message == "" || v.Seq < 1 || v.Seq > int64(len(l.Entries)) {
				t.Fatalf("violation %+v does not name a rule and an entry of the log", v)
			}
		}
	})
}
