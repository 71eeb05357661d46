package records

import (
	"context"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// TestBucketSQLiteShanghai checks SQLite's day and month buckets of a
// datetime, which cut most times from the stored text, against Go's own
// conversion to Asia/Shanghai, hour by hour over two years (a leap year's
// February and every month's end included) plus the last second before
// and the first at each 16:00 UTC.
func TestBucketSQLiteShanghai(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, dbtest.SQLite(t), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	q := "SELECT " + bucketSQL(d, "x", true, BucketDay) + ", " + bucketSQL(d, "x", true, BucketMonth) + " FROM (SELECT ? AS x)"
	check := func(at time.Time) {
		t.Helper()
		var day, month string
		if err := d.QueryRow(ctx, q, meta.TimeToDB(d.Dialect, at)).Scan(&day, &month); err != nil {
			t.Fatal(err)
		}
		local := at.In(shanghai)
		if day != local.Format(time.DateOnly) || month != local.Format("2006-01") {
			t.Fatalf("%s: day %s month %s, want %s %s", at.Format(time.RFC3339Nano), day, month, local.Format(time.DateOnly), local.Format("2006-01"))
		}
	}
	start := time.Date(2027, 12, 1, 0, 0, 0, 0, time.UTC)
	for at := start; at.Before(start.AddDate(2, 1, 0)); at = at.Add(time.Hour) {
		check(at)
		if at.Hour() == 16 {
			check(at.Add(-time.Microsecond))
		}
	}
}
