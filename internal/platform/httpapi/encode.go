package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/tenon-crm/tenon/internal/platform/jsonx"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// recordEncoder writes API-form records as JSON in a fixed key order
// (system fields, then fields in definition order). encoding/json sorts the
// keys of every map it writes, which dominated the cost of list pages.
type recordEncoder struct {
	order []string
	buf   []byte
}

var systemOrder = []string{"id", "version", "created_at", "updated_at", "created_by", "owner", "deleted_at"}

func newRecordEncoder(e *meta.Entity) *recordEncoder {
	order := make([]string, 0, len(systemOrder)+len(e.Fields)+1)
	order = append(order, systemOrder...)
	for _, f := range e.Fields {
		order = append(order, f.Name)
	}
	order = append(order, "expand")
	return &recordEncoder{order: order}
}

func (enc *recordEncoder) record(r records.Record) {
	enc.buf = append(enc.buf, '{')
	first := true
	for _, k := range enc.order {
		v, ok := r[k]
		if !ok {
			continue
		}
		if !first {
			enc.buf = append(enc.buf, ',')
		}
		first = false
		enc.buf = appendString(enc.buf, k)
		enc.buf = append(enc.buf, ':')
		enc.value(v)
	}
	enc.buf = append(enc.buf, '}')
}

func (enc *recordEncoder) value(v any) {
	switch x := v.(type) {
	case nil:
		enc.buf = append(enc.buf, "null"...)
	case string:
		enc.buf = appendString(enc.buf, x)
	case bool:
		enc.buf = strconv.AppendBool(enc.buf, x)
	case int64:
		enc.buf = strconv.AppendInt(enc.buf, x, 10)
	case int:
		enc.buf = strconv.AppendInt(enc.buf, int64(x), 10)
	case []string:
		enc.buf = append(enc.buf, '[')
		for i, s := range x {
			if i > 0 {
				enc.buf = append(enc.buf, ',')
			}
			enc.buf = appendString(enc.buf, s)
		}
		enc.buf = append(enc.buf, ']')
	case json.RawMessage:
		enc.buf = append(enc.buf, x...)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			enc.buf = append(enc.buf, "null"...)
			return
		}
		enc.buf = append(enc.buf, b...)
	}
}

// appendString appends s as a JSON string (HTML characters are not escaped,
// as in writeJSON; U+2028/U+2029 are, for JavaScript embedding).
func appendString(b []byte, s string) []byte { return jsonx.AppendString(b, s, false) }

// writeList writes a list response.
func writeList(w http.ResponseWriter, e *meta.Entity, items []records.Record, page, perPage int, total any, exact bool) {
	enc := newRecordEncoder(e)
	enc.buf = make([]byte, 0, 512*len(items)+128)
	enc.buf = append(enc.buf, `{"items":[`...)
	for i, r := range items {
		if i > 0 {
			enc.buf = append(enc.buf, ',')
		}
		enc.record(r)
	}
	enc.buf = append(enc.buf, `],"page":`...)
	enc.buf = strconv.AppendInt(enc.buf, int64(page), 10)
	enc.buf = append(enc.buf, `,"per_page":`...)
	enc.buf = strconv.AppendInt(enc.buf, int64(perPage), 10)
	enc.buf = append(enc.buf, `,"total":`...)
	enc.value(total)
	enc.buf = append(enc.buf, `,"total_exact":`...)
	enc.buf = strconv.AppendBool(enc.buf, exact)
	enc.buf = append(enc.buf, '}', '\n')
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(enc.buf)
}

// writeOne writes a single record.
func writeOne(w http.ResponseWriter, status int, e *meta.Entity, r records.Record) {
	enc := newRecordEncoder(e)
	enc.record(r)
	enc.buf = append(enc.buf, '\n')
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(enc.buf)
}
