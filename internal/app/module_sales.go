package app

import (
	"github.com/tenon-crm/tenon/internal/module/sales"
	"github.com/tenon-crm/tenon/internal/platform/httpapi"
)

// The sales module (internal/module/sales): its entity definitions, and its
// services, hooks, actions, jobs and routes built on the engines.

// salesEntities lists the module's entity files (added before the records
// service is built).
func salesEntities() []module { return []module{{fs: sales.Entities, dir: "entities"}} }

// wireSales builds the module on the records service and the engines and
// adds its routes. Its defaults (the equipment pipeline, the follow-up
// rule) are installed by a.Sales.Install after migrations, and on the
// first use of the sales routes.
func (a *App) wireSales(surfaces *[]httpapi.Surface) error {
	a.Sales = sales.New(sales.Config{DB: a.DB, Records: a.Records, Now: a.Cfg.Now, Log: a.Log})
	a.Access.AddBaseline(sales.Grants()...)
	*surfaces = append(*surfaces, a.Sales.Surface())
	return nil
}

// salesModule is the type of App.Sales.
type salesModule = sales.Module
