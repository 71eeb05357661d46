package i18n

// exporterMessages are the messages of the exporter
// (internal/engine/exporter): its errors and the words it writes into files.
var exporterMessages = map[string]msg{
	"export_bad_format": {"导出格式只能是 csv 或 xlsx（收到 {format}）", "The export format must be csv or xlsx (got {format})"},
	// column headers of the system fields
	"export_col_id":         {"编号", "ID"},
	"export_col_version":    {"版本", "Version"},
	"export_col_owner":      {"负责人", "Owner"},
	"export_col_created_by": {"创建人", "Created by"},
	"export_col_created_at": {"创建时间", "Created at"},
	"export_col_updated_at": {"更新时间", "Updated at"},
	// cell values
	"export_yes":  {"是", "Yes"},
	"export_no":   {"否", "No"},
	"export_rows": {"{n} 行", "{n} rows"},
}
