package i18n

// quotingMessages are the messages of the quoting module
// (internal/module/quoting).
var quotingMessages = map[string]msg{
	"quoting_currency_no_rate":   {"币种 {currency} 没有启用的汇率，请先在“币种”中维护", "The currency {currency} has no active exchange rate; add it under Currencies"},
	"quoting_book_dates":         {"失效日期不能早于生效日期", "Valid to cannot be before valid from"},
	"quoting_book_item_repeated": {"同一产品同一起订量只能有一个价格", "One price per product and quantity break"},
	"quoting_product_unknown":    {"产品不存在", "The product does not exist"},
	"quoting_line_needs_product": {"请选择产品，或勾选“非标”并填写描述", "Pick a product, or tick Non-standard and describe the line"},
	"quoting_status_by_action":   {"状态只能通过提交、发送、接受等操作改变", "The status changes only through the actions (submit, send, accept…)"},
	"quoting_document_locked":    {"状态为“{status}”的单据不能修改", "A document in status {status} cannot be changed"},
	"quoting_quote_superseded":   {"该报价已被新版本取代，只读", "This quote was superseded by a newer revision and is read only"},
	"quoting_wrong_status":       {"当前状态“{status}”不能执行“{action}”", "{action} is not possible in status {status}"},
	"quoting_review_open":        {"还有 {count} 个非标技术评审任务未完成，完成后才能提交", "{count} engineering review task(s) are still open; finish them before submitting"},
	"quoting_mail_unavailable":   {"邮件发送未配置", "E-mail is not set up"},
	"quoting_quote_expired":      {"报价已于 {date} 过期，请修订新版本", "The quote expired on {date}; revise it"},
	"quoting_contract_exists":    {"该报价已生成合同", "This quote already has a contract"},
	"quoting_milestones_sum":     {"付款节点比例合计须为 100%（现为 {sum}%）", "Payment milestones must add up to 100% (now {sum}%)"},
	"quoting_credit_hold":        {"订单超出信用额度，需审批", "The order is over the credit limit and needs approval"},
	"quoting_settings_one":       {"报价设置只有一条，请修改现有设置", "There is one settings record; edit it"},
	"quoting_bad_parameter":      {"参数 {name} 无效", "The parameter {name} is invalid"},
}
