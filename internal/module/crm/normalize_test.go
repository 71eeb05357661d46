package crm

import "testing"

func TestNormCompany(t *testing.T) {
	for _, c := range [][2]string{
		{"上海精密机械有限公司", "上海精密机械"},
		{"上海 精密机械（集团）股份有限公司", "上海精密机械"},
		{"上海精密机械(集团)有限责任公司", "上海精密机械"},
		{"【上海】精密机械有限公司", "上海精密机械"},
		{"ＡＢＣ　Ｍａｃｈｉｎｅｒｙ有限公司", "abcmachinery"},
		{"ABC Machinery Co., Ltd.", "abcmachinery"},
		{"abc machinery", "abcmachinery"},
		{"苏州·精密-机械，有限公司。", "苏州精密机械"},
		{"有限公司", ""},
		{"Ltd", "ltd"},
	} {
		if got := NormCompany(c[0]); got != c[1] {
			t.Errorf("NormCompany(%q) = %q, want %q", c[0], got, c[1])
		}
	}
}

func TestNormPhone(t *testing.T) {
	for _, c := range [][2]string{
		{"+86 138-0000-1234", "13800001234"},
		{"0086 13800001234", "13800001234"},
		{"8613800001234", "13800001234"},
		{"(021) 5555 1234", "02155551234"},
		{"+86 21 5555 1234 转 808", "02155551234"},
		{"１３８００００１２３４", "13800001234"},
		{"13800001234", "13800001234"},
	} {
		if got := NormPhone(c[0]); got != c[1] {
			t.Errorf("NormPhone(%q) = %q, want %q", c[0], got, c[1])
		}
	}
}

func TestNormEmail(t *testing.T) {
	if got := NormEmail("  Zhang.Wei@Example.COM "); got != "zhang.wei@example.com" {
		t.Errorf("NormEmail = %q", got)
	}
}
