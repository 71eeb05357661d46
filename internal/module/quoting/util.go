package quoting

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	return fmt.Sprint(v)
}

func id(v any) int64 { n, _ := v.(int64); return n }

func num(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case decimal.Decimal:
		return x.IntPart()
	}
	return 0
}

func dec(v any) decimal.Decimal {
	switch x := v.(type) {
	case decimal.Decimal:
		return x
	case int64:
		return decimal.NewFromInt(x)
	case string:
		d, _ := decimal.NewFromString(x)
		return d
	}
	return decimal.Zero
}

func cmpInt(a, b int64) int { return cmp.Compare(a, b) }

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, x := range ids {
		s[i] = strconv.FormatInt(x, 10)
	}
	return strings.Join(s, ", ")
}

func itemPath(field string, i int, sub string) string { return fmt.Sprintf("%s[%d].%s", field, i, sub) }
