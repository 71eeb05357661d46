package client

import (
	"context"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// ExportOptions are the parameters of an export: those of a list, and
// the format.
type ExportOptions struct {
	// Format is "csv" (default; UTF-8 with BOM, CRLF) or "xlsx".
	Format string
	Filter string
	Sort   string
	Q      string
	// Fields are the columns in order (default: every readable field).
	Fields []string
}

// Download is an export being received: read it to the end (a transfer
// the server had to cut short ends in an error, never in a short file
// that looks complete) and close it.
type Download struct {
	// Name is the file name the server suggests
	// (<entity label>-YYYYMMDD-HHMMSS.csv).
	Name        string
	ContentType string
	body        io.ReadCloser
}

func (d *Download) Read(p []byte) (int, error) { return d.body.Read(p) }

// Close releases the connection.
func (d *Download) Close() error { return d.body.Close() }

// Export downloads the records of entity the caller may see — the rows of
// the list with the same filter, sort and q, the fields they may read — as
// a file, streamed as the server writes it. Problems with the request
// (a bad filter, a hidden field, no export right) are an *Error, before
// any byte.
func (c *Client) Export(ctx context.Context, entity string, o ExportOptions) (*Download, error) {
	q := url.Values{}
	for k, v := range map[string]string{"format": o.Format, "filter": o.Filter, "sort": o.Sort, "q": o.Q,
		"fields": strings.Join(o.Fields, ",")} {
		if v != "" {
			q.Set(k, v)
		}
	}
	res, err := c.send(ctx, request{method: http.MethodGet, path: "/records/" + seg(entity) + "/export", query: q,
		header: http.Header{"Accept": {"text/csv, application/vnd.openxmlformats-officedocument.spreadsheetml.sheet, application/problem+json"}}})
	if err != nil {
		return nil, err
	}
	d := &Download{ContentType: res.Header.Get("Content-Type"), body: res.Body}
	if _, params, err := mime.ParseMediaType(res.Header.Get("Content-Disposition")); err == nil {
		d.Name = params["filename"] // filename* (UTF-8) when present
	}
	return d, nil
}
