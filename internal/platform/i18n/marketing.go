package i18n

// marketingMessages are the messages of the marketing module (internal/module/marketing).
var marketingMessages = map[string]msg{
	"campaign_ends_before_start": {"结束日期不能早于开始日期", "The campaign cannot end before it starts"},
	"marketing_bad_date":         {"参数 {param} 应为日期（YYYY-MM-DD）", "The parameter {param} must be a date (YYYY-MM-DD)"},
}
