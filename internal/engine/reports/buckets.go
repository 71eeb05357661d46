package reports

import (
	"strconv"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Bucket labels (records.Bucket*): day and week YYYY-MM-DD (a week by its
// Monday), month YYYY-MM, quarter YYYY-Qn, year YYYY. These functions turn
// labels into date ranges and back, for comparisons and drill-down.

// bucketStartOf is the first day of the bucket holding day t.
func bucketStartOf(bucket string, t time.Time) time.Time {
	y, m, d := t.Date()
	switch bucket {
	case records.BucketWeek:
		wd := (int(t.Weekday()) + 6) % 7 // Monday 0
		return time.Date(y, m, d-wd, 0, 0, 0, 0, time.UTC)
	case records.BucketMonth:
		return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	case records.BucketQuarter:
		return time.Date(y, m-(m-1)%3, 1, 0, 0, 0, 0, time.UTC)
	case records.BucketYear:
		return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// bucketLabel is the label of the bucket holding day t.
func bucketLabel(bucket string, t time.Time) string {
	t = bucketStartOf(bucket, t)
	switch bucket {
	case records.BucketMonth:
		return t.Format("2006-01")
	case records.BucketQuarter:
		return t.Format("2006") + "-Q" + strconv.Itoa((int(t.Month())+2)/3)
	case records.BucketYear:
		return t.Format("2006")
	}
	return t.Format(time.DateOnly)
}

// bucketStart parses a label to its bucket's first day.
func bucketStart(bucket, label string) (time.Time, bool) {
	var t time.Time
	var err error
	switch bucket {
	case records.BucketDay, records.BucketWeek:
		t, err = time.Parse(time.DateOnly, label)
	case records.BucketMonth:
		t, err = time.Parse("2006-01", label)
	case records.BucketQuarter:
		y, q, ok := strings.Cut(label, "-Q")
		n, err2 := strconv.Atoi(q)
		if !ok || err2 != nil || n < 1 || n > 4 {
			return t, false
		}
		t, err = time.Parse("2006", y)
		t = t.AddDate(0, 3*(n-1), 0)
	case records.BucketYear:
		t, err = time.Parse("2006", label)
	default:
		return t, false
	}
	return t, err == nil
}

// bucketNext is the first day after the bucket starting at t.
func bucketNext(bucket string, t time.Time) time.Time {
	switch bucket {
	case records.BucketWeek:
		return t.AddDate(0, 0, 7)
	case records.BucketMonth:
		return t.AddDate(0, 1, 0)
	case records.BucketQuarter:
		return t.AddDate(0, 3, 0)
	case records.BucketYear:
		return t.AddDate(1, 0, 0)
	}
	return t.AddDate(0, 0, 1)
}

// shiftBucket is the start of the bucket compared with the one starting at
// t: the one before, or the same one a year earlier (52 weeks for weeks).
func shiftBucket(bucket string, t time.Time, period string) time.Time {
	if period == PeriodYear {
		if bucket == records.BucketWeek {
			return t.AddDate(0, 0, -364)
		}
		return t.AddDate(-1, 0, 0)
	}
	return bucketStartOf(bucket, t.AddDate(0, 0, -1))
}

// mustDay parses a checked YYYY-MM-DD.
func mustDay(s string) time.Time {
	t, _ := time.Parse(time.DateOnly, s)
	return t
}
