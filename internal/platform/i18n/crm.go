package i18n

// crmMessages are the messages of the crm module (internal/module/crm).
var crmMessages = map[string]msg{
	// duplicates
	"crm_duplicate_entity": {"查重只支持线索（leads）和客户（accounts）", "Duplicates can be checked for leads and accounts only"},
	// merge
	"crm_merge_converted": {"已转化的线索不能合并", "A converted lead cannot be merged"},
	"crm_merge_self":      {"不能把线索与自身合并", "A lead cannot be merged with itself"},
	"crm_merge_field":     {"该字段由系统维护，合并时不能选择", "This field is kept by the system and cannot be chosen in a merge"},
	"crm_merge_source":    {"所选来源不是参与合并的线索", "The chosen source is not one of the leads being merged"},
	// conversion
	"crm_lead_converted":   {"该线索已转化，不能再次转化", "This lead has already been converted"},
	"crm_no_opportunities": {"商机模块未启用，不能创建商机", "Opportunities are not available, so none can be created"},
	// transfer
	"crm_transfer_forbidden":     {"只有管理员或该员工的直属上级可以转移其客户", "Only an administrator or the user's manager may transfer their records"},
	"crm_transfer_not_allowed":   {"无权修改 {entity} 记录 {id}，转移已撤销", "You may not update {entity} record {id}; the transfer was rolled back"},
	"crm_transfer_same_user":     {"转出人和接收人不能相同", "The receiving user must differ from the leaving one"},
	"crm_transfer_user_inactive": {"接收人不存在或已停用", "The receiving user does not exist or is inactive"},
	// web-to-lead
	"crm_form_rate_limited": {"提交过于频繁，请稍后再试", "Too many submissions; please try again later"},
	"crm_form_content_type": {"只接受 JSON 或表单编码（application/x-www-form-urlencoded）的提交", "Submissions must be JSON or application/x-www-form-urlencoded"},
}
