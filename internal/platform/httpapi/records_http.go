package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

func systemPrincipal() *access.Principal { return access.System() }

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errBadID
	}
	return id, nil
}

func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func intParam(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, apperr.Invalid("bad_paging", "max", records.MaxPerPage)
	}
	return n, nil
}

func (s *Server) listRecords(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	page, err := intParam(r, "page", 1)
	if err != nil {
		return err
	}
	per, err := intParam(r, "per_page", 50)
	if err != nil {
		return err
	}
	p := principal(r)
	entity := r.PathValue("entity")
	fields := splitList(q.Get("fields"))
	res, err := s.Records.List(r.Context(), p, entity, records.ListOptions{
		Filter: q.Get("filter"), Sort: q.Get("sort"), Page: page, PerPage: per, Fields: fields,
		Q: q.Get("q"), Expand: splitList(q.Get("expand")), Count: q.Get("count"), Deleted: q.Get("deleted") == "true",
	})
	if err != nil {
		return err
	}
	items := s.Records.PublicAll(p, entity, res.Items, fields)
	e, _ := s.Meta.Get(entity)
	var total any
	if res.HasTotal {
		total = res.Total
	}
	writeList(w, e, items, res.Page, res.PerPage, total, res.HasTotal && res.TotalExact)
	return nil
}

// searchAll is the global search box: q in every readable entity, a few
// titles each.
func (s *Server) searchAll(w http.ResponseWriter, r *http.Request) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" {
		return apperr.Invalid("bad_search", "reason", "q is required")
	}
	per, err := intParam(r, "per_entity", 5)
	if err != nil {
		return err
	}
	groups, err := s.Records.SearchAll(r.Context(), principal(r), q, per)
	if err != nil {
		return err
	}
	if groups == nil {
		groups = []records.SearchGroup{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": groups})
	return nil
}

// IdempotencyTTL is how long a stored response answers a repeated
// Idempotency-Key.
const IdempotencyTTL = 24 * time.Hour

// PurgeIdempotencyKeys deletes stored responses older than IdempotencyTTL
// (run by the hourly housekeeping job).
func (s *Server) PurgeIdempotencyKeys(ctx context.Context) error {
	_, err := s.DB.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`, time.Now().Add(-IdempotencyTTL).UnixMicro())
	return err
}

func (s *Server) writeRecord(w http.ResponseWriter, r *http.Request, status int, entity string, rec records.Record) {
	id := strconv.FormatInt(rec.ID(), 10)
	w.Header().Set("ETag", `"`+strconv.FormatInt(rec.Version(), 10)+`"`)
	if status == http.StatusCreated {
		w.Header().Set("Location", "/api/v1/records/"+entity+"/"+id)
	}
	e, _ := s.Meta.Get(entity)
	writeOne(w, status, e, s.Records.Public(principal(r), entity, rec, nil))
}

func (s *Server) getRecord(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	entity := r.PathValue("entity")
	q := r.URL.Query()
	rec, err := s.Records.Get(r.Context(), principal(r), entity, id, records.GetOptions{
		Fields: splitList(q.Get("fields")), Expand: splitList(q.Get("expand")), Deleted: q.Get("deleted") == "true"})
	if err != nil {
		return err
	}
	w.Header().Set("ETag", `"`+strconv.FormatInt(rec.Version(), 10)+`"`)
	e, _ := s.Meta.Get(entity)
	writeOne(w, http.StatusOK, e, s.Records.Public(principal(r), entity, rec, splitList(q.Get("fields"))))
	return nil
}

func (s *Server) createRecord(w http.ResponseWriter, r *http.Request) error {
	b, err := readBody(r, maxBody) // the raw body is also the idempotency hash input
	if err != nil {
		return err
	}
	input, err := decodeObject(b)
	if err != nil {
		return err
	}
	entity := r.PathValue("entity")
	p := principal(r)
	create := func(ctx context.Context) (int, []byte, http.Header, error) {
		rec, err := s.Records.Create(ctx, p, entity, input)
		if err != nil {
			return 0, nil, nil, err
		}
		body, _ := json.Marshal(s.Records.Public(p, entity, rec, nil))
		h := http.Header{}
		h.Set("ETag", `"`+strconv.FormatInt(rec.Version(), 10)+`"`)
		h.Set("Location", "/api/v1/records/"+entity+"/"+strconv.FormatInt(rec.ID(), 10))
		return http.StatusCreated, body, h, nil
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		status, body, h, err := create(r.Context())
		if err != nil {
			return err
		}
		return replay(w, status, body, h)
	}
	return s.idempotent(w, r, key, b, create)
}

func replay(w http.ResponseWriter, status int, body []byte, h http.Header) error {
	for k, v := range h {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}

// idempotent runs fn at most once per (user, key) within 24 hours: the
// stored response is written in the same transaction as fn's effects, and a
// repeat with the same body gets it back; with another body, 422.
func (s *Server) idempotent(w http.ResponseWriter, r *http.Request, key string, body []byte,
	fn func(ctx context.Context) (int, []byte, http.Header, error)) error {
	if len(key) > 200 {
		return apperr.Invalid("bad_request")
	}
	p := principal(r)
	sum := sha256.Sum256(append([]byte(r.Method+" "+r.URL.Path+"\n"), body...))
	hash := hex.EncodeToString(sum[:])
	ctx := r.Context()
	lookup := func(ctx context.Context) (bool, error) {
		var h string
		var status int
		var hdr string
		var stored []byte
		var created int64
		err := s.DB.QueryRow(ctx, `SELECT request_hash, status, headers, body, created_at FROM idempotency_keys WHERE user_id = ? AND key = ?`,
			p.UserID, key).Scan(&h, &status, &hdr, &stored, &created)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && time.Since(time.UnixMicro(created)) > IdempotencyTTL) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if h != hash {
			return true, apperr.Fields(apperr.Field("Idempotency-Key", "idempotency_mismatch"))
		}
		var hh http.Header
		_ = json.Unmarshal([]byte(hdr), &hh)
		return true, replay(w, status, stored, hh)
	}
	if done, err := lookup(ctx); done || err != nil {
		return err
	}
	var status int
	var out []byte
	var hdr http.Header
	err := s.DB.WithTx(ctx, func(ctx context.Context) error {
		// Only an expired key may be replaced; a live one makes the INSERT
		// below fail, and the caller gets the first response.
		if _, err := s.DB.Exec(ctx, `DELETE FROM idempotency_keys WHERE user_id = ? AND key = ? AND created_at < ?`,
			p.UserID, key, time.Now().Add(-IdempotencyTTL).UnixMicro()); err != nil {
			return err
		}
		var err error
		status, out, hdr, err = fn(ctx)
		if err != nil {
			return err
		}
		hj, _ := json.Marshal(hdr)
		_, err = s.DB.Exec(ctx, `INSERT INTO idempotency_keys (user_id, key, request_hash, status, headers, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			p.UserID, key, hash, status, string(hj), out, time.Now().UnixMicro())
		return err
	})
	if err != nil {
		if db.IsUniqueViolation(err) { // a concurrent twin won: answer with its response
			if done, err := lookup(ctx); done || err != nil {
				return err
			}
		}
		return err
	}
	return replay(w, status, bytes.Clone(out), hdr)
}

