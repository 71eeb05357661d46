package i18n

// gradingMessages are the messages of the grading module (internal/module/grading).
var gradingMessages = map[string]msg{
	"grade_rule_bad_condition": {"条件无效：{reason}（可用指标：annual_purchases、max_order、cooperation_years、yearly_growth、on_time_payment_rate、days_since_interaction）",
		"Invalid condition: {reason} (metrics: annual_purchases, max_order, cooperation_years, yearly_growth, on_time_payment_rate, days_since_interaction)"},
}
