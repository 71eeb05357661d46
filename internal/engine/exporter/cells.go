package exporter

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/i18n"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// cellKind is how a cell is written.
type cellKind int

const (
	cText     cellKind = iota // text, neutralised by the writers
	cNumber                   // text holds the exact decimal form
	cDate                     // text holds YYYY-MM-DD
	cDateTime                 // at
)

// cell is one value of the file.
type cell struct {
	kind  cellKind
	text  string
	scale int // cNumber: decimal places
	at    time.Time
}

// maxCached bounds the titles and file names an export remembers between
// batches (the same owners and accounts recur from batch to batch).
const maxCached = 100_000

// resolver turns a batch of records into cells: values through the field
// types' export form, then links, users and departments by title and
// files by name, each resolved for the whole batch at once.
type resolver struct {
	d      *Download
	types  meta.Types
	titles map[string]map[int64]string // by entity; "" when there is no title to show
	files  map[string]string
	cached int
}

func newResolver(d *Download) *resolver {
	return &resolver{d: d, types: d.x.recs.Registry().Types(), titles: map[string]map[int64]string{}, files: map[string]string{}}
}

// cells converts a batch.
func (rs *resolver) cells(ctx context.Context, batch []records.Record) ([][]cell, error) {
	if rs.cached > maxCached {
		rs.titles, rs.files, rs.cached = map[string]map[int64]string{}, map[string]string{}, 0
	}
	cols := rs.d.cols
	vals := make([][]meta.ExportValue, len(batch))
	need := map[string][]int64{}
	var needFiles []string
	for i, rec := range batch {
		row := make([]meta.ExportValue, len(cols))
		for j := range cols {
			v := rs.value(&cols[j], rec)
			row[j] = v
			switch v.Kind {
			case meta.ExportRefs:
				for _, id := range v.IDs {
					if _, ok := rs.titles[v.Target][id]; !ok {
						need[v.Target] = append(need[v.Target], id)
					}
				}
			case meta.ExportFiles:
				for _, id := range v.Texts {
					if _, ok := rs.files[id]; !ok {
						needFiles = append(needFiles, id)
					}
				}
			}
		}
		vals[i] = row
	}
	if err := rs.resolve(ctx, need, needFiles); err != nil {
		return nil, err
	}
	out := make([][]cell, len(vals))
	for i, row := range vals {
		cells := make([]cell, len(row))
		for j, v := range row {
			cells[j] = rs.render(v)
		}
		out[i] = cells
	}
	return out, nil
}

// value is the export form of one column of rec.
func (rs *resolver) value(c *column, rec records.Record) meta.ExportValue {
	if c.field == nil {
		switch c.name {
		case "id", "version":
			if n, ok := rec[c.name].(int64); ok {
				return meta.ExportValue{Kind: meta.ExportNumber, Text: strconv.FormatInt(n, 10)}
			}
		case "owner", "created_by":
			if n, ok := rec[c.name].(int64); ok {
				return meta.ExportValue{Kind: meta.ExportRefs, IDs: []int64{n}, Target: "users"}
			}
		case "created_at", "updated_at":
			if t, ok := rec[c.name].(time.Time); ok {
				return meta.ExportValue{Kind: meta.ExportDateTime, Time: t}
			}
		}
		return meta.ExportValue{}
	}
	x, ok := rec[c.name]
	if !ok || x == nil {
		return meta.ExportValue{}
	}
	if c.field.Type == "subtable" {
		rows, _ := x.([]records.Record)
		return meta.ExportValue{Text: i18n.Message(i18n.Lang(rs.d.lang), "export_rows", map[string]any{"n": len(rows)})}
	}
	return rs.types.Export(c.field, x, rs.d.lang)
}

// resolve looks up the titles and file names a batch needs and are not
// known yet: one query per entity (and one for files) for the batch.
func (rs *resolver) resolve(ctx context.Context, need map[string][]int64, files []string) error {
	for target, ids := range need {
		got, err := rs.d.x.recs.Titles(ctx, rs.d.p, target, ids)
		if err != nil {
			return err
		}
		m := rs.titles[target]
		if m == nil {
			m = map[int64]string{}
			rs.titles[target] = m
		}
		before := len(m)
		for _, id := range ids {
			m[id] = got[id]
		}
		rs.cached += len(m) - before
	}
	if len(files) > 0 {
		var got map[string]string
		if rs.d.x.files != nil {
			var err error
			if got, err = rs.d.x.files.Names(ctx, files); err != nil {
				return err
			}
		}
		before := len(rs.files)
		for _, id := range files {
			rs.files[id] = got[id]
		}
		rs.cached += len(rs.files) - before
	}
	return nil
}

// render is the cell of an export value, in the reader's language.
func (rs *resolver) render(v meta.ExportValue) cell {
	switch v.Kind {
	case meta.ExportNumber:
		return cell{kind: cNumber, text: v.Text, scale: v.Scale}
	case meta.ExportDate:
		return cell{kind: cDate, text: v.Text}
	case meta.ExportDateTime:
		return cell{kind: cDateTime, at: v.Time}
	case meta.ExportBool:
		code := "export_no"
		if v.Bool {
			code = "export_yes"
		}
		return cell{text: i18n.Message(i18n.Lang(rs.d.lang), code, nil)}
	case meta.ExportRefs:
		parts := make([]string, len(v.IDs))
		for i, id := range v.IDs {
			if t := rs.titles[v.Target][id]; t != "" {
				parts[i] = t
			} else {
				parts[i] = strconv.FormatInt(id, 10)
			}
		}
		return cell{text: strings.Join(parts, meta.ExportSeparator)}
	case meta.ExportFiles:
		parts := make([]string, len(v.Texts))
		for i, id := range v.Texts {
			if n := rs.files[id]; n != "" {
				parts[i] = n
			} else {
				parts[i] = id
			}
		}
		return cell{text: strings.Join(parts, meta.ExportSeparator)}
	}
	return cell{text: v.Text}
}
