// Package access owns the permission model of P7: who a caller is (a
// Principal), what their roles grant per entity (actions, data scope, field
// rights), and the built-in organisation entities (users, departments,
// regions, roles) that hold it. Enforcement lives in the records service,
// which asks this package for a principal's Rights on an entity.
package access
