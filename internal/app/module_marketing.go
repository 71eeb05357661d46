package app

import (
	"github.com/tenon-crm/tenon/internal/module/marketing"
	"github.com/tenon-crm/tenon/internal/platform/httpapi"
)

// The marketing module (internal/module/marketing): its entity definitions, and its
// services, hooks, actions, jobs and routes built on the engines.

// marketingModule is the type of App.Marketing.
type marketingModule = marketing.Service

// marketingEntities lists the module's entity files (added before the records
// service is built).
func marketingEntities() []module { return []module{{fs: marketing.Entities, dir: "entities"}} }

// wireMarketing builds the module on the records service and the engines and
// adds its routes.
func (a *App) wireMarketing(surfaces *[]httpapi.Surface) error {
	a.Marketing = marketing.New(marketing.Config{Records: a.Records, Now: a.Cfg.Now})
	*surfaces = append(*surfaces, a.Marketing.Surface())
	return nil
}
