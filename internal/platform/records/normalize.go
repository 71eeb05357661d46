package records

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// fieldErr converts a type's ValueError to an API field error.
func fieldErr(path string, err error) apperr.FieldError {
	if ve, ok := err.(*meta.ValueError); ok {
		return apperr.Field(path, ve.Code, ve.Args...)
	}
	return apperr.Field(path, "invalid")
}

// normalize turns client input into canonical values for the writable
// fields it names. Unknown and hidden fields are a 400 (as if they did not
// exist); computed, system and read-only fields a 422.
func (v *view) normalize(input map[string]any, old Record) (Record, []apperr.FieldError, error) {
	out := Record{}
	var errs []apperr.FieldError
	keys := make([]string, 0, len(input))
	for k := range input {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		raw := input[k]
		switch k {
		case "owner":
			if raw == nil {
				errs = append(errs, apperr.Field(k, "required"))
				continue
			}
			id, ok := meta.ParseID(raw)
			if !ok {
				errs = append(errs, apperr.Field(k, "invalid_id"))
				continue
			}
			out[k] = id
			continue
		case "id", "version", "created_at", "updated_at", "created_by", "deleted_at", expandKey:
			if old != nil && sameAsStored(k, raw, old) {
				continue
			}
			errs = append(errs, apperr.Field(k, "read_only"))
			continue
		}
		f := v.e.Field(k)
		if f == nil || v.r.Hidden(k) {
			return nil, nil, apperr.Invalid("unknown_field", "field", k)
		}
		if f.IsComputed() {
			errs = append(errs, apperr.Field(k, "read_only"))
			continue
		}
		if f.Type == "subtable" {
			rows, ferrs, err := v.normalizeRows(f, raw, old)
			if err != nil {
				return nil, nil, err
			}
			errs = append(errs, ferrs...)
			out[k] = rows
			continue
		}
		var val any
		if raw != nil {
			nv, err := v.s.types[f.Type].Normalize(f, raw)
			if err != nil {
				errs = append(errs, fieldErr(k, err))
				continue
			}
			val = nv
		}
		if v.r.ReadOnly(k) && (old == nil && val != nil || old != nil && !equalValues(old[k], val)) {
			errs = append(errs, apperr.Field(k, "read_only"))
			continue
		}
		out[k] = val
	}
	return out, errs, nil
}

func sameAsStored(k string, raw any, old Record) bool {
	switch k {
	case "id":
		id, ok := meta.ParseID(raw)
		return ok && id == old.ID()
	case "version":
		n, err := strconv.ParseInt(fmt.Sprint(raw), 10, 64)
		return err == nil && n == old.Version()
	}
	return false
}

func (v *view) normalizeRows(f *meta.Field, raw any, old Record) ([]Record, []apperr.FieldError, error) {
	if raw == nil {
		return []Record{}, nil, nil
	}
	arr, ok := raw.([]any)
	if !ok {
		return nil, []apperr.FieldError{apperr.Field(f.Name, "not_list")}, nil
	}
	if len(arr) > 1000 {
		return nil, []apperr.FieldError{apperr.Field(f.Name, "too_many_items", "max", 1000)}, nil
	}
	oldIDs := map[int64]Record{}
	if old != nil {
		if rows, ok := old[f.Name].([]Record); ok {
			for _, r := range rows {
				oldIDs[r.ID()] = r
			}
		}
	}
	cv := childView(v, f)
	var errs []apperr.FieldError
	out := make([]Record, 0, len(arr))
	for i, x := range arr {
		obj, ok := x.(map[string]any)
		path := fmt.Sprintf("%s[%d]", f.Name, i)
		if !ok {
			errs = append(errs, apperr.Field(path, "not_object"))
			continue
		}
		row := Record{}
		var prev Record
		if idRaw, has := obj["id"]; has && idRaw != nil {
			id, ok := meta.ParseID(idRaw)
			if !ok || oldIDs[id] == nil {
				errs = append(errs, apperr.Field(path+".id", "unknown_row"))
				continue
			}
			row["id"] = id
			prev = oldIDs[id]
		}
		for k, rv := range obj {
			if k == "id" {
				continue
			}
			sf := f.SubField(k)
			if sf == nil || cv.hidden(k) {
				return nil, nil, apperr.Invalid("unknown_field", "field", f.Name+"."+k)
			}
			if sf.IsComputed() {
				errs = append(errs, apperr.Field(path+"."+k, "read_only"))
				continue
			}
			if rv == nil {
				continue
			}
			nv, err := v.s.types[sf.Type].Normalize(sf, rv)
			if err != nil {
				errs = append(errs, fieldErr(path+"."+k, err))
				continue
			}
			if nv != nil {
				row[k] = nv
			}
		}
		// Hidden columns of an existing row keep their stored values.
		if prev != nil {
			for i := range f.Fields {
				sf := &f.Fields[i]
				if cv.hidden(sf.Name) || v.r.ReadOnly(sf.Name) {
					if x, ok := prev[sf.Name]; ok {
						row[sf.Name] = x
					}
				}
			}
		}
		out = append(out, row)
	}
	return out, errs, nil
}

// equalValues compares canonical values.
func equalValues(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if da, ok := a.(decimal.Decimal); ok {
		db, ok := b.(decimal.Decimal)
		return ok && da.Equal(db)
	}
	if ra, ok := a.(json.RawMessage); ok {
		rb, ok := b.(json.RawMessage)
		return ok && string(ra) == string(rb)
	}
	return reflect.DeepEqual(a, b)
}
