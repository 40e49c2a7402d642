package store

// NextDueSQL exposes the scheduler's query to the query-plan test.
const NextDueSQL = nextDueSQL
