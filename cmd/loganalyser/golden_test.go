package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden report files in testdata")

// TestGoldenReports compares the text and JSON reports with the files in
// testdata/golden (refresh with go test -run TestGoldenReports -update).
func TestGoldenReports(t *testing.T) {
	tests := []struct {
		name string
		log  func(t *testing.T) string
	}{
		{"compliant", func(t *testing.T) string { return writeLog(t, "bob@example.org", service, true) }},
		{"violations", func(t *testing.T) string {
			return writeLog(t, "carol@example.org", "https://w3id.org/dpv#Marketing", false)
		}},
		{"tampered", func(t *testing.T) string {
			path := writeLog(t, "bob@example.org", service, true)
			data, _ := os.ReadFile(path)
			os.WriteFile(path, []byte(strings.Replace(string(data), `"seq":2,`, `"seq":3,`, 1)), 0o600)
			return path
		}},
	}
	for _, tc := range tests {
		for _, format := range []string{"txt", "json"} {
			t.Run(tc.name+"."+format, func(t *testing.T) {
				args := []string{"--log", tc.log(t), "--policy", "testdata/basic.xml"}
				if format == "json" {
					args = append(args, "--json")
				}
				_, out, errs := runT(t, args...)
				if errs != "" {
					t.Fatalf("stderr: %s", errs)
				}
				golden := filepath.Join("testdata", "golden", tc.name+"."+format)
				if *update {
					os.MkdirAll(filepath.Dir(golden), 0o755)
					if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if out != string(want) {
					t.Errorf("report differs from %s:\n--- got\n%s--- want\n%s", golden, out, want)
				}
			})
		}
	}
}
