package app

import (
	"github.com/tenon-crm/tenon/internal/engine/printing"
	"github.com/tenon-crm/tenon/internal/platform/httpapi"
)

// The print-template engine (internal/engine/printing): templates are
// records of print_templates; records print to PDF through them.

// wirePrinting builds the engine on the records and files services and
// adds its routes. Its shipped templates are installed by
// a.Printing.Install after migrations (installModules).
func (a *App) wirePrinting(surfaces *[]httpapi.Surface) {
	a.Printing = printing.New(printing.Config{DB: a.DB, Records: a.Records, Files: a.Files, Now: a.Cfg.Now, Log: a.Log})
	*surfaces = append(*surfaces, a.Printing.Surface())
}
