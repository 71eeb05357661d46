package lang

import (
	"math/big"
	"strings"

	"github.com/shopspring/decimal"
)

var capDigits = []string{"零", "壹", "贰", "叁", "肆", "伍", "陆", "柒", "捌", "玖"}

// Capital writes an amount in Chinese capital numerals as on cheques and
// invoices (大写金额): 12345.67 → 壹万贰仟叁佰肆拾伍元陆角柒分,
// 10005 → 壹万零伍元整, 0 → 零元整, 0.05 → 伍分, -3 → 负叁元整. The
// amount is rounded to the fen (half away from zero). A zero jiao between
// yuan and fen is written 零 (1.05 → 壹元零伍分), as the payment rules
// require; whole yuan end in 整.
func Capital(d decimal.Decimal) string {
	d = d.Round(2)
	var b strings.Builder
	if d.IsNegative() {
		b.WriteString("负")
		d = d.Neg()
	}
	fen := d.Mul(decimal.NewFromInt(100)).BigInt()
	yuanBig, cents := new(big.Int).QuoRem(fen, big.NewInt(100), new(big.Int))
	c := cents.Int64()
	jiao, f := c/10, c%10
	if yuanBig.Sign() > 0 {
		b.WriteString(capInt(yuanBig.String()))
		b.WriteString("元")
	}
	switch {
	case yuanBig.Sign() == 0 && c == 0:
		return b.String() + "零元整"
	case c == 0:
		b.WriteString("整")
	default:
		if jiao > 0 {
			b.WriteString(capDigits[jiao] + "角")
		}
		if f > 0 {
			if jiao == 0 && yuanBig.Sign() > 0 {
				b.WriteString("零")
			}
			b.WriteString(capDigits[f] + "分")
		}
	}
	return b.String()
}

// capInt writes a positive whole number given as decimal digits: groups of
// eight digits joined by 亿, of four by 万, a 零 where zeros stand between
// digits.
func capInt(s string) string {
	s = strings.TrimLeft(s, "0")
	if len(s) > 8 {
		return capJoin(s[:len(s)-8], s[len(s)-8:], "亿")
	}
	if len(s) > 4 {
		return capJoin(s[:len(s)-4], s[len(s)-4:], "万")
	}
	return cap4(s)
}

// capJoin writes high, the unit, then low (a fixed-width group) with a 零
// when low starts with a zero.
func capJoin(high, low, unit string) string {
	out := capInt(high) + unit
	rest := strings.TrimLeft(low, "0")
	if rest == "" {
		return out
	}
	if len(rest) < len(low) {
		out += "零"
	}
	return out + capInt(rest)
}

// cap4 writes a number of at most four digits (no leading zeros).
func cap4(s string) string {
	units := []string{"", "拾", "佰", "仟"}
	var b strings.Builder
	zero := false
	for i, r := range s {
		d := int(r - '0')
		if d == 0 {
			zero = true
			continue
		}
		if zero {
			b.WriteString("零")
			zero = false
		}
		b.WriteString(capDigits[d] + units[len(s)-1-i])
	}
	return b.String()
}
