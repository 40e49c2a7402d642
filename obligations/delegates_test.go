package obligations

import (
	"os"
	"slices"
	"testing"

	"github.com/stickypolicy/sticky/policies"
	"github.com/stickypolicy/sticky/policies/xacml"
	"github.com/stickypolicy/sticky/policies/xmlsafe"
)

func TestDelegates(t *testing.T) {
	data, err := os.ReadFile("testdata/delegates.xml")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := xmlsafe.Parse(data, xmlsafe.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	root, err := xacml.Parse(doc.Root())
	if err != nil {
		t.Fatal(err)
	}
	got := Delegates(&policies.Document{XACML: root})
	if want := []string{"bob@example.org", "carol@example.org"}; !slices.Equal(got, want) {
		t.Fatalf("Delegates = %v; want %v (permit rules' subject-ids, not the denied one, not roles)", got, want)
	}
	if got := Delegates(nil); got != nil {
		t.Fatalf("Delegates(nil) = %v", got)
	}
}
