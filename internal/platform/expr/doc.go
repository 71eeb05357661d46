// Package expr is Tenon's one expression language (expr-lang syntax), used
// two ways:
//
//   - Compile turns a list filter into a parameterised SQL predicate for
//     SQLite or PostgreSQL.
//   - CompileProgram / Program.Run evaluate conditions, formulas, stage
//     gates, required_if/visible_if and custom scopes in Go.
//
// Both parse with github.com/expr-lang/expr/parser and accept only an
// allow-list of syntax; nothing in an expression can reach Go values other
// than the variables handed in.
//
// # Filters (Compile)
//
// Accepted: comparisons == != < <= > >=, && || and or, ! not, in / not in,
// contains / startsWith / endsWith (and their "not" forms), fields,
// link paths (account.region, at most MaxLinkDepth links), literals
// (strings, numbers, true/false, nil, lists of literals) and calls of
// functions the Env evaluates at compile time (me(), today()...). One side
// of a comparison is a field, the other a literal or a function result;
// `5 < qty` is flipped. A KBool field alone is a condition (`active`).
// Refused with apperr.Invalid("bad_filter", "reason", ...): arithmetic,
// ternaries, closures and builtins (map, all...), matches, ??, indexing,
// ?., let, field-to-field comparisons, ordering on booleans, ids, lists
// and JSON, a literal of the wrong type for the field. Limits
// (MaxFilterBytes, MaxFilterNodes, MaxLinkDepth, MaxInList) give
// apperr.Invalid("filter_too_complex"). Unknown and unreadable fields give
// whatever Env.Column returns (unknown_field); messages never contain SQL.
//
// Semantics are those of the expression evaluated in Go, with nil for
// NULL, identical on both databases:
//
//   - a == v is false when a is NULL; a != v and !(a == v) are true when a
//     is NULL: `(col IS NULL OR col <> ?)`. Ordering against NULL is
//     false, and its negation true.
//   - Negation is pushed down to the leaves (De Morgan), each leaf being
//     compiled with explicit NULL handling, so the output contains no NOT
//     over a possibly-NULL expression.
//   - a link path is the linked record's field, or nil when there is no
//     linked record the caller may see; `account.region != "x"` is
//     therefore true for a deal without an account. Such a leaf compiles
//     to `NOT COALESCE(<wrap(negated leaf)>, FALSE)`.
//   - x == nil is IS NULL. For list and JSON fields an empty array '[]' is
//     a value, not nil (as in Go, where an empty list is not nil).
//   - contains/startsWith/endsWith on text are case-insensitive LIKE/ILIKE
//     with %, _ and \ escaped; contains on a list field, and `x in list`,
//     are membership (Dialect.JSONArrayHas / JSONArrayHasInt).
//   - field in [] is false; nil inside a list matches NULL.
//
// Every value becomes a bound '?' parameter (the caller rebinds for
// PostgreSQL) after Column.Param, or Normalize when Param is nil. A float
// literal compared with a KDecimal field reaches Param as a
// decimal.Decimal built from its source text, never through float64.
//
// # Programs (CompileProgram, Run)
//
// Programs may use the variables they are compiled with, literals, lists,
// arithmetic + - * / %, comparisons, && || ! and or not, in, contains,
// startsWith, endsWith, cond ? a : b, if/else, ??, member access
// (record.field, list[i], ?.) and the functions in Functions(). Builtins
// that loop (map, filter, all, reduce, sortBy, repeat...), ranges, let,
// regular expressions, methods and $env are refused at compile time, so
// a run costs time linear in the program's size (at most
// DefaultMaxProgramNodes nodes) and the values' sizes; the VM's memory
// budget (Options.MemoryBudget) bounds list literals.
//
// Every operator is routed through this package's functions:
//
//   - numbers: int64, float64 and decimal.Decimal mix; any decimal makes
//     the result decimal, and number literals with a fraction are exact
//     decimals (0.1 + 0.2 == 0.3). Integer overflow continues in
//     decimals; / gives an int64 when exact, otherwise a decimal with 16
//     places; division by zero is an error.
//   - nil: arithmetic with nil gives nil, ordering with nil is false,
//     nil == nil, a nil condition is false, member access on nil is nil.
//   - dates are time.Time; a time at midnight in its own zone is a date
//     and two dates compare by calendar day, whatever their zones. A
//     "YYYY-MM-DD" or RFC 3339 string compares with a time. today() and
//     now() use Options.Now and Options.Location (default UTC+8).
//   - contains/startsWith/endsWith are case-insensitive, like filters.
//
// Compile errors are apperr.Invalid("bad_expression", "reason", ...);
// run-time errors are apperr "expression_failed" (422). A Program is
// immutable and safe for concurrent use.
package expr
