package app

import (
	"io/fs"
	"net/http"
)

// module is a business module's contribution of entity definitions. The
// business modules (crm, sales, quoting…) register here as they arrive.
type module struct {
	fs  fs.FS
	dir string
}

func modules() []module { return nil }

// uiHandler serves the web app once it exists (the web issue embeds it).
func uiHandler() http.Handler { return nil }