// ifMatch parses If-Match: "7" (0 when absent).
func ifMatch(r *http.Request) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	h = strings.TrimPrefix(h, "W/")
	n, err := strconv.ParseInt(strings.Trim(h, `"`), 10, 64)
	if err != nil || n <= 0 {
		return 0, apperr.Invalid("bad_if_match")
	}
	return n, nil
}

func (s *Server) patchRecord(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ver, err := ifMatch(r)
	if err != nil {
		return err
	}
	input, err := readObject(r)
	if err != nil {
		return err
	}
	entity := r.PathValue("entity")
	rec, err := s.Records.Update(r.Context(), principal(r), entity, id, input, ver)
	if err != nil {
		return err
	}
	s.writeRecord(w, r, http.StatusOK, entity, rec)
	return nil
}

func (s *Server) deleteRecord(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ver, err := ifMatch(r)
	if err != nil {
		return err
	}
	if err := s.Records.Delete(r.Context(), principal(r), r.PathValue("entity"), id, ver); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) restoreRecord(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	entity := r.PathValue("entity")
	rec, err := s.Records.Restore(r.Context(), principal(r), entity, id)
	if err != nil {
		return err
	}
	s.writeRecord(w, r, http.StatusOK, entity, rec)
	return nil
}

func (s *Server) history(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	entries, err := s.Records.History(r.Context(), principal(r), r.PathValue("entity"), id, before)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": entries})
	return nil
}

func (s *Server) action(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	b, err := readBody(r, maxBody)
	if err != nil {
		return err
	}
	input := map[string]any{}
	if len(bytes.TrimSpace(b)) > 0 {
		if input, err = decodeObject(b); err != nil {
			return err
		}
	}
	entity := r.PathValue("entity")
	rec, err := s.Records.RunAction(r.Context(), principal(r), entity, id, r.PathValue("action"), input)
	if err != nil {
		return err
	}
	if rec == nil {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	s.writeRecord(w, r, http.StatusOK, entity, rec)
	return nil
}

func (s *Server) upsert(w http.ResponseWriter, r *http.Request) error {
	input, err := readObject(r)
	if err != nil {
		return err
	}
	entity := r.PathValue("entity")
	rec, created, err := s.Records.Upsert(r.Context(), principal(r), entity, r.PathValue("source"), r.PathValue("external_id"), input)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	s.writeRecord(w, r, status, entity, rec)
	return nil
}

func (s *Server) changes(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := intParam(r, "limit", 200)
	if err != nil {
		return err
	}
	page, err := s.Records.Changes(r.Context(), principal(r), q.Get("since"), splitList(q.Get("entity")), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}
