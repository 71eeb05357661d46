package i18n

// webhooksMessages are the messages of outbound calls: the address guard
// (internal/platform/netguard) and the webhooks engine
// (internal/engine/webhooks).
var webhooksMessages = map[string]msg{
	// the outbound guard
	"outbound_url_invalid":      {"地址无效：{reason}", "Invalid URL: {reason}"},
	"outbound_address_refused":  {"不允许访问 {host}：回环、链路本地和内网地址须由管理员加入外呼白名单", "{host} is a loopback, link-local or private address; such targets must be added to the outbound allow-list by an administrator"},
	"outbound_allow_invalid":    {"白名单条目无效：{value}（应为主机名、IP 地址或 CIDR 网段，可带端口）", "Invalid allow-list entry: {value} (a host name, an address or a CIDR range, with an optional port)"},
	"outbound_allow_too_many":   {"白名单最多 {max} 条", "The allow-list holds at most {max} entries"},
	"outbound_redirect_refused": {"重定向被拒绝", "The redirect was refused"},
	// saving a webhook
	"webhook_entity_unknown":    {"对象 {entity} 不存在或不能订阅", "The entity {entity} does not exist or cannot be subscribed to"},
	"webhook_owner_cannot_read": {"订阅的所有者无权读取 {entity}，不会收到任何事件", "The webhook's owner may not read {entity} and would receive nothing"},
	"webhook_secret_short":      {"签名密钥至少 {min} 个字符（留空则自动生成）", "The signing secret needs at least {min} characters (leave it empty to generate one)"},
	"webhook_delivery_readonly": {"投递记录由系统写入，不能新建或修改", "Deliveries are written by the system and cannot be created or changed"},
	// the test action
	"webhook_test_refused":     {"目标地址被外呼策略拒绝（回环、链路本地或内网地址须先加入白名单）", "The outbound policy refused the address (loopback, link-local and private addresses must be allow-listed)"},
	"webhook_test_unreachable": {"无法连接目标地址（域名解析、连接、TLS 或超时）", "The target could not be reached (DNS, connection, TLS or time-out)"},
	"webhook_test_rejected":    {"目标地址返回了非 2xx 状态", "The target answered with a status other than 2xx"},
}
