package i18n

// importerMessages are the messages of the import engine
// (internal/engine/importer).
var importerMessages = map[string]msg{
	// the uploaded file
	"import_file_too_large":          {"文件超过导入大小上限（{max} 字节）", "The file exceeds the import limit of {max} bytes"},
	"import_format_unsupported":      {"只能导入 .csv 或 .xlsx 文件", "Only .csv and .xlsx files can be imported"},
	"import_xls_unsupported":         {"不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 后再导入", "Old .xls files are not supported; save the file as .xlsx in Excel and import that"},
	"import_encoding_utf16":          {"文件是 UTF-16（Unicode 文本）编码，请另存为“CSV UTF-8（逗号分隔）”后再导入", "The file is encoded as UTF-16 (Unicode text); save it as \"CSV UTF-8 (comma delimited)\" and import that"},
	"import_encoding_unknown":        {"无法识别文件编码：既不是 UTF-8 也不是 GBK/GB18030，请另存为“CSV UTF-8”后再导入", "The file's encoding is neither UTF-8 nor GBK/GB18030; save it as \"CSV UTF-8\" and import that"},
	"import_encoding_ambiguous":      {"无法确定文件是 UTF-8 还是 GBK 编码，为避免乱码未导入；请另存为“CSV UTF-8”（带 BOM）后再导入", "Cannot tell whether the file is UTF-8 or GBK; to avoid garbled text nothing was imported. Save it as \"CSV UTF-8\" (with BOM) and import that"},
	"import_encoding_invalid":        {"文件包含无效的字符编码", "The file contains invalid character encoding"},
	"import_not_text":                {"文件不是文本格式的 CSV", "The file is not a text CSV file"},
	"import_csv_invalid":             {"CSV 格式错误（第 {line} 行附近）", "Malformed CSV (near line {line})"},
	"import_xlsx_invalid":            {"无法读取该 Excel 文件，请确认是有效的 .xlsx 文件", "The Excel file cannot be read; make sure it is a valid .xlsx file"},
	"import_xlsx_too_many_parts":     {"Excel 文件内部组成部分过多（最多 {max} 个）", "The Excel file has too many parts (at most {max})"},
	"import_xlsx_unzipped_too_large": {"Excel 文件解压后超过 {max} 字节，已拒绝", "The Excel file expands to more than {max} bytes and was refused"},
	"import_xlsx_ratio":              {"Excel 文件压缩比异常（超过 {max} 倍），疑似压缩炸弹，已拒绝", "The Excel file expands more than {max} times (a zip bomb?) and was refused"},
	"import_too_many_rows":           {"文件超过 {max} 行，请拆分后再导入", "The file has more than {max} rows; split it"},
	"import_too_many_columns":        {"文件超过 {max} 列", "The file has more than {max} columns"},
	"import_empty_file":              {"文件是空的", "The file is empty"},
	"import_no_rows":                 {"文件只有表头，没有数据行", "The file has a header but no data rows"},
	// import_jobs records
	"import_job_readonly":    {"导入任务由导入功能写入，不能直接新建、修改或恢复", "Import jobs are written by the import routes and cannot be created, changed or restored directly"},
	"import_job_running":     {"导入任务{status}，不能删除；请先取消", "The import job is {status} and cannot be deleted; cancel it first"},
	"import_mapping_invalid": {"mapping 必须是 JSON 对象：列名 → 字段名", "mapping must be a JSON object: column → field name"},
	"import_dedupe_invalid":  {"dedupe 必须是 JSON 对象：field、match、mode", "dedupe must be a JSON object: field, match, mode"},
	"import_dry_run_invalid": {"dry_run 只能是 true 或 false", "dry_run must be true or false"},
	// mapping and de-duplication
	"import_unknown_column":       {"文件中没有列 {column}", "The file has no column {column}"},
	"import_field_not_importable": {"字段 {field} 不存在或不能导入", "The field {field} does not exist or cannot be imported"},
	"import_field_mapped_twice":   {"字段 {field} 已对应列 {column}", "The field {field} is already mapped to the column {column}"},
	"import_nothing_mapped":       {"至少要把一列对应到字段", "Map at least one column to a field"},
	"import_dedupe_match_invalid": {"匹配方式只能是 exact 或 company", "match must be exact or company"},
	"import_dedupe_mode_invalid":  {"重复处理方式只能是 skip、update 或 create", "mode must be skip, update or create"},
	"import_dedupe_not_mapped":    {"查重字段 {field} 没有对应任何列", "The de-duplication field {field} is not mapped to a column"},
	"import_dedupe_field_type":    {"字段 {field} 不能用于这种查重方式（公司名匹配需要文本字段）", "The field {field} cannot be used for this kind of matching (company matching needs a text field)"},
	"import_dedupe_create_unique": {"字段 {field} 不允许重复，不能选择“仍然新建”", "The field {field} is unique, so duplicates cannot be created anyway"},
	"import_not_editable":         {"导入状态为 {status}，不能再修改或试运行", "The import is {status} and can no longer be changed or checked"},
	"import_not_startable":        {"导入状态为 {status}，不能开始", "The import is {status} and cannot be started"},
	"import_not_cancellable":      {"导入状态为 {status}，不能取消", "The import is {status} and cannot be cancelled"},
	"import_entity_gone":          {"对象 {entity} 已不存在", "The entity {entity} no longer exists"},
	"import_bad_format":           {"format 只能是 csv 或 xlsx", "format must be csv or xlsx"},
	// rows
	"import_link_unknown":     {"找不到“{value}”对应的记录（按名称、编号或 ID 查找，且须有权查看）", "No record found for \"{value}\" (by name, code or id, among those you may see)"},
	"import_link_ambiguous":   {"“{value}”对应多条记录，请改填 ID", "\"{value}\" matches several records; use the id instead"},
	"import_dedupe_ambiguous": {"匹配到 {count} 条已有记录，无法确定更新哪一条", "Matches {count} existing records; cannot tell which one to update"},
	"import_row_failed":       {"该行保存失败（内部错误，详见服务器日志）", "The row could not be saved (internal error; see the server log)"},
	// the run
	"import_user_gone":      {"发起导入的用户已不存在", "The user who started the import no longer exists"},
	"import_file_gone":      {"导入文件已不存在", "The import file no longer exists"},
	"import_internal_error": {"导入因内部错误中止，详见服务器日志", "The import stopped on an internal error; see the server log"},
	// files and columns
	"import_label_owner":   {"负责人", "Owner"},
	"import_label_row":     {"行号", "Row"},
	"import_label_error":   {"错误", "Error"},
	"import_errors_file":   {"{name}-错误报告", "{name}-errors"},
	"import_template_file": {"{entity}导入模板", "{entity} import template"},
	// statuses (arguments of the messages above)
	"import_status_uploaded":  {"已上传", "uploaded"},
	"import_status_checked":   {"已试运行", "checked"},
	"import_status_queued":    {"排队中", "queued"},
	"import_status_running":   {"导入中", "running"},
	"import_status_done":      {"已完成", "done"},
	"import_status_failed":    {"失败", "failed"},
	"import_status_cancelled": {"已取消", "cancelled"},
}
