package xmlsafe

import (
	"errors"
	"fmt"
	"strings"

	"github.com/beevik/etree"
)

// ErrInvalid is wrapped by every validation failure, so callers can branch
// with errors.Is(err, xmlsafe.ErrInvalid).
var ErrInvalid = errors.New("invalid policy")

// ErrHostileXML is wrapped when a document is refused for its shape (too
// large, too deep, entity declarations, DTDs) rather than its content.
var ErrHostileXML = errors.New("refused XML")

// Problem is one thing wrong with a policy document. It names the element,
// the attribute (when one is at fault), the offending value and the XML line
// when it is known.
type Problem struct {
	Element   string // e.g. "ob:TriggerAtTime" or "Rule"
	Attribute string // may be empty
	Value     string // may be empty
	Line      int    // 0 when unknown
	Message   string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Element != "" {
		fmt.Fprintf(&b, "<%s>", p.Element)
		if p.Attribute != "" {
			fmt.Fprintf(&b, " attribute %s", p.Attribute)
		}
		if p.Value != "" {
			fmt.Fprintf(&b, " value %q", p.Value)
		}
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// ValidationError lists every problem found in a document.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	if len(e.Problems) == 1 {
		return e.Problems[0].String()
	}
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return fmt.Sprintf("%d problems: %s", len(e.Problems), strings.Join(parts, "; "))
}

// Unwrap lets errors.Is(err, ErrInvalid) succeed.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// At builds a Problem about element e (its qualified name and source line),
// attribute attr (may be empty) holding value.
func At(e *etree.Element, attr, value, format string, args ...any) Problem {
	p := Problem{Attribute: attr, Value: value, Message: fmt.Sprintf(format, args...)}
	if e != nil {
		p.Element = e.FullTag()
		p.Line = Line(e)
	}
	return p
}

// Problems collects problems while a document is validated.
type Problems []Problem

// Add appends a problem about element e.
func (ps *Problems) Add(e *etree.Element, attr, value, format string, args ...any) {
	*ps = append(*ps, At(e, attr, value, format, args...))
}

// Err returns nil when no problem was recorded, otherwise a
// *ValidationError holding them all.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return &ValidationError{Problems: append([]Problem(nil), ps...)}
}
