// Package records is the only way to read or write a record. Every call
// takes a principal and, in one transaction, applies the permission matrix
// (entity actions, data scope before and after a change, field rights),
// strict input normalisation, defaults, validation, numbering, formulas and
// roll-ups, module hooks, the version bump, the audit trail and the outbox.
// Lists, counts, search, expansion, history and the change feed all go
// through the same scope predicate, so no path can see more than another.
// A caller that creates many records in one transaction may let their
// writes go to the database many at a time (WithBatch, batch.go), with the
// same result as single creates.
package records
