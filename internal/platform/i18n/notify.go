package i18n

// notifyMessages are the messages of tasks and notifications (internal/platform/notify).
var notifyMessages = map[string]msg{
	// errors
	"notify_email_off":            {"邮件发送未启用，请管理员在通知设置中配置 SMTP", "E-mail is not enabled; an administrator sets up SMTP in the notification settings"},
	"notify_bad_kind":             {"通知类型无效：{kind}", "Invalid notification kind: {kind}"},
	"notify_empty_message":        {"通知内容不能为空", "The message is empty"},
	"notify_bad_record":           {"通知关联的记录无效", "The message names an invalid record"},
	"notify_bad_channel":          {"通知渠道无效：{channel}", "Invalid delivery channel: {channel}"},
	"notify_bad_link":             {"链接应以 http:// 或 https:// 开头", "The link must be an http(s) URL"},
	"notify_unknown_kind":         {"未知的通知类型：{kind}", "Unknown notification kind: {kind}"},
	"notify_shutting_down":        {"服务正在停止，请稍后重连", "The server is stopping; reconnect shortly"},
	"notify_bad_host":             {"服务器地址无效", "Not a valid host name or address"},
	"notify_bad_ca":               {"CA 证书应为 PEM 格式", "The CA certificate must be PEM"},
	"notify_email_not_configured": {"尚未配置邮件服务器和发件地址", "No mail server and sender address are configured"},
	"notify_smtp_failed":          {"邮件发送失败：{reason}", "Sending the e-mail failed: {reason}"},
	"notify_robot_failed":         {"机器人消息发送失败：{reason}", "The robot message failed: {reason}"},
	"notify_channel_disabled":     {"群机器人“{name}”已停用", "The group robot \"{name}\" is disabled"},
	"notify_secret_not_supported": {"企业微信群机器人不支持加签密钥", "WeCom group robots have no signing secret"},
	// e-mail parts
	"notify_email_footer": {"此邮件由 Tenon 自动发送，请勿直接回复。可在个人设置中调整通知方式。", "Sent automatically by Tenon; please do not reply. Change what reaches you in your notification preferences."},
	"notify_email_open":   {"打开记录", "Open the record"},
	// tests of the channels
	"notify_test_email":      {"Tenon 测试邮件", "Tenon test e-mail"},
	"notify_test_email.body": {"您好，这是 {user} 从 Tenon 发出的测试邮件。收到此邮件说明邮件服务器设置正确。", "Hello, this is a test e-mail sent by {user} from Tenon. If you read this, the mail server settings work."},
	"notify_test_robot":      {"Tenon 测试消息", "Tenon test message"},
	"notify_test_robot.body": {"{user} 正在测试群机器人“{channel}”。", "{user} is testing the group robot \"{channel}\"."},
	// tasks
	"notify_task_assigned":       {"{actor} 给您分配了任务：{title}", "{actor} assigned you a task: {title}"},
	"notify_task_assigned.body":  {"截止时间：{due}\n{description}", "Due: {due}\n{description}"},
	"notify_task_assigned_nodue": {"{actor} 给您分配了任务：{title}", "{actor} assigned you a task: {title}"},
	"notify_task_remind":         {"任务提醒：{title}", "Reminder: {title}"},
	"notify_task_remind.body":    {"截止时间：{due}\n{description}", "Due: {due}\n{description}"},
	"notify_task_remind_nodue":   {"任务提醒：{title}", "Reminder: {title}"},
	"notify_task_due":            {"任务已到截止时间：{title}", "Task due now: {title}"},
	"notify_task_due.body":       {"截止时间：{due}\n{description}", "Due: {due}\n{description}"},
	"notify_task_due_nodue":      {"任务已到截止时间：{title}", "Task due now: {title}"},
}
