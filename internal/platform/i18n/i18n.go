// Package i18n holds Tenon's user-facing messages in zh-CN and en, keyed by
// the stable error codes of package apperr, and picks a language from an
// Accept-Language header.
package i18n

import (
	"fmt"
	"sort"
	"strings"
)

// Lang is a supported language tag.
type Lang string

const (
	ZH Lang = "zh-CN"
	EN Lang = "en"
)

// FromHeader picks zh-CN (the default) or en from Accept-Language.
func FromHeader(h string) Lang {
	for _, part := range strings.Split(h, ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "zh"):
			return ZH
		case strings.HasPrefix(tag, "en"):
			return EN
		}
	}
	return ZH
}

type msg struct{ zh, en string }

// messages: {name} is replaced by the argument of that name.
var messages = map[string]msg{
	// titles by status
	"status.400": {"请求无效", "Bad request"},
	"status.401": {"未登录或登录已失效", "Not authenticated"},
	"status.403": {"没有权限执行此操作", "Not allowed"},
	"status.404": {"记录不存在", "Not found"},
	"status.409": {"操作冲突", "Conflict"},
	"status.412": {"记录已被他人修改，请刷新后重试", "The record was changed by someone else; reload and try again"},
	"status.413": {"内容过大", "Too large"},
	"status.422": {"数据校验未通过", "Validation failed"},
	"status.429": {"操作过于频繁，请稍后再试", "Too many requests; try again later"},
	"status.500": {"服务器内部错误", "Internal error"},
	"status.503": {"服务暂不可用", "Service unavailable"},
	// request-level codes
	"bad_json":              {"JSON 格式错误：{reason}", "Malformed JSON: {reason}"},
	"duplicate_key":         {"JSON 中字段 {field} 重复出现", "Field {field} appears more than once"},
	"unknown_field":         {"未知字段：{field}", "Unknown field: {field}"},
	"bad_filter":            {"筛选表达式无效：{reason}", "Invalid filter: {reason}"},
	"filter_too_complex":    {"筛选表达式过于复杂", "The filter is too complex"},
	"bad_sort":              {"排序参数无效：{reason}", "Invalid sort: {reason}"},
	"bad_paging":            {"分页参数无效（每页最多 {max} 条）", "Invalid paging (at most {max} per page)"},
	"bad_count":             {"count 参数只能是 exact 或 none", "count must be exact or none"},
	"bad_search":            {"搜索词无效：{reason}", "Invalid search: {reason}"},
	"bad_expand":            {"expand 参数无效：{reason}", "Invalid expand: {reason}"},
	"bad_cursor":            {"游标无效", "Invalid cursor"},
	"bad_id":                {"记录编号无效", "Invalid record id"},
	"bad_if_match":          {"If-Match 头格式无效", "Invalid If-Match header"},
	"bad_external_id":       {"外部编号无效", "Invalid external id"},
	"bad_request":           {"请求无效", "Bad request"},
	"body_too_large":        {"请求体超过 {max} 字节", "The request body exceeds {max} bytes"},
	"file_too_large":        {"文件超过大小上限 {max} 字节", "The file exceeds the limit of {max} bytes"},
	"not_found":             {"记录不存在或无权查看", "Not found"},
	"unauthenticated":       {"请先登录", "Please log in"},
	"bad_credentials":       {"用户名或密码错误", "Wrong login or password"},
	"unknown_user":          {"账号不存在或已停用", "The account does not exist or is inactive"},
	"session_expired":       {"登录已过期，请重新登录", "Your session has expired; please log in again"},
	"csrf_failed":           {"缺少或错误的 X-CSRF-Token", "Missing or wrong X-CSRF-Token"},
	"too_many_attempts":     {"登录失败次数过多，请 {retry_after} 秒后再试", "Too many failed logins; try again in {retry_after} seconds"},
	"action_not_allowed":    {"您的角色无权对 {entity} 执行 {action}", "Your role may not {action} {entity}"},
	"scope_not_allowed":     {"API 令牌的权限范围不允许此操作", "The API token's scopes do not allow this"},
	"outside_scope":         {"保存后记录将超出您的数据权限范围", "After this change the record would be outside your data scope"},
	"admin_only":            {"仅管理员可操作", "Administrators only"},
	"unique_violation":      {"{field} 的值已被其他记录使用", "The value of {field} is already taken"},
	"department_not_empty":  {"部门下还有 {children} 个子部门和 {members} 名成员，不能删除", "The department still has {children} sub-departments and {members} members"},
	"share_view_admin_only": {"只有管理员可以共享视图", "Only administrators can share a view"},
	"concurrent_update":     {"记录正被他人同时修改，请重试", "The record is being changed concurrently; try again"},
	"version_mismatch":      {"记录已被他人修改（当前版本 {current}）", "The record was changed (now version {current})"},
	"idempotency_mismatch":  {"同一 Idempotency-Key 对应了不同的请求内容", "The Idempotency-Key was used with a different request"},
	"builtin_field":         {"内置字段不能修改或删除", "Built-in fields cannot be changed or deleted"},
	"field_in_use":          {"字段正被 {by} 使用", "The field is used by {by}"},
	"validation_failed":     {"数据校验未通过", "Validation failed"},
	"internal":              {"服务器内部错误，请联系管理员", "Internal error; please contact your administrator"},
	"not_ready":             {"服务尚未就绪", "Not ready"},
	// field-level codes
	"required":               {"必填", "Required"},
	"wrong_password":         {"当前密码不正确", "The current password is wrong"},
	"read_only":              {"只读字段，不能修改", "Read-only"},
	"not_text":               {"应为文本", "Must be text"},
	"invalid_text":           {"包含无效字符", "Contains invalid characters"},
	"single_line":            {"不能包含换行", "Must be a single line"},
	"too_long":               {"长度不能超过 {max}", "At most {max} characters"},
	"invalid_email":          {"邮箱格式不正确", "Not a valid e-mail address"},
	"invalid_phone":          {"电话号码格式不正确", "Not a valid phone number"},
	"invalid_url":            {"网址应以 http:// 或 https:// 开头", "Must be an http(s) URL"},
	"invalid_file":           {"文件编号无效", "Invalid file id"},
	"file_not_found":         {"文件不存在", "No such file"},
	"file_type_not_allowed":  {"不允许上传此类型的文件（{type}）", "This file type is not allowed ({type})"},
	"file_empty":             {"文件为空", "The file is empty"},
	"invalid_option":         {"不是有效选项：{value}", "Not one of the options: {value}"},
	"not_list":               {"应为列表", "Must be a list"},
	"too_many_items":         {"最多 {max} 项", "At most {max} items"},
	"invalid_item":           {"列表项无效", "Invalid item"},
	"not_integer":            {"应为整数", "Must be a whole number"},
	"not_decimal":            {"应为数字", "Must be a number"},
	"too_many_decimals":      {"最多 {max} 位小数", "At most {max} decimal places"},
	"out_of_range":           {"超出允许范围", "Out of range"},
	"below_min":              {"不能小于 {min}", "Must be at least {min}"},
	"above_max":              {"不能大于 {max}", "Must be at most {max}"},
	"not_boolean":            {"应为 true 或 false", "Must be true or false"},
	"not_date":               {"日期格式应为 YYYY-MM-DD", "Must be a date YYYY-MM-DD"},
	"not_datetime":           {"时间格式应为 RFC 3339（如 2026-11-22T09:30:00+08:00）", "Must be an RFC 3339 datetime"},
	"not_time":               {"时间格式应为 HH:MM", "Must be a time HH:MM"},
	"invalid_id":             {"编号无效", "Invalid id"},
	"not_address":            {"地址格式无效", "Invalid address"},
	"address_needs_province": {"请先选择省份", "Choose a province first"},
	"not_geo":                {"位置格式无效", "Invalid location"},
	"not_json":               {"JSON 无效", "Invalid JSON"},
	"pattern_mismatch":       {"格式不符合要求", "Does not match the required format"},
	"link_not_found":         {"关联的记录不存在或无权查看", "The linked record does not exist or is not visible to you"},
	"unknown_row":            {"明细行不存在", "Unknown row"},
	"not_object":             {"应为对象", "Must be an object"},
	"taken":                  {"已被使用", "Already taken"},
	"invalid":                {"无效", "Invalid"},
	"invalid_name":           {"名称只能包含小写字母、数字和下划线，且以字母开头", "Use lowercase letters, digits and underscores, starting with a letter"},
	"name_taken":             {"名称 {name} 已存在", "The name {name} is taken"},
	"duplicate_name":         {"名称 {name} 重复", "Duplicate name {name}"},
	"unknown_type":           {"未知字段类型 {type}", "Unknown field type {type}"},
	"unknown_entity":         {"未知实体 {entity}", "Unknown entity {entity}"},
	"unknown_language":       {"不支持的语言 {lang}", "Unsupported language {lang}"},
	"must_be_autonumber":     {"编号字段必须是自动编号类型", "The numbering field must be an autonumber field"},
	"must_be_subtable":       {"汇总来源必须是子表字段", "The roll-up source must be a sub-table"},
	"not_numeric":            {"必须是数字字段", "Must be a numeric field"},
	"nested_subtable":        {"子表不能嵌套", "Sub-tables cannot be nested"},
	"not_supported":          {"此处不支持", "Not supported here"},
	"invalid_pattern":        {"格式无效", "Invalid pattern"},
	"invalid_index":          {"索引定义无效", "Invalid index"},
	"not_indexable":          {"字段 {field} 不能建索引", "Field {field} cannot be indexed"},
	"invalid_default":        {"默认值无效", "Invalid default"},
	"bad_expression":         {"表达式无效：{reason}", "Invalid expression: {reason}"},
	"incompatible_type":      {"不能从 {from} 改为 {to}", "Cannot change type from {from} to {to}"},
	"cannot_rename":          {"字段不能改名", "Fields cannot be renamed"},
	"weak_password":          {"密码至少 8 位，且不能是同一个字符", "At least 8 characters, not all the same"},
	"invalid_scope":          {"权限范围无效", "Invalid scope"},
	"invalid_expiry":         {"过期时间无效", "Invalid expiry"},
}

