package i18n

// rulesMessages are the messages of the rule engine (internal/engine/rules).
var rulesMessages = map[string]msg{
	// saving a rule (field errors)
	"rule_entity_unknown":        {"对象 {entity} 不存在或不能用于规则", "The entity {entity} does not exist or cannot have rules"},
	"rule_field_unknown":         {"{entity} 没有字段 {field}", "{entity} has no field {field}"},
	"rule_field_not_writable":    {"字段 {field} 由系统计算，不能由规则设置", "The field {field} is computed and cannot be set by a rule"},
	"rule_trigger_invalid":       {"触发条件无效：{reason}", "Invalid trigger: {reason}"},
	"rule_key_unused":            {"{type} 不使用 {key}", "{type} does not use {key}"},
	"rule_action_invalid":        {"动作无效：{reason}", "Invalid action: {reason}"},
	"rule_too_many_actions":      {"一条规则最多 {max} 个动作", "A rule has at most {max} actions"},
	"rule_record_required":       {"该触发方式没有对应记录，不能使用 {action}", "This trigger has no record, so {action} cannot be used"},
	"rule_expression_too_large":  {"表达式过大（最多 {max} 字节、{nodes} 个节点）", "The expression is too large (at most {max} bytes and {nodes} nodes)"},
	"rule_expression_too_costly": {"表达式开销 {cost} 超过上限 {max}（减少函数调用、文本查找或关联字段）", "The expression costs {cost}, more than the limit of {max} (use fewer calls, text searches or links)"},
	"rule_too_costly":            {"规则所有表达式的总开销 {cost} 超过上限 {max}", "The rule's expressions cost {cost} in total, more than the limit of {max}"},
	"rule_path_invalid":          {"不能读取 {path}：{reason}", "Cannot read {path}: {reason}"},
	"rule_template_invalid":      {"模板无效：{reason}", "Invalid template: {reason}"},
	"rule_url_invalid":           {"Webhook 地址必须是 http 或 https 地址", "The webhook URL must be an http or https URL"},
	"rule_secret_invalid":        {"签名密钥至少 {min} 个字符", "The signing secret needs at least {min} characters"},
	"rule_user_unknown":          {"用户 {user} 不存在或已停用", "The user {user} does not exist or is inactive"},
	"rule_role_unknown":          {"角色 {role} 不存在", "The role {role} does not exist"},
	"rule_invalid_value":         {"值无效", "Invalid value"},
	"rule_token_short":           {"Webhook 令牌至少 {min} 个字符", "The webhook token needs at least {min} characters"},
	// running a rule (run log)
	"rule_eval_cut_off":    {"表达式计算超出预算，已中止：{reason}", "The evaluation was cut off: {reason}"},
	"rule_eval_failed":     {"表达式 {expression} 计算失败：{reason}", "The expression {expression} failed: {reason}"},
	"rule_loop_depth":      {"规则连锁触发超过 {max} 层，已停止", "The chain of rules went deeper than {max} runs and was stopped"},
	"rule_loop_repeat":     {"规则 {rule} 在本次连锁中已处理过记录 {record}，已停止以免循环", "Rule {rule} already ran on record {record} in this chain; stopped to avoid a loop"},
	"rule_not_active":      {"规则已停用或已删除，未执行", "The rule was disabled or deleted before it ran"},
	"rule_record_gone":     {"记录已不存在，未执行", "The record no longer exists"},
	"rule_no_notifier":     {"未配置通知服务，无法发送通知", "No notification service is configured"},
	"rule_no_flows":        {"未配置审批流引擎，无法发起审批", "No approval flow engine is configured"},
	"rule_no_active_user":  {"候选用户都已停用", "None of the users is active"},
	"rule_too_many_linked": {"关联记录超过 {max} 条，未更新", "More than {max} linked records; none was updated"},
	"rule_webhook_failed":  {"Webhook 调用失败：{reason}", "The webhook call failed: {reason}"},
	"rule_no_match":        {"没有 {field} 与数据中 {key} 相符的记录", "No record's {field} matches the payload's {key}"},
	"rule_action_failed":   {"第 {index} 个动作（{type}）失败：{reason}", "Action {index} ({type}) failed: {reason}"},
	"rule_internal_error":  {"内部错误，详情见服务器日志", "Internal error; see the server log"},
	// requests
	"rule_hook_throttled":    {"调用过于频繁，请 {retry_after} 秒后再试", "Too many calls; try again in {retry_after} seconds"},
	"rule_bad_outcome":       {"outcome 只能是 matched、skipped、failed 或 loop_stopped", "outcome must be matched, skipped, failed or loop_stopped"},
	"rule_test_needs_record": {"请指定要测试的记录", "Name the record to test against"},
}
