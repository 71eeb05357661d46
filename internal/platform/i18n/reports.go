package i18n

// reportsMessages are the messages of the report engine
// (internal/engine/reports).
var reportsMessages = map[string]msg{
	"report_bad_json":             {"格式不正确", "Not in the expected format"},
	"report_too_many":             {"最多 {max} 项", "At most {max}"},
	"report_no_measure":           {"请至少添加一个指标", "Add at least one measure"},
	"report_needs_two_dimensions": {"透视表和热力图需要两个维度", "A pivot table or heat map needs two dimensions"},
	"report_bad_measure":          {"第 {index} 个指标的设置不正确", "Measure {index} is not set up correctly"},
	"report_compare_needs_bucket": {"环比/同比需要第一个维度是按日期分组的字段", "A period comparison needs a date dimension first"},
	"report_bad_limit":            {"行数上限须在 1 到 5000 之间", "The row limit must be between 1 and 5000"},
	"report_bad_sort":             {"排序列 {column} 不存在", "There is no column {column} to sort by"},
	"report_bad_param":            {"参数 {name} 无效", "The parameter {name} is invalid"},
	"report_source_not_readable":  {"您无权查看该数据来源", "You may not read this source"},
	"report_share_admin_only":     {"只有管理员可以共享给所有人", "Only administrators can share with everyone"},
	"report_bad_drill":            {"无法钻取：{reason}", "Cannot drill down: {reason}"},
	"report_drill_too_wide":       {"该单元格涉及超过 {max} 条记录，请先缩小筛选范围", "This cell covers more than {max} records; narrow the filters first"},
	"report_bad_card":             {"卡片位置或大小超出网格", "A card lies outside the grid"},
	"report_card_unknown":         {"报表 {id} 不存在或无权查看", "Report {id} does not exist or is not visible to you"},
	"report_mail_unavailable":     {"邮件发送未配置", "E-mail is not set up"},
}
