package compliance

import (
	"fmt"

	"github.com/stickypolicy/sticky/internal/audit"
	"github.com/stickypolicy/sticky/pdp"
	"github.com/stickypolicy/sticky/policies"
)

// ParsePolicy parses and compiles a sticky policy document (PPL or XACML)
// for checking, with the purpose taxonomy tax (nil: the default).
func ParsePolicy(xml []byte, tax *policies.Taxonomy) (Policy, error) {
	doc, err := policies.Parse(xml)
	if err != nil {
		return nil, err
	}
	var opts []pdp.StickyOption
	if tax != nil {
		opts = append(opts, pdp.WithTaxonomy(tax))
	}
	p, err := pdp.CompileSticky(doc, opts...)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// LogPolicies compiles every policy embedded in l's header, by hash.
func LogPolicies(l *audit.Log, tax *policies.Taxonomy) (map[string]Policy, error) {
	out := make(map[string]Policy, len(l.Header.Policies))
	for _, ref := range l.Header.Policies {
		if _, ok := out[ref.Hash]; ok {
			continue
		}
		p, err := ParsePolicy([]byte(ref.XML), tax)
		if err != nil {
			return nil, fmt.Errorf("the log's policy %s (version %d): %w", ref.Hash, ref.Version, err)
		}
		out[ref.Hash] = p
	}
	return out, nil
}
