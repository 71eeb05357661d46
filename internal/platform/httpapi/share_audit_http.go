package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/audit"
	"github.com/tenon-crm/tenon/internal/platform/auth"
)

func (s *Server) shareInput(r *http.Request) (int64, map[string]any, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, nil, err
	}
	b, err := readBody(r, 16<<10)
	if err != nil {
		return 0, nil, err
	}
	in, err := decodeObject(b)
	return id, in, err
}

func (s *Server) share(w http.ResponseWriter, r *http.Request) error {
	id, in, err := s.shareInput(r)
	if err != nil {
		return err
	}
	out, err := s.Records.ShareRecord(r.Context(), principal(r), r.PathValue("entity"), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

func (s *Server) unshare(w http.ResponseWriter, r *http.Request) error {
	id, in, err := s.shareInput(r)
	if err != nil {
		return err
	}
	out, err := s.Records.UnshareRecord(r.Context(), principal(r), r.PathValue("entity"), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

func (s *Server) listShares(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	out, err := s.Records.Shares(r.Context(), principal(r), r.PathValue("entity"), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

// loginEvents lists sign-in events for administrators:
// ?kind=login_failed&login=&from=&to=&before=.
func (s *Server) loginEvents(w http.ResponseWriter, r *http.Request) error {
	if !principal(r).Admin {
		return errAdminOnly
	}
	q := r.URL.Query()
	eq := auth.EventQuery{Kind: q.Get("kind"), Login: q.Get("login")}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return apperr.Invalid("bad_request")
		}
		eq.BeforeID = n
	}
	for name, dst := range map[string]*time.Time{"from": &eq.From, "to": &eq.To} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return apperr.Invalid("bad_request")
			}
			*dst = t
		}
	}
	events, err := s.Auth.Events(r.Context(), eq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": events})
	return nil
}

// auditSearch lets administrators search the whole audit trail (P8):
// ?entity=&record=&actor=&from=&to= (RFC 3339) &before= (paging by id).
func (s *Server) auditSearch(w http.ResponseWriter, r *http.Request) error {
	if !principal(r).Admin {
		return errAdminOnly
	}
	q := r.URL.Query()
	var aq audit.Query
	aq.Entity = q.Get("entity")
	num := func(name string) (int64, error) {
		v := q.Get(name)
		if v == "" {
			return 0, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, apperr.Invalid("bad_request")
		}
		return n, nil
	}
	var err error
	if aq.RecordID, err = num("record"); err != nil {
		return err
	}
	if aq.Actor, err = num("actor"); err != nil {
		return err
	}
	if aq.BeforeID, err = num("before"); err != nil {
		return err
	}
	for name, dst := range map[string]*time.Time{"from": &aq.From, "to": &aq.To} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return apperr.Invalid("bad_request")
			}
			*dst = t
		}
	}
	entries, err := audit.Find(r.Context(), s.DB, aq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": entries})
	return nil
}
