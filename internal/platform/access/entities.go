package access

import "embed"

// Entities holds the definitions of users, departments, regions and roles.
//
//go:embed entities/*.json
var Entities embed.FS
