package app

import (
	"context"
	"io/fs"
	"net/http"

	"github.com/tenon-crm/tenon/internal/platform/httpapi"

	"github.com/tenon-crm/tenon/web"
)

// module is a business module's contribution of entity definitions. Each
// business module has a file module_<name>.go here with its entity list and
// its wiring (see app.Open).
type module struct {
	fs  fs.FS
	dir string
}

func modules() []module {
	var ms []module
	for _, m := range [][]module{crmEntities(), leadpoolEntities(), salesEntities(), marketingEntities(), gradingEntities(), quotingEntities()} {
		ms = append(ms, m...)
	}
	return ms
}

// wireModules builds the business modules in dependency order: crm first
// (leads, accounts, contacts, activities), then what builds on it.
func (a *App) wireModules(surfaces *[]httpapi.Surface) error {
	for _, wire := range []func(*[]httpapi.Surface) error{a.wireCRM, a.wireLeadPool, a.wireSales, a.wireMarketing, a.wireGrading, a.wireQuoting} {
		if err := wire(surfaces); err != nil {
			return err
		}
	}
	return nil
}

// installModules creates what the business modules ship (the default
// pipeline and rules, grade rules) when it is absent, and keeps their
// schedules. It is idempotent; Migrate runs it, so every start does.
func (a *App) installModules(ctx context.Context) error {
	for _, install := range []func(context.Context) error{a.LeadPool.Start, a.Sales.Install, a.Grading.Start, a.installQuoting, a.Printing.Install, a.installReports} {
		if err := install(ctx); err != nil {
			return err
		}
	}
	return nil
}

// uiHandler serves the embedded web app.
func uiHandler() http.Handler { return web.Handler() }
