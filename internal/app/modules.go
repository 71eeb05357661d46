package app

import (
	"io/fs"
	"net/http"

	"github.com/tenon-crm/tenon/web"
)

// module is a business module's contribution of entity definitions. The
// business modules (crm, sales, quoting…) register here as they arrive.
type module struct {
	fs  fs.FS
	dir string
}

func modules() []module { return nil }

// uiHandler serves the embedded web app.
func uiHandler() http.Handler { return web.Handler() }
