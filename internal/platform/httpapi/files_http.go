package httpapi

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/files"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

func (s *Server) uploadFile(w http.ResponseWriter, r *http.Request) error {
	limit := s.Files.MaxSize()
	r.Body = http.MaxBytesReader(w, r.Body, limit+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return apperr.Invalid("bad_request")
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return apperr.Fields(apperr.Field("file", "required"))
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return apperr.New(apperr.ErrTooLarge, "file_too_large", "max", limit)
			}
			return apperr.Invalid("bad_request")
		}
		if part.FormName() != "file" {
			part.Close()
			continue
		}
		f, err := s.Files.Upload(r.Context(), part.FileName(), part, principal(r).UserID)
		part.Close()
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return apperr.New(apperr.ErrTooLarge, "file_too_large", "max", limit)
			}
			return err
		}
		writeJSON(w, http.StatusCreated, map[string]any{"id": f.ID, "name": f.Name, "size": f.Size, "content_type": f.ContentType, "sha256": f.SHA256})
		return nil
	}
}

// downloadFile serves a file to whoever may read a record that holds it.
// A file held by no record is readable by its uploader only (to preview
// before saving); everyone else gets 404.
func (s *Server) downloadFile(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	id := r.PathValue("id")
	f, err := s.Files.Get(r.Context(), id)
	if err != nil {
		return err
	}
	refs, err := s.Files.Refs(r.Context(), id)
	if err != nil {
		return err
	}
	allowed := len(refs) == 0 && f.CreatedBy == p.UserID
	for _, ref := range refs {
		if allowed {
			break
		}
		rec, err := s.Records.Get(r.Context(), p, ref.Entity, ref.RecordID, records.GetOptions{})
		if err != nil {
			continue
		}
		pub := s.Records.Public(p, ref.Entity, rec, nil)
		allowed = holds(pub, ref.Field, id)
	}
	if !allowed {
		return apperr.NotFound()
	}
	_, rc, err := s.Files.Open(r.Context(), id)
	if err != nil {
		return err
	}
	defer rc.Close()
	inline := files.IsImage(f.ContentType)
	ct := f.ContentType
	if !inline {
		ct = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", files.ContentDisposition(f.Name, inline))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, max-age=3600")
	h.Set("ETag", `"`+f.SHA256+`"`)
	h.Set("Content-Length", strconv.FormatInt(f.Size, 10))
	http.ServeContent(w, r, "", f.CreatedAt, rc)
	return nil
}

// holds reports whether the visible record still shows the file in field
// ("field" or "subtable.field"): a hidden field does not grant access.
func holds(pub records.Record, field, id string) bool {
	for i := 0; i < len(field); i++ {
		if field[i] == '.' {
			rows, _ := pub[field[:i]].([]records.Record)
			for _, row := range rows {
				if row[field[i+1:]] == id {
					return true
				}
			}
			return false
		}
	}
	return pub[field] == id
}
