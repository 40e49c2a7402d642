package rules

import (
	"bytes"
	"encoding/json"
	"mime"
	"strings"
)

// AnonymisedForm returns the anonymised form of a record's bytes, keeping
// nothing that could identify anyone:
//   - a JSON document (application/json or any +json type) keeps its
//     shape: objects keep their keys, arrays their length, and every value
//     (string, number, boolean) becomes null;
//   - anything else (text, images, ciphertext, JSON that does not parse)
//     becomes empty.
//
// The content type is kept.
func AnonymisedForm(contentType string, data []byte) []byte {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || !(mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return []byte{}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return []byte{}
	}
	out, err := json.Marshal(shape(v, 0))
	if err != nil {
		return []byte{}
	}
	return out
}

// shape replaces every scalar by nil; it stops at depth 64 (deeper parts
// become null too).
func shape(v any, depth int) any {
	if depth > 64 {
		return nil
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = shape(e, depth+1)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = shape(e, depth+1)
		}
		return x
	}
	return nil
}
