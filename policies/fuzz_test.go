package policies

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stickypolicy/sticky/policies/xmlsafe"
)

// FuzzParsePolicy checks that Parse never panics, that what it refuses is
// refused with an error, and that what it accepts marshals to a document
// that parses again and marshals to the same bytes.
func FuzzParsePolicy(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.xml")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	for _, c := range problemCases {
		f.Add([]byte(c.doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(data)
		if err != nil {
			if doc != nil {
				t.Fatal("Parse returned a document with an error")
			}
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		out, err := doc.Marshal()
		if err != nil {
			t.Fatalf("Marshal of an accepted document: %v", err)
		}
		doc2, err := Parse(out)
		if err != nil {
			t.Fatalf("marshalled document does not parse: %v\n%s", err, out)
		}
		out2, err := doc2.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, out2) {
			t.Fatalf("parse -> marshal not stable:\n%s\n---\n%s", out, out2)
		}
	})
}

func TestHostileXML(t *testing.T) {
	billionLaughs := `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<ppl:Policy xmlns:ppl="http://www.primelife.eu/ppl">&lol3;</ppl:Policy>`
	xxe := `<?xml version="1.0"?>
<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<ppl:Policy xmlns:ppl="http://www.primelife.eu/ppl" PolicyId="&xxe;"/>`
	deep := strings.Repeat("<a>", 50_000) + strings.Repeat("</a>", 50_000)
	pad := strings.Repeat("<!-- padding padding padding padding -->\n", 10<<20/40)
	big := wrapDH(pad)
	many := head + strings.Repeat(`<a/>`, DefaultMaxElements) + `</ppl:Policy>`
	tests := []struct {
		name, doc, why string
	}{
		{"billion laughs", billionLaughs, "DOCTYPE"},
		{"external entity", xxe, "DOCTYPE"},
		{"50k deep", deep, "nested deeper than 64"},
		{"10 MB", big, "limit is 4194304"},
		{"too many elements", many, "more than 200000 elements"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			if !errors.Is(err, ErrHostileXML) {
				t.Fatalf("Parse = %v, want ErrHostileXML", err)
			}
			if !strings.Contains(err.Error(), tt.why) {
				t.Errorf("error %q does not say %q", err, tt.why)
			}
			_, err = ParsePreferences([]byte(tt.doc))
			if !errors.Is(err, ErrHostileXML) {
				t.Errorf("ParsePreferences = %v, want ErrHostileXML", err)
			}
		})
	}
	// The limits can be raised for a trusted, large policy.
	if _, err := Parse([]byte(big), WithLimits(xmlsafe.Limits{MaxBytes: 32 << 20})); err != nil {
		t.Errorf("raised limit: %v", err)
	}
}

func TestMalformedXML(t *testing.T) {
	for name, doc := range map[string]string{
		"empty":       "",
		"not closed":  head,
		"text only":   "hello",
		"two roots":   "<a/><b/>",
		"bad charset": `<?xml version="1.0" encoding="EBCDIC"?><a/>`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(doc))
			if err == nil || !errors.Is(err, xmlsafe.ErrMalformed) && !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse = %v", err)
			}
		})
	}
}

// FuzzParsePreferences is FuzzParsePolicy for preferences documents.
func FuzzParsePreferences(f *testing.F) {
	if data, err := os.ReadFile("testdata/preferences.xml"); err == nil {
		f.Add(data)
	}
	for _, c := range problemCases {
		if c.prefs {
			f.Add([]byte(c.doc))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dh, err := ParsePreferences(data)
		if err != nil {
			return
		}
		out, err := MarshalPreferences(dh)
		if err != nil {
			t.Fatal(err)
		}
		dh2, err := ParsePreferences(out)
		if err != nil {
			t.Fatalf("marshalled preferences do not parse: %v\n%s", err, out)
		}
		out2, _ := MarshalPreferences(dh2)
		if !bytes.Equal(out, out2) {
			t.Fatalf("not stable:\n%s\n---\n%s", out, out2)
		}
	})
}
