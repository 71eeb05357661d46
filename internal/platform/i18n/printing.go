package i18n

// printingMessages are the messages of the print-template engine
// (internal/engine/printing): its errors, and the reasons of template
// errors (print_err_*), which fill print_template_error.
var printingMessages = map[string]msg{
	"print_template_error": {"模板{part}第 {line} 行第 {col} 列：{reason}", "Template {part}, line {line}, column {col}: {reason}"},
	"print_part_body":      {"正文", "body"},
	"print_part_header":    {"页眉", "header"},
	"print_part_footer":    {"页脚", "footer"},
	"print_no_template":    {"{entity} 没有可用的打印模板", "{entity} has no active print template"},
	"print_unknown_entity": {"未知对象 {entity}", "Unknown entity {entity}"},
	"print_bad_logo":       {"标志须为不超过 2 MB 的 PNG 或 JPEG 图片", "The logo must be a PNG or JPEG image of at most 2 MB"},
	"print_timeout":        {"打印超时（超过 {seconds} 秒），请简化模板", "Printing took longer than {seconds} seconds; simplify the template"},
	"print_too_many_rows":  {"循环行数超过上限 {max}", "The loops produce more than {max} rows"},
	"print_too_much_text":  {"打印内容超过上限 {max} 字节", "The document has more than {max} bytes of text"},
	"print_too_many_pages": {"打印结果超过 {max} 页", "The document has more than {max} pages"},
	// reasons of print_template_error
	"print_err_too_large":        {"模板超过 {max} 字节", "the template exceeds {max} bytes"},
	"print_err_encoding":         {"模板不是有效的 UTF-8 文本", "the template is not valid UTF-8"},
	"print_err_too_deep":         {"嵌套超过 {max} 层", "nesting deeper than {max}"},
	"print_err_unexpected_close": {"多余的结束标记 {tag}", "unexpected closing {tag}"},
	"print_err_unclosed_comment": {"注释 <!-- 没有结束 -->", "comment <!-- without -->"},
	"print_err_bad_tag":          {"标签写法错误", "malformed tag"},
	"print_err_text_here":        {"{where} 中不能直接写文字或占位符", "text and placeholders are not allowed directly inside {where}"},
	"print_err_unknown_tag":      {"未知标签 <{tag}>", "unknown tag <{tag}>"},
	"print_err_tag_here":         {"<{tag}> 不能放在 {where} 中", "<{tag}> is not allowed inside {where}"},
	"print_err_unclosed":         {"{tag} 没有结束标记", "{tag} is not closed"},
	"print_err_mismatch":         {"应为 {want}，实为 {got}", "expected {want}, found {got}"},
	"print_err_attr_quote":       {"属性 {attr} 的值须用引号括起", "the value of {attr} must be quoted"},
	"print_err_unknown_attr":     {"<{tag}> 没有属性 {attr}", "<{tag}> has no attribute {attr}"},
	"print_err_dup_attr":         {"属性 {attr} 重复", "attribute {attr} repeated"},
	"print_err_attr_value":       {"属性 {attr} 的值无效：{value}", "invalid value of {attr}: {value}"},
	"print_err_unclosed_tag":     {"{{ 没有对应的 }}", "{{ without }}"},
	"print_err_bad_path":         {"字段路径无效：{path}", "invalid field path: {path}"},
	"print_err_empty_condition":  {"#if 缺少条件", "#if without a condition"},
	"print_err_unknown_section":  {"未知区块 {section}（可用 #each、#if）", "unknown section {section} (use #each or #if)"},
	"print_err_unknown_filter":   {"未知格式 {filter}", "unknown filter {filter}"},
	"print_err_filter_arg":       {"格式 {filter} 的参数无效：{arg}", "invalid argument of {filter}: {arg}"},
	"print_err_condition":        {"条件无效：{reason}", "invalid condition: {reason}"},
	"print_err_unknown_field":    {"未知字段 {field}", "unknown field {field}"},
	"print_err_not_list":         {"{path} 不是子表，不能用 #each", "{path} is not a sub-table; #each needs one"},
	"print_err_index_outside":    {"@index 只能用在 #each 中", "@index is only known inside #each"},
}
