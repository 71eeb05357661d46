package i18n

// salesMessages are the messages of the sales module (internal/module/sales)
// and of the records service's aggregates (records/aggregate.go), which it
// introduced.
var salesMessages = map[string]msg{
	// pipelines
	"sales_pipeline_unknown":    {"销售流程不存在", "The pipeline does not exist"},
	"sales_pipeline_needs_open": {"流程至少需要一个进行中阶段", "A pipeline needs at least one open stage"},
	"sales_pipeline_needs_won":  {"流程至少需要一个赢单阶段", "A pipeline needs at least one won stage"},
	"sales_pipeline_needs_lost": {"流程至少需要一个输单阶段", "A pipeline needs at least one lost stage"},
	"sales_stage_code_repeated": {"阶段代码 {code} 重复", "The stage code {code} is used twice"},
	"sales_stage_field_unknown": {"商机没有字段 {field}", "Opportunities have no field {field}"},
	"sales_stage_unknown":       {"阶段 {stage} 不属于该销售流程", "{stage} is not a stage of the pipeline"},
	// stage gates
	"sales_stage_requires":       {"进入阶段“{stage}”前必须填写", "Required to enter the stage {stage}"},
	"sales_key_deal_stale":       {"重点商机已 {days} 天未更新（最近更新 {since}），超过 {limit} 天不能推进阶段；请先记录跟进", "This key deal has not been updated for {days} days (last update {since}); past {limit} days it cannot advance until a follow-up is recorded"},
	"sales_loss_reason_required": {"输单必须填写输单原因", "A lost deal needs a loss reason"},
	// targets and reports
	"sales_target_user_or_department": {"目标须指定销售或团队中的一个", "A target names either a salesperson or a team"},
	"sales_period_invalid":            {"周期须为 month、quarter 或 year", "The period is month, quarter or year"},
	"sales_period_start_invalid":      {"周期开始须为该月、季度或年的第一天（YYYY-MM-DD）", "The period start is the first day of its month, quarter or year (YYYY-MM-DD)"},
	"sales_bad_range":                 {"日期范围无效（YYYY-MM-DD，结束晚于开始，最长 5 年）", "Invalid date range (YYYY-MM-DD, the end after the start, at most 5 years)"},
	"sales_bad_parameter":             {"参数 {name} 须为记录编号", "The parameter {name} must be a record id"},
	"sales_group_by_invalid":          {"分组须为 product_line 或 region", "Group by product_line or region"},
	// the records service's aggregates
	"bad_aggregate":             {"统计参数无效：{reason}", "Invalid aggregate: {reason}"},
	"aggregate_too_many_groups": {"分组超过 {max} 个，请缩小范围", "More than {max} groups; narrow the query"},
}
