package httpapi

import "github.com/tenon-crm/tenon/internal/platform/apperr"

var (
	errNoRoute   = apperr.NotFound()
	errNotReady  = apperr.New(apperr.ErrUnavailable, "not_ready")
	errAdminOnly = apperr.Forbidden("admin_only")
	errBadID     = apperr.NotFound()
)
