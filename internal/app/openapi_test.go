package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
)

// openAPIFile is the committed OpenAPI document of the built-in entities,
// from which the web app's API types are generated.
const openAPIFile = "../../docs/openapi.json"

// TestOpenAPIIsCommitted fails when the committed document differs from the
// one the code generates; TENON_UPDATE_OPENAPI=1 rewrites it.
func TestOpenAPIIsCommitted(t *testing.T) {
	ctx := context.Background()
	a, err := Open(ctx, Config{DSN: dbtest.SQLite(t), DataDir: t.TempDir(), AdminPassword: "openapi-pass-1",
		Stdout: io.Discard, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(a.API.Document("1")); err != nil {
		t.Fatal(err)
	}
	path := filepath.FromSlash(openAPIFile)
	if os.Getenv("TENON_UPDATE_OPENAPI") == "1" {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	have, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(have, buf.Bytes()) {
		t.Fatalf("%s is stale: run TENON_UPDATE_OPENAPI=1 go test ./internal/app/ and commit it (and regenerate the web app's API types)", openAPIFile)
	}
}