// catalogs are the message tables: the platform's, then one per engine
// (each engine's messages live in this package's file named after it).
var catalogs = []map[string]msg{messages, flowMessages, rulesMessages, notifyMessages, exporterMessages, webhooksMessages, inboundMessages, importerMessages,
	crmMessages, leadpoolMessages, salesMessages, marketingMessages, gradingMessages, quotingMessages, printingMessages, reportsMessages}

func lookup(code string) (msg, bool) {
	for _, c := range catalogs {
		if m, ok := c[code]; ok {
			return m, true
		}
	}
	return msg{}, false
}

// Message renders code in lang with args; unknown codes render the code.
func Message(lang Lang, code string, args map[string]any) string {
	m, ok := lookup(code)
	if !ok {
		return code
	}
	s := m.zh
	if lang == EN {
		s = m.en
	}
	if len(args) == 0 || !strings.Contains(s, "{") {
		return s
	}
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := args[k]
		if t, ok := v.(Text); ok {
			v = Message(lang, t.Code, t.Args)
		}
		s = strings.ReplaceAll(s, "{"+k+"}", fmt.Sprint(v))
	}
	return s
}

// Text is a message argument that is itself translated: its code is
// rendered in the language of the message it fills, with its own args
// (a status, a reason). Plain values are inserted as they are.
type Text struct {
	Code string         `json:"code"`
	Args map[string]any `json:"args,omitempty"`
}

// T builds a Text from a code and alternating key/value args.
func T(code string, kv ...any) Text {
	t := Text{Code: code}
	if len(kv) > 0 {
		t.Args = make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			t.Args[fmt.Sprint(kv[i])] = kv[i+1]
		}
	}
	return t
}

// Has reports whether a message exists for code.
func Has(code string) bool { _, ok := lookup(code); return ok }
