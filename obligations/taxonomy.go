package obligations

// defaultPurposes is the purpose taxonomy Plan uses.
// TODO(H6): switch to policies.DefaultTaxonomy() once the policies package has it.
func defaultPurposes() PurposeMatcher { return nil }
