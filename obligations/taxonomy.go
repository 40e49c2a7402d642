package obligations

import "github.com/stickypolicy/sticky/policies"

// defaultPurposes is the purpose taxonomy Plan uses: the built-in one.
func defaultPurposes() PurposeMatcher { return policies.DefaultTaxonomy() }
