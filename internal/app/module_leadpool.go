package app

import (
	"github.com/tenon-crm/tenon/internal/module/leadpool"
	"github.com/tenon-crm/tenon/internal/platform/httpapi"
)

// The leadpool module (internal/module/leadpool): its entity definitions, and its
// services, hooks, actions, jobs and routes built on the engines.

// leadpoolEntities lists the module's entity files (added before the records
// service is built).
func leadpoolEntities() []module { return []module{{fs: leadpool.Entities, dir: "entities"}} }

// wireLeadPool builds the module on the records service and the engines and
// adds its routes.
func (a *App) wireLeadPool(surfaces *[]httpapi.Surface) error {
	a.LeadPool = leadpool.New(leadpool.Config{DB: a.DB, Records: a.Records, Jobs: a.Jobs, Notify: a.Notify, Now: a.Cfg.Now, Log: a.Log})
	a.Access.AddBaseline(leadpool.Grants()...)
	*surfaces = append(*surfaces, a.LeadPool.Surface())
	return nil
}

// leadPoolService is the module's service as the App holds it.
type leadPoolService = leadpool.Service
