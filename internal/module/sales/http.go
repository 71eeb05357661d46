package sales

import (
	"net/http"
	"strconv"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/auth"
	"github.com/tenon-crm/tenon/internal/platform/httpapi"
)

// Surface is the module's HTTP routes (GET, read scope): the board and its
// columns, the forecast, the funnel, the cycle and the attainment. Stage
// moves, wins and losses are record actions (POST
// /api/v1/records/opportunities/{id}/actions/move_stage|win|lose).
func (m *Module) Surface() httpapi.Surface { return surface{m} }

type surface struct{ m *Module }

type obj = map[string]any

func (s surface) Routes() []httpapi.Route {
	object := obj{"type": "object"}
	rt := func(path, summary string, q []httpapi.Param, h func(http.ResponseWriter, *http.Request) error) httpapi.Route {
		return httpapi.Route{Method: "GET", Path: path, Scope: auth.ScopeRecordsRead, Tag: "sales", Summary: summary, Query: q,
			Response: object, Errors: []int{400, 401, 403, 404}, Handle: h}
	}
	p := func(name, desc string) httpapi.Param { return httpapi.Param{Name: name, Description: desc} }
	board := []httpapi.Param{p("pipeline", "pipeline id (default pipeline when absent)"), p("filter", "a list filter on opportunities"),
		p("per_stage", "cards per column (default 20, at most 100)"), p("closed_days", "won and lost columns: closed in the last N days (default 90)")}
	return []httpapi.Route{
		rt("/api/v1/sales/board", "The pipeline board: per stage count, amount, weighted amount and the first cards, as the caller may read them", board, s.board),
		rt("/api/v1/sales/board/{stage}", "More cards of one column of the board", append(board, p("page", "page number (1 is the board's own)")), s.column),
		rt("/api/v1/sales/forecast", "Weighted forecast by month or quarter (open by expected close, won by close date)",
			[]httpapi.Param{p("period", "month or quarter"), p("from", "first day (YYYY-MM-DD)"), p("to", "day after the last (YYYY-MM-DD)"),
				p("user", "only this owner's opportunities"), p("department", "only opportunities of this team (sub-departments included)")}, s.forecast),
		rt("/api/v1/sales/funnel", "Lead-to-win funnel of the leads and opportunities created in a range",
			[]httpapi.Param{p("pipeline", "pipeline id"), p("from", "first day"), p("to", "day after the last")}, s.funnel),
		rt("/api/v1/sales/cycle", "Average days from creation to win, by product line or region",
			[]httpapi.Param{p("group_by", "product_line or region"), p("from", "first day"), p("to", "day after the last")}, s.cycle),
		rt("/api/v1/sales/attainment", "Targets of a period with the amount won against each",
			[]httpapi.Param{p("period", "month, quarter or year"), p("period_start", "first day of the period"), p("department", "a team: its departments' and users' targets")}, s.attainment),
	}
}

func (s surface) boardOptions(r *http.Request) (BoardOptions, error) {
	q := r.URL.Query()
	o := BoardOptions{Pipeline: q.Get("pipeline"), Filter: q.Get("filter")}
	var err error
	if o.PerStage, err = httpapi.IntQuery(r, "per_stage", 0); err != nil {
		return o, err
	}
	o.ClosedDays, err = httpapi.IntQuery(r, "closed_days", 0)
	return o, err
}

func (s surface) board(w http.ResponseWriter, r *http.Request) error {
	if err := s.m.ensureInstalled(r.Context()); err != nil {
		return err
	}
	o, err := s.boardOptions(r)
	if err != nil {
		return err
	}
	res, err := s.m.Board(r.Context(), httpapi.Caller(r), o)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, res)
	return nil
}

func (s surface) column(w http.ResponseWriter, r *http.Request) error {
	o, err := s.boardOptions(r)
	if err != nil {
		return err
	}
	page, err := httpapi.IntQuery(r, "page", 2)
	if err != nil {
		return err
	}
	res, err := s.m.ColumnPage(r.Context(), httpapi.Caller(r), o, r.PathValue("stage"), page)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, res)
	return nil
}

func idQuery(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, apperr.Invalid("sales_bad_parameter", "name", name)
	}
	return n, nil
}

func (s surface) forecast(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	user, err := idQuery(r, "user")
	if err != nil {
		return err
	}
	dept, err := idQuery(r, "department")
	if err != nil {
		return err
	}
	res, err := s.m.Forecast(r.Context(), httpapi.Caller(r), ForecastOptions{Period: q.Get("period"), From: q.Get("from"), To: q.Get("to"), User: user, Department: dept})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, res)
	return nil
}

func (s surface) funnel(w http.ResponseWriter, r *http.Request) error {
	if err := s.m.ensureInstalled(r.Context()); err != nil {
		return err
	}
	q := r.URL.Query()
	res, err := s.m.Funnel(r.Context(), httpapi.Caller(r), q.Get("pipeline"), q.Get("from"), q.Get("to"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, res)
	return nil
}

func (s surface) cycle(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	res, err := s.m.Cycle(r.Context(), httpapi.Caller(r), q.Get("group_by"), q.Get("from"), q.Get("to"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, obj{"group_by": q.Get("group_by"), "items": res})
	return nil
}

func (s surface) attainment(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	dept, err := idQuery(r, "department")
	if err != nil {
		return err
	}
	res, err := s.m.Attainment(r.Context(), httpapi.Caller(r), q.Get("period"), q.Get("period_start"), dept)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, obj{"items": res})
	return nil
}
