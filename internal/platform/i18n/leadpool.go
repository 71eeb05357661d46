package i18n

// leadpoolMessages are the messages of the leadpool module (internal/module/leadpool).
var leadpoolMessages = map[string]msg{
	// Claims, returns and assignments.
	"lead_not_in_pool":          {"线索已不在公海中（可能已被他人领取）", "The lead is no longer in the pool (someone may have claimed it)"},
	"lead_already_in_pool":      {"线索已在公海中", "The lead is already in the pool"},
	"leadpool_claim_cap":        {"已达到领取上限：最多同时持有 {cap} 条从公海领取的线索（当前 {held} 条）", "Claim cap reached: you may hold at most {cap} leads claimed from pools (you hold {held})"},
	"leadpool_claim_user_only":  {"只有用户本人可以领取线索", "Only a user can claim leads"},
	"leadpool_pool_forbidden":   {"你不能使用公海「{pool}」", "You cannot use the pool “{pool}”"},
	"leadpool_return_forbidden": {"只有线索负责人、其上级或管理员可以退回线索", "Only the lead's owner, their manager or an administrator can return it"},
	"leadpool_assign_forbidden": {"只有管理员或该用户的上级可以分配线索", "Only an administrator or the user's manager can assign leads"},
	"leadpool_lead_closed":      {"线索已结束（{status}），不能再分配或退回", "The lead is closed ({status}) and cannot be assigned or returned"},
	"leadpool_no_pool":          {"没有可以退回的公海：请先建立本区域或全公司公海", "There is no pool to return to: create a pool for the region or a company-wide pool first"},
	"leadpool_no_route":         {"没有匹配的分配规则，也没有可进入的公海", "No assignment rule matches and there is no pool to go to"},
	"leadpool_region_taken":     {"该区域已有启用的公海「{pool}」", "The region already has an active pool “{pool}”"},
	"leadpool_rule_no_assignee": {"请选择接收人或团队", "Choose the assignees or a team"},
	"leadpool_bad_period":       {"统计区间无效：请用 YYYY-MM-DD 或 RFC 3339 时间，且结束晚于开始", "Invalid period: use YYYY-MM-DD or RFC 3339 times, with the end after the start"},
	// Tasks and notifications.
	"leadpool_task_title":       {"跟进线索：{company}", "Follow up the lead: {company}"},
	"leadpool_task_body":        {"请在 {hours} 小时内联系「{company}」并记录跟进。", "Contact “{company}” within {hours} hours and log the follow-up."},
	"leadpool_assigned":         {"新线索分配给你：{company}", "A new lead was assigned to you: {company}"},
	"leadpool_assigned.body":    {"按分配规则「{rule}」分配，请在 {due} 前跟进。", "Assigned by the rule “{rule}”; please follow up before {due}."},
	"leadpool_assigned_by":      {"{actor} 把线索分配给你：{company}", "{actor} assigned a lead to you: {company}"},
	"leadpool_assigned_by.body": {"请在 {due} 前跟进。", "Please follow up before {due}."},
	"leadpool_recycled":         {"线索已收回公海：{company}", "A lead returned to the pool: {company}"},
	"leadpool_recycled.body":    {"「{company}」超过 {days} 天未跟进，已自动收回公海「{pool}」。", "“{company}” had no follow-up for {days} days and returned to the pool “{pool}”."},
	"leadpool_recycled_reason":  {"超过 {days} 天未跟进，自动收回", "No follow-up for {days} days: returned automatically"},
}
