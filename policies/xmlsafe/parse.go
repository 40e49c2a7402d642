package xmlsafe

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// Limits bound the shape of a document Parse accepts. A zero field means
// the corresponding DefaultLimits value.
type Limits struct {
	MaxBytes    int // whole document size in bytes
	MaxDepth    int // element nesting depth (the root element is depth 1)
	MaxElements int // total number of elements
}

// DefaultLimits are generous for policies (a 10,000-rule policy fits) and
// still refuse documents built to exhaust memory.
var DefaultLimits = Limits{MaxBytes: 16 << 20, MaxDepth: 64, MaxElements: 500_000}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxElements <= 0 {
		l.MaxElements = DefaultLimits.MaxElements
	}
	return l
}

// ErrMalformed is wrapped when a document is not well-formed XML.
var ErrMalformed = errors.New("malformed XML")

// Parse reads an XML document defensively. It refuses documents larger than
// lim.MaxBytes, nested deeper than lim.MaxDepth or holding more than
// lim.MaxElements elements, and any DOCTYPE or ENTITY declaration (so no
// entity expansion and no external entity is ever fetched); those errors
// wrap ErrHostileXML. Documents that are not well-formed XML give an error
// wrapping ErrMalformed that names the line. Only UTF-8 (and its ASCII and
// ISO-8859-1 subsets, converted) encodings are accepted.
//
// The document is read in one pass with encoding/xml and built as an etree
// tree; the source line of every element is recorded and available through
// Line.
func Parse(data []byte, lim Limits) (*etree.Document, error) {
	lim = lim.withDefaults()
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // UTF-8 byte order mark
	if len(data) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: document is %d bytes, limit is %d", ErrHostileXML, len(data), lim.MaxBytes)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	dec.CharsetReader = charsetReader
	doc := etree.NewDocument()
	var (
		stack    = []*etree.Element{&doc.Element}
		names    []xml.Name
		line     = 1
		lastOff  int64
		roots    int
		elements int
	)
	advance := func(off int64) {
		if off > int64(len(data)) {
			off = int64(len(data))
		}
		line += bytes.Count(data[lastOff:off], []byte{'\n'})
		lastOff = off
	}
	for {
		start := dec.InputOffset()
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, fmt.Errorf("%w: line %d: %s", ErrMalformed, se.Line, se.Msg)
			}
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		cur := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			advance(start)
			depth := len(names) + 1
			if depth == 1 {
				roots++
			}
			if depth > lim.MaxDepth {
				return nil, fmt.Errorf("%w: line %d: elements nested deeper than %d", ErrHostileXML, line, lim.MaxDepth)
			}
			if elements >= lim.MaxElements {
				return nil, fmt.Errorf("%w: line %d: more than %d elements", ErrHostileXML, line, lim.MaxElements)
			}
			elements++
			el := etree.NewElement(t.Name.Local)
			el.Space = t.Name.Space
			// One spare slot past the attributes carries the line (setLine).
			el.Attr = make([]etree.Attr, 0, len(t.Attr)+1)
			for _, a := range t.Attr {
				el.CreateAttr(qname(a.Name), a.Value) // a repeated attribute keeps its last value
			}
			setLine(el, line)
			cur.AddChild(el)
			stack = append(stack, el)
			names = append(names, t.Name)
		case xml.EndElement:
			advance(start)
			if len(names) == 0 || names[len(names)-1] != t.Name {
				return nil, fmt.Errorf("%w: line %d: unexpected end tag </%s>", ErrMalformed, line, qname(t.Name))
			}
			names = names[:len(names)-1]
			stack = stack[:len(stack)-1]
		case xml.Directive:
			advance(start)
			word := strings.Fields(string(t))
			name := "declaration"
			if len(word) > 0 {
				name = word[0]
			}
			return nil, fmt.Errorf("%w: line %d: <!%s> declarations are not accepted (no DTDs, no entities)", ErrHostileXML, line, name)
		case xml.CharData:
			if len(names) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					advance(start)
					return nil, fmt.Errorf("%w: line %d: text outside the root element", ErrMalformed, line)
				}
				continue // whitespace around the root is not kept
			}
			c := etree.NewText("")
			c.SetData(string(t)) // marks whitespace-only text, as etree's reader does
			cur.AddChild(c)
		case xml.Comment:
			cur.CreateComment(string(t))
		case xml.ProcInst:
			cur.CreateProcInst(t.Target, string(t.Inst))
		}
	}
	if len(names) != 0 {
		return nil, fmt.Errorf("%w: unexpected end of document, <%s> is not closed", ErrMalformed, qname(names[len(names)-1]))
	}
	if roots != 1 {
		return nil, fmt.Errorf("%w: a document needs exactly one root element, found %d", ErrMalformed, roots)
	}
	return doc, nil
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return input, nil
	case "iso-8859-1", "latin1", "latin-1":
		b, err := io.ReadAll(input)
		if err != nil {
			return nil, err
		}
		var sb strings.Builder
		for _, c := range b {
			sb.WriteRune(rune(c))
		}
		return strings.NewReader(sb.String()), nil
	}
	return nil, fmt.Errorf("%w: unsupported encoding %q (use UTF-8)", ErrMalformed, charset)
}

// lineMarker marks the hidden attribute that carries an element's source
// line. It can never be the prefix of a real XML attribute.
const lineMarker = "\x00line"

// setLine stores the line in the spare capacity of the element's attribute
// slice, just past its length: invisible to range loops, serialization and
// copies (which get a fresh slice), and overwritten harmlessly if someone
// appends an attribute. No global state is involved.
func setLine(e *etree.Element, line int) {
	if cap(e.Attr) == len(e.Attr) {
		attrs := make([]etree.Attr, len(e.Attr), len(e.Attr)+1)
		copy(attrs, e.Attr)
		e.Attr = attrs
	}
	e.Attr[:len(e.Attr)+1][len(e.Attr)] = etree.Attr{Space: lineMarker, Key: strconv.Itoa(line)}
}

// Line returns the source line of an element read by Parse, or 0 when it is
// not known (an element built in code, or nil).
func Line(e *etree.Element) int {
	if e == nil || cap(e.Attr) <= len(e.Attr) {
		return 0
	}
	all := e.Attr[:cap(e.Attr)]
	h := all[len(all)-1]
	if h.Space != lineMarker {
		return 0
	}
	n, err := strconv.Atoi(h.Key)
	if err != nil {
		return 0
	}
	return n
}
