// Package records is the only way to read or write a record. Every call
// takes a principal and, in one transaction, applies the permission matrix
// (entity actions, data scope before and after a change, field rights),
// strict input normalisation, defaults, validation, numbering, formulas and
// roll-ups, module hooks, the version bump, the audit trail and the outbox.
// Lists, counts, search, expansion, history and the change feed all go
// through the same scope predicate, so no path can see more than another.
package records
