package app

import (
	"github.com/tenon-crm/tenon/internal/module/grading"
	"github.com/tenon-crm/tenon/internal/platform/httpapi"
)

// The grading module (internal/module/grading): its entity definitions, and its
// services, hooks, actions, jobs and routes built on the engines.

// gradingModule is the type of App.Grading.
type gradingModule = grading.Service

// gradingEntities lists the module's entity files (added before the records
// service is built).
func gradingEntities() []module { return []module{{fs: grading.Entities, dir: "entities"}} }

// wireGrading builds the module on the records service and the engines and
// adds its routes.
func (a *App) wireGrading(surfaces *[]httpapi.Surface) error {
	a.Grading = grading.New(grading.Config{DB: a.DB, Records: a.Records, Jobs: a.Jobs, Now: a.Cfg.Now, Log: a.Log})
	*surfaces = append(*surfaces, a.Grading.Surface())
	return nil
}
