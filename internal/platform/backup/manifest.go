package backup

import (
	"time"

	"github.com/tenon-crm/tenon/internal/platform/db"
)

// Archive layout (a zip file):
//
//	manifest.json            Manifest (written last, read first)
//	tables/<table>.jsonl     one JSON object per row, keys = column names
//	files/<storage_key>      the bytes of every file in the files table

const (
	// FormatName identifies a Tenon backup.
	FormatName = "tenon-backup"
	// FormatVersion is the archive format this binary writes and reads.
	FormatVersion = 1

	manifestPath = "manifest.json"
	tablesDir    = "tables/"
	filesDir     = "files/"
)

// Manifest describes an archive.
type Manifest struct {
	Format        string      `json:"format"`
	FormatVersion int         `json:"format_version"`
	SchemaVersion int         `json:"schema_version"`
	TenonVersion  string      `json:"tenon_version,omitempty"`
	CreatedAt     time.Time   `json:"created_at"`
	Source        db.Kind     `json:"source"`
	Tables        []TableInfo `json:"tables"`
	Files         FilesInfo   `json:"files"`
	Warnings      []string    `json:"warnings,omitempty"`
}

// TableInfo is one archived table.
type TableInfo struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Entity string `json:"entity,omitempty"`
	Path   string `json:"path"`
	Rows   int64  `json:"rows"`
	// Serial is the identity column; MaxID the highest value the source
	// had handed out (at least the largest one present), so that a restore
	// never hands out an id or outbox seq a consumer may have seen.
	Serial  string   `json:"serial,omitempty"`
	MaxID   int64    `json:"max_id,omitempty"`
	Columns []Column `json:"columns"`
}

// FilesInfo sums up the archived file bytes.
type FilesInfo struct {
	Count int64 `json:"count"`
	Bytes int64 `json:"bytes"`
	// Missing lists storage keys of files rows whose bytes were gone when
	// the backup read them (purged after the snapshot, or lost).
	Missing []string `json:"missing,omitempty"`
}

// Rows is the total number of archived rows.
func (m *Manifest) Rows() int64 {
	var n int64
	for _, t := range m.Tables {
		n += t.Rows
	}
	return n
}

func (m *Manifest) table(name string) *TableInfo {
	for i := range m.Tables {
		if m.Tables[i].Name == name {
			return &m.Tables[i]
		}
	}
	return nil
}
