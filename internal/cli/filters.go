package cli

import (
	"strconv"

	"github.com/tenon-crm/tenon/internal/platform/records"
)

func recordsFilter(field, value string) records.ListOptions {
	return records.ListOptions{Filter: field + " == " + strconv.Quote(value), PerPage: 2}
}

func recordsFilterOr(a, b, value string) records.ListOptions {
	return records.ListOptions{Filter: a + " == " + strconv.Quote(value) + " || " + b + " == " + strconv.Quote(value), PerPage: 2}
}
