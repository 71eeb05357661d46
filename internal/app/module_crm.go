package app

import (
	"github.com/tenon-crm/tenon/internal/module/crm"
	"github.com/tenon-crm/tenon/internal/platform/httpapi"
)

// The crm module (internal/module/crm): its entity definitions, and its
// services, hooks, actions, jobs and routes built on the engines.

// crmModule is the App's handle on the module (App.CRM).
type crmModule = crm.Module

// crmEntities lists the module's entity files (added before the records
// service is built).
func crmEntities() []module { return []module{{fs: crm.Entities, dir: "entities"}} }

// wireCRM builds the module on the records service and the engines and
// adds its routes.
func (a *App) wireCRM(surfaces *[]httpapi.Surface) error {
	a.CRM = crm.New(crm.Config{DB: a.DB, Records: a.Records, Access: a.Access, Now: a.Cfg.Now, Log: a.Log})
	*surfaces = append(*surfaces, a.CRM.Surface())
	return nil
}
