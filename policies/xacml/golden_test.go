package xacml

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestGolden serializes each testdata/*.xml policy and compares it with
// testdata/*.golden; the golden form must parse back to itself.
func TestGolden(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/*.xml")
	if len(inputs) < 3 {
		t.Fatalf("only %d golden inputs", len(inputs))
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".xml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			r, err := parseString(t, string(data))
			if err != nil {
				t.Fatal(err)
			}
			got := serialize(t, r)
			golden := strings.TrimSuffix(in, ".xml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got != string(want) {
				t.Errorf("serialization differs from %s (run go test -update if intended):\n%s", golden, got)
			}
			r2, err := parseString(t, got)
			if err != nil {
				t.Fatalf("golden form does not parse: %v", err)
			}
			if again := serialize(t, r2); again != got {
				t.Errorf("golden form is not a fixed point:\n%s", again)
			}
		})
	}
}
