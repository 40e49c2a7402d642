package xmlsafe

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRefusesHostile(t *testing.T) {
	lim := Limits{MaxBytes: 4096, MaxDepth: 5, MaxElements: 20}
	tests := []struct {
		name string
		doc  string
		want error
		msg  string
	}{
		{"billion laughs", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><lolz>&lol2;</lolz>`, ErrHostileXML, "DOCTYPE"},
		{"external entity", `<!DOCTYPE foo [<!ENTITY xxe SYSTEM "http://example.org/x">]><foo>&xxe;</foo>`, ErrHostileXML, "DOCTYPE"},
		{"undeclared entity", `<foo>&xxe;</foo>`, ErrMalformed, "entity"},
		{"too big", "<a>" + strings.Repeat("x", 5000) + "</a>", ErrHostileXML, "bytes"},
		{"too deep", "<a><a><a><a><a><a></a></a></a></a></a></a>", ErrHostileXML, "deeper"},
		{"too many", "<a>" + strings.Repeat("<b/>", 25) + "</a>", ErrHostileXML, "more than 20"},
		{"unclosed", "<a><b></a>", ErrMalformed, "line 1"},
		{"two roots", "<a/><b/>", ErrMalformed, "root"},
		{"empty", "", ErrMalformed, "root"},
		{"text after", "<a/>junk", ErrMalformed, "outside"},
		{"bad encoding", `<?xml version="1.0" encoding="EBCDIC"?><a/>`, ErrMalformed, "encoding"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := Parse([]byte(tc.doc), lim)
			if err == nil {
				t.Fatalf("Parse accepted %q", tc.doc)
			}
			if doc != nil {
				t.Error("document returned with error")
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v does not wrap %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not mention %q", err, tc.msg)
			}
		})
	}
}

func TestParseLines(t *testing.T) {
	src := "<?xml version=\"1.0\"?>\n<!-- c\n -->\n<root xmlns:p=\"urn:p\">\n  <a\n   x=\"1\"/>\n  <p:b>\n    <c/></p:b>\n</root>\n"
	doc, err := Parse([]byte(src), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	root := doc.Root()
	want := map[string]int{"root": 4, "a": 5, "p:b": 7, "c": 8}
	got := map[string]int{"root": Line(root)}
	for _, c := range root.ChildElements() {
		got[c.FullTag()] = Line(c)
		for _, cc := range c.ChildElements() {
			got[cc.FullTag()] = Line(cc)
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("Line(%s) = %d, want %d", k, got[k], v)
		}
	}
	if Line(nil) != 0 || Line(root.Copy()) != 0 {
		t.Error("Line of an unparsed element should be 0")
	}
	p := At(root.ChildElements()[0], "x", "1", "bad %s", "thing")
	if p.String() != `line 5: <a> attribute x value "1": bad thing` {
		t.Errorf("Problem = %q", p.String())
	}
}

func TestParseLatin1(t *testing.T) {
	doc, err := Parse([]byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>caf\xe9</a>"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.Root().Text(); got != "café" {
		t.Errorf("text = %q", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`<a x="1"><b>t</b></a>`))
	f.Add([]byte(`<!DOCTYPE a><a/>`))
	f.Add([]byte(`<?xml version="1.0"?><a xmlns:p="u"><p:b/></a>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(data, Limits{MaxBytes: 1 << 16, MaxDepth: 20, MaxElements: 1000})
		if err != nil {
			if !errors.Is(err, ErrHostileXML) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if doc.Root() == nil {
			t.Fatal("nil root without error")
		}
		if Line(doc.Root()) < 1 {
			t.Fatal("root has no line")
		}
	})
}

func TestLineIsInvisible(t *testing.T) {
	doc, err := Parse([]byte("<a x=\"1\">\n<b/></a>"), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	a := doc.Root()
	b := a.ChildElements()[0]
	if len(a.Attr) != 1 || len(b.Attr) != 0 {
		t.Fatalf("attributes visible: %v %v", a.Attr, b.Attr)
	}
	s, err := doc.WriteToString()
	if err != nil || s != "<a x=\"1\">\n<b/></a>" {
		t.Fatalf("serialized %q %v", s, err)
	}
	if Line(b) != 2 {
		t.Fatalf("Line(b) = %d", Line(b))
	}
	b.CreateAttr("y", "2") // reuses the spare capacity
	if Line(b) != 0 || len(b.Attr) != 1 || b.SelectAttrValue("y", "") != "2" {
		t.Errorf("after CreateAttr: line %d, attrs %v", Line(b), b.Attr)
	}
	if c := a.Copy(); Line(c) != 0 || len(c.Attr) != 1 {
		t.Errorf("copy: line %d attrs %v", Line(c), c.Attr)
	}
}
