package meta

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"sync"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
)

// Registry holds every entity definition in force: built-in ones from the
// modules' files, with custom fields added by users, and custom entities.
// Reads are lock-free snapshots; changes go through the database so that
// every instance sees them (Refresh).
type Registry struct {
	db      *db.DB
	types   Types
	compile Compiler

	mu       sync.RWMutex
	builtin  map[string]*Entity
	entities map[string]*Entity
	stamp    int64 // max(updated_at) of meta_entities at the last load
}

// NewRegistry builds an empty registry.
func NewRegistry(d *db.DB, types Types, compile Compiler) *Registry {
	return &Registry{db: d, types: types, compile: compile, builtin: map[string]*Entity{}, entities: map[string]*Entity{}}
}

// Types returns the field type registry.
func (r *Registry) Types() Types { return r.types }

// AddBuiltin reads every *.json entity definition in dir of fsys. Modules
// call it while the application is assembled, before Load.
func (r *Registry) AddBuiltin(fsys fs.FS, dir string) error {
	files, err := fs.Glob(fsys, path.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	for _, name := range files {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		e, err := ParseEntity(b)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if _, dup := r.builtin[e.Name]; dup {
			return fmt.Errorf("%s: entity %q defined twice", name, e.Name)
		}
		r.builtin[e.Name] = e
	}
	return nil
}

// IsBuiltin reports whether name is a built-in entity.
func (r *Registry) IsBuiltin(name string) bool { _, ok := r.builtin[name]; return ok }

type storedDoc struct {
	Name   string
	Custom bool
	Doc    []byte
}

// Load reads custom definitions from the database and rebuilds the
// registry. Built-in definitions that fail validation are a programming
// error and stop the start.
func (r *Registry) Load(ctx context.Context) error {
	docs, stamp, err := r.readDocs(ctx)
	if err != nil {
		return err
	}
	next, err := r.build(docs)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.entities, r.stamp = next, stamp
	r.mu.Unlock()
	return nil
}

// Refresh reloads when another instance changed metadata since the last load.
func (r *Registry) Refresh(ctx context.Context) error {
	var stamp int64
	if err := r.db.QueryRow(ctx, `SELECT COALESCE(MAX(updated_at), 0) FROM meta_entities`).Scan(&stamp); err != nil {
		return err
	}
	r.mu.RLock()
	same := stamp == r.stamp
	r.mu.RUnlock()
	if same {
		return nil
	}
	return r.Load(ctx)
}

func (r *Registry) readDocs(ctx context.Context) ([]storedDoc, int64, error) {
	rows, err := r.db.Query(ctx, `SELECT name, doc, updated_at FROM meta_entities ORDER BY name`)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []storedDoc
	var stamp int64
	for rows.Next() {
		var d storedDoc
		var doc string
		var at int64
		if err := rows.Scan(&d.Name, &doc, &at); err != nil {
			return nil, 0, err
		}
		d.Doc = []byte(doc)
		d.Custom = !r.IsBuiltin(d.Name)
		stamp = max(stamp, at)
		out = append(out, d)
	}
	return out, stamp, rows.Err()
}

// build merges built-in definitions with stored custom ones.
func (r *Registry) build(docs []storedDoc) (map[string]*Entity, error) {
	next := map[string]*Entity{}
	for name, e := range r.builtin {
		next[name] = e.Clone()
	}
	for _, d := range docs {
		e, err := ParseEntity(d.Doc)
		if err != nil {
			return nil, fmt.Errorf("stored metadata of %s: %w", d.Name, err)
		}
		if base, ok := next[d.Name]; ok {
			// Custom fields of a built-in entity.
			for _, f := range e.Fields {
				f.Custom = true
				base.Fields = append(base.Fields, f)
			}
			continue
		}
		e.Custom = true
		for i := range e.Fields {
			e.Fields[i].Custom = true
		}
		next[d.Name] = e
	}
	lookup := func(n string) *Entity { return next[n] }
	names := make([]string, 0, len(next))
	for n := range next {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := r.validateEntity(next[n], lookup); err != nil {
			return nil, fmt.Errorf("entity %s: %w", n, err)
		}
	}
	return next, nil
}

// Get returns the definition of an entity. The result is shared: do not
// modify it.
func (r *Registry) Get(name string) (*Entity, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.entities[name]
	return e, ok
}

// All returns every entity, sorted by name.
func (r *Registry) All() []*Entity {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*Entity, 0, len(r.entities))
	for _, e := range r.entities {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// CreateEntity validates and stores a custom entity and creates its tables.
func (r *Registry) CreateEntity(ctx context.Context, e *Entity) error {
	if r.IsBuiltin(e.Name) {
		return apperr.Fields(apperr.Field("name", "name_taken", "name", e.Name))
	}
	if _, ok := r.Get(e.Name); ok {
		return apperr.Fields(apperr.Field("name", "name_taken", "name", e.Name))
	}
	e.Custom = true
	for i := range e.Fields {
		e.Fields[i].Custom = true
	}
	return r.change(ctx, e.Name, func(cur map[string]*Entity) (*Entity, error) {
		return e, nil
	})
}

// AddField adds a custom field to an entity (built-in ones too).
func (r *Registry) AddField(ctx context.Context, entity string, f *Field) error {
	return r.change(ctx, entity, func(cur map[string]*Entity) (*Entity, error) {
		e, ok := cur[entity]
		if !ok {
			return nil, apperr.NotFound()
		}
		if e.Field(f.Name) != nil || IsSystemColumn(f.Name) {
			return nil, apperr.Fields(apperr.Field("name", "name_taken", "name", f.Name))
		}
		if b, ok := r.builtin[entity]; ok && b.Field(f.Name) != nil {
			return nil, apperr.Fields(apperr.Field("name", "name_taken", "name", f.Name))
		}
		n := e.Clone()
		f.Custom = true
		n.Fields = append(n.Fields, *f)
		return n, nil
	})
}

// UpdateField replaces a custom field's definition. The type can only change
// between types with the same storage and meaning (text ↔ long_text…).
func (r *Registry) UpdateField(ctx context.Context, entity, name string, f *Field) error {
	return r.change(ctx, entity, func(cur map[string]*Entity) (*Entity, error) {
		e, ok := cur[entity]
		if !ok {
			return nil, apperr.NotFound()
		}
		old := e.Field(name)
		if old == nil {
			return nil, apperr.NotFound()
		}
		if !old.Custom {
			return nil, apperr.Conflict("builtin_field")
		}
		if f.Name != name {
			return nil, apperr.Fields(apperr.Field("name", "cannot_rename"))
		}
		if f.Type != old.Type && !compatible(old.Type, f.Type) {
			return nil, apperr.Fields(apperr.Field("type", "incompatible_type", "from", old.Type, "to", f.Type))
		}
		if f.Type == "subtable" {
			for _, sf := range old.Fields {
				nf := f.SubField(sf.Name)
				if nf != nil && nf.Type != sf.Type && !compatible(sf.Type, nf.Type) {
					return nil, apperr.Fields(apperr.Field("fields", "incompatible_type", "from", sf.Type, "to", nf.Type))
				}
			}
		}
		n := e.Clone()
		f.Custom = true
		*n.Field(name) = *f
		return n, nil
	})
}

func compatible(a, b string) bool {
	group := map[string]int{"text": 1, "long_text": 1, "rich_text": 1, "phone": 1, "email": 1, "url": 1, "barcode": 1, "select": 1,
		"multi_select": 2, "tags": 2}
	return group[a] != 0 && group[a] == group[b]
}

// DeleteField removes a custom field. Its column is renamed, not dropped, so
// the data can be recovered and a new field of the same name starts empty.
func (r *Registry) DeleteField(ctx context.Context, entity, name string) error {
	var removed Field
	return r.change(ctx, entity, func(cur map[string]*Entity) (*Entity, error) {
		e, ok := cur[entity]
		if !ok {
			return nil, apperr.NotFound()
		}
		old := e.Field(name)
		if old == nil {
			return nil, apperr.NotFound()
		}
		if !old.Custom {
			return nil, apperr.Conflict("builtin_field")
		}
		for _, other := range e.Fields {
			if other.Type == "rollup" && other.Source == name {
				return nil, apperr.Conflict("field_in_use", "by", other.Name)
			}
		}
		if e.TitleField == name || (e.Numbering != nil && e.Numbering.Field == name) {
			return nil, apperr.Conflict("field_in_use", "by", entity)
		}
		removed = *old
		n := e.Clone()
		out := n.Fields[:0]
		for _, f := range n.Fields {
			if f.Name != name {
				out = append(out, f)
			}
		}
		n.Fields = out
		return n, nil
	}, func(ctx context.Context, e *Entity) error {
		return retireField(ctx, r.db, r.types, e, &removed)
	})
}

// change applies edit to the current definitions, validates the result,
// stores the custom part and syncs the schema, all in one transaction.
func (r *Registry) change(ctx context.Context, entity string, edit func(cur map[string]*Entity) (*Entity, error), extra ...func(context.Context, *Entity) error) error {
	err := r.db.WithTx(ctx, func(ctx context.Context) error {
		if r.db.Kind == db.Postgres {
			if _, err := r.db.Exec(ctx, `SELECT pg_advisory_xact_lock(7312002)`); err != nil {
				return err
			}
		}
		docs, _, err := r.readDocs(ctx)
		if err != nil {
			return err
		}
		cur, err := r.build(docs)
		if err != nil {
			return err
		}
		n, err := edit(cur)
		if err != nil {
			return err
		}
		cur[n.Name] = n
		if err := r.validateEntity(n, func(s string) *Entity { return cur[s] }); err != nil {
			return err
		}
		doc, err := r.customPart(n)
		if err != nil {
			return err
		}
		now := time.Now().UnixMicro()
		if _, err := r.db.Exec(ctx, `DELETE FROM meta_entities WHERE name = ?`, n.Name); err != nil {
			return err
		}
		if _, err := r.db.Exec(ctx, `INSERT INTO meta_entities (name, custom, doc, updated_at) VALUES (?, ?, ?, ?)`,
			n.Name, BoolToDB(r.db.Dialect, !r.IsBuiltin(n.Name)), string(doc), now); err != nil {
			return err
		}
		if err := SyncEntity(ctx, r.db, r.types, n); err != nil {
			return err
		}
		for _, f := range extra {
			if err := f(ctx, n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return r.Load(ctx)
}

// customPart is what is stored for an entity: the whole definition of a
// custom entity, or only the custom fields of a built-in one.
func (r *Registry) customPart(e *Entity) ([]byte, error) {
	if !r.IsBuiltin(e.Name) {
		return json.Marshal(e)
	}
	var fs []Field
	for _, f := range e.Fields {
		if f.Custom {
			fs = append(fs, f)
		}
	}
	return json.Marshal(&Entity{Name: e.Name, Fields: fs})
}

// SyncAll creates or extends the tables of every entity (on start).
func (r *Registry) SyncAll(ctx context.Context) error {
	return r.db.WithTx(ctx, func(ctx context.Context) error {
		for _, e := range r.All() {
			if err := SyncEntity(ctx, r.db, r.types, e); err != nil {
				return fmt.Errorf("schema sync of %s: %w", e.Name, err)
			}
		}
		return nil
	})
}
