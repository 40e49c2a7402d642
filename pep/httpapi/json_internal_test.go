package httpapi

import (
	"net/http"
	"strings"
	"testing"
)

// TestReadJSONErrorsSpeakJSON: a body of the wrong shape is explained in
// JSON terms (field, expected and given type), never with Go type names.
func TestReadJSONErrorsSpeakJSON(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"string instead of object", `"string"`, "the body must be a JSON object, not a JSON string"},
		{"array instead of object", `[1]`, "the body must be a JSON object, not a JSON array"},
		{"number field", `{"format": 1}`, `the field "format" must be a JSON string, not a JSON number`},
		{"array field", `{"format": ["x"]}`, `the field "format" must be a JSON string, not a JSON array`},
		{"unknown field", `{"identity": "x"}`, `unknown field "identity"`},
		{"syntax", `{"format": x}`, "the body is not valid JSON (at byte"},
		{"truncated", `{"format": "x"`, "the body is not valid JSON (it ends too early)"},
		{"empty", ``, "the request body is empty"},
		{"two values", `{} {}`, "more than one JSON value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			r.Header.Set("Content-Type", "application/json")
			var in struct {
				Format string `json:"format"`
			}
			err := readJSON(r, &in)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q lacks %q", msg, tc.want)
			}
			for _, leak := range []string{"Go value", "Go struct", "struct {", "json: "} {
				if strings.Contains(msg, leak) {
					t.Errorf("error %q shows Go internals (%q)", msg, leak)
				}
			}
		})
	}
}
