package db

import "context"

// Int64s runs a query that selects one integer column and returns its
// values in order.
func (d *DB) Int64s(ctx context.Context, q string, args ...any) ([]int64, error) {
	return QueryAll(ctx, d, func(sc Scanner) (v int64, err error) { return v, sc.Scan(&v) }, q, args...)
}

// Truthy reads a boolean column scanned into an any: BOOLEAN on
// PostgreSQL arrives as bool, SQLite's 0/1 as int64.
func Truthy(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case int64:
		return t != 0
	}
	return false
}

// Scanner is a row to scan: *sql.Row or *sql.Rows.
type Scanner interface{ Scan(dest ...any) error }

// QueryAll runs a query and reads every row of its result with scan.
func QueryAll[T any](ctx context.Context, d *DB, scan func(Scanner) (T, error), q string, args ...any) ([]T, error) {
	rows, err := d.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
