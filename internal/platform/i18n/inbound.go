package i18n

// inboundMessages are the messages of inbound sync: inbound endpoints
// (internal/engine/inbound) and the upsert by external id
// (records.Service.Upsert).
var inboundMessages = map[string]msg{
	// upsert by external id
	"upsert_record_deleted": {"该外部编号对应的记录（{id}）在回收站中，您无权恢复它", "The record with this external id ({id}) is in the recycle bin and you may not restore it"},
	// saving an endpoint (field errors)
	"inbound_entity_unknown":       {"对象 {entity} 不存在或不能作为入站目标", "The entity {entity} does not exist or cannot be an inbound target"},
	"inbound_field_unknown":        {"{entity} 没有字段 {field}", "{entity} has no field {field}"},
	"inbound_field_not_writable":   {"字段 {field} 不能由入站接口写入（计算字段、只读字段，或执行用户无权写入）", "The field {field} cannot be written by the endpoint (computed, read-only, or not writable by the user it runs as)"},
	"inbound_link_kind_invalid":    {"按外部编号关联只适用于关联字段，{field} 不是", "Link by external id is for link fields; {field} is not one"},
	"inbound_link_source_unused":   {"只有“按外部编号关联”的映射使用关联编号来源", "link_source is only for link_by_external_id mappings"},
	"inbound_expression_too_large": {"表达式过大（最多 {max} 字节、{nodes} 个节点）", "The expression is too large (at most {max} bytes and {nodes} nodes)"},
	"inbound_path_invalid":         {"路径无效：用点分隔的键名，如 data.items（最多 {max} 段）", "Invalid path: keys separated by dots, e.g. data.items (at most {max} parts)"},
	"inbound_secret_short":         {"签名密钥至少 {min} 个字符", "The signing secret needs at least {min} characters"},
	"inbound_run_as_admin_only":    {"只有管理员可以让接口以他人身份执行", "Only administrators may have an endpoint run as someone else"},
	"inbound_run_as_inactive":      {"执行用户不存在或已停用", "The user the endpoint runs as does not exist or is inactive"},
	"inbound_run_as_cannot_write":  {"执行用户无权新建和修改 {entity}", "The user the endpoint runs as may not create and update {entity}"},
	// calls
	"inbound_unauthorized":        {"签名无效或接口不可用", "Invalid signature or unavailable endpoint"},
	"inbound_throttled":           {"调用过于频繁，请 {retry_after} 秒后再试", "Too many calls; try again in {retry_after} seconds"},
	"inbound_endpoint_invalid":    {"接口配置已失效（字段或对象已变更），请管理员修正", "The endpoint's configuration no longer fits (a field or entity changed); an administrator must fix it"},
	"inbound_body_not_json":       {"请求体必须是一个 JSON 对象或数组", "The body must be one JSON object or array"},
	"inbound_too_many_items":      {"一次最多 {max} 条数据", "At most {max} items per call"},
	"inbound_items_failed":        {"{items} 条数据中有 {failed} 条未通过，全部未写入", "{failed} of {items} items failed; nothing was written"},
	"inbound_eval_cut_off":        {"映射计算超出预算（第 {item} 条数据处），全部未写入", "The mappings exceeded their budget (at item {item}); nothing was written"},
	"inbound_items_not_found":     {"请求体中 {path} 处没有数据数组", "There is no array of items at {path} in the body"},
	"inbound_external_id_missing": {"缺少外部编号（文本或整数，最长 200 字符）", "The external id is missing (a text or a whole number, at most 200 characters)"},
	"inbound_expression_failed":   {"表达式 {expression} 计算失败：{reason}", "The expression {expression} failed: {reason}"},
	"inbound_link_invalid":        {"关联值应为外部编号（多值关联为编号列表）", "A link is given as an external id (a list of them for a multi-link)"},
	"inbound_link_unknown":        {"{source} 中没有外部编号为 {external_id} 的 {entity} 记录", "No {entity} record has the external id {external_id} in {source}"},
	"inbound_bad_status":          {"status 只能是 ok 或 failed", "status must be ok or failed"},
	// the call log
	"inbound_call_refused":         {"已拒绝：{reason}", "Refused: {reason}"},
	"inbound_reason_no_endpoint":   {"接口不存在", "no such endpoint"},
	"inbound_reason_inactive":      {"接口已停用", "the endpoint is inactive"},
	"inbound_reason_malformed":     {"缺少或无法解析 Tenon-Signature 头", "the Tenon-Signature header is missing or malformed"},
	"inbound_reason_bad_signature": {"签名不符（密钥或签名内容错误）", "the signature does not match (wrong secret or signed content)"},
	"inbound_reason_stale":         {"签名时间与服务器时间相差过大", "the signature's timestamp is too far from the server's clock"},
	"inbound_reason_replay":        {"重复的请求（同一签名已使用过）", "a replayed request (the signature was already used)"},
}
