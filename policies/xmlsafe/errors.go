package xmlsafe

import (
	"errors"
	"fmt"
	"strings"
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
