package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
)

// The job queue, for administrators: what is queued, running, failed and
// dead (the dead letter list), retry and cancel, and the schedules.

func (s *Server) jobsRoutes() {
	m := s.mux
	admin := func(h func(http.ResponseWriter, *http.Request) error) http.Handler {
		return s.authed("admin", func(w http.ResponseWriter, r *http.Request) error {
			if !principal(r).Admin {
				return errAdminOnly
			}
			if s.Jobs == nil {
				return apperr.NotFound()
			}
			return h(w, r)
		})
	}
	m.Handle("GET /api/v1/jobs", admin(s.listJobs))
	m.Handle("GET /api/v1/jobs/stats", admin(s.jobStats))
	m.Handle("GET /api/v1/jobs/schedules", admin(s.listSchedules))
	m.Handle("GET /api/v1/jobs/{id}", admin(s.getJob))
	m.Handle("POST /api/v1/jobs/{id}/retry", admin(s.jobAction((*jobs.Queue).Retry)))
	m.Handle("POST /api/v1/jobs/{id}/cancel", admin(s.jobAction((*jobs.Queue).Cancel)))
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := intParam(r, "limit", 50)
	if err != nil {
		return err
	}
	f := jobs.Filter{Status: q.Get("status"), Kind: q.Get("kind"), Limit: limit}
	if b := q.Get("before"); b != "" {
		if f.Before, err = strconv.ParseInt(b, 10, 64); err != nil {
			return apperr.Invalid("bad_cursor")
		}
	}
	page, err := s.Jobs.List(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) jobStats(w http.ResponseWriter, r *http.Request) error {
	st, err := s.Jobs.Stats(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) listSchedules(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Jobs.ListSchedules(r.Context())
	if err != nil {
		return err
	}
	if list == nil {
		list = []jobs.Schedule{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

func jobID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, apperr.NotFound()
	}
	return id, nil
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) error {
	id, err := jobID(r)
	if err != nil {
		return err
	}
	j, err := s.Jobs.Get(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, j)
	return nil
}

func (s *Server) jobAction(act func(*jobs.Queue, context.Context, int64) (jobs.Job, error)) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := jobID(r)
		if err != nil {
			return err
		}
		j, err := act(s.Jobs, r.Context(), id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, j)
		return nil
	}
}
