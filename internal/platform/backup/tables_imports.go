package backup

// importsTables declares the system tables of internal/engine/importer (see systemTables).
func importsTables() []tableDesc {
	i, t, j := TInt, TText, TJSON
	return []tableDesc{
		{name: "imports", order: []string{"id"},
			columns: cols("id", i, "entity", t, "file_id", t, "file_name", t, "file_format", t, "file_encoding", t,
				"csv_delimiter", t, "headers", j, "sample", j, "row_count", i, "mapping", j, "dedupe", j, "status", t,
				"total_rows", i, "processed_rows", i, "created_rows", i, "updated_rows", i, "skipped_rows", i,
				"failed_rows", i, "error", j, "version", i, "job_id", i, "created_by", i,
				"created_at", i, "updated_at", i, "started_at", i, "finished_at", i)},
		{name: "import_batches", order: []string{"import_id", "batch_no"},
			columns: cols("import_id", i, "batch_no", i)},
		{name: "import_errors", order: []string{"import_id", "row_no"},
			columns: cols("import_id", i, "row_no", i, "cells", j, "errors", j)},
	}
}
