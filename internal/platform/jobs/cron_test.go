package jobs_test

import (
	"testing"
	"time"
	_ "time/tzdata" // the binary embeds it too (cmd/tenon)

	"github.com/tenon-crm/tenon/internal/platform/jobs"
)

func shanghai(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("Asia/Shanghai", 8*3600)
	}
	return loc
}

func TestCronNext(t *testing.T) {
	loc := shanghai(t)
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04:05", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// 2026-03-09 is a Monday.
	tests := []struct {
		name, spec, from string
		want             []string // successive firings
	}{
		{"every minute", "* * * * *", "2026-03-09 10:00:30", []string{"2026-03-09 10:01:00", "2026-03-09 10:02:00"}},
		{"strictly after", "*/15 * * * *", "2026-03-09 10:15:00", []string{"2026-03-09 10:30:00", "2026-03-09 10:45:00", "2026-03-09 11:00:00"}},
		{"seconds before", "*/15 * * * *", "2026-03-09 10:14:59", []string{"2026-03-09 10:15:00"}},
		{"range with step", "10-50/20 * * * *", "2026-03-09 10:31:00", []string{"2026-03-09 10:50:00", "2026-03-09 11:10:00"}},
		{"value with step", "5/20 9 * * *", "2026-03-09 09:06:00", []string{"2026-03-09 09:25:00", "2026-03-09 09:45:00", "2026-03-10 09:05:00"}},
		{"list", "0 8,12,18 * * *", "2026-03-09 12:00:00", []string{"2026-03-09 18:00:00", "2026-03-10 08:00:00"}},
		{"weekdays", "0 9 * * 1-5", "2026-03-13 10:00:00", []string{"2026-03-16 09:00:00", "2026-03-17 09:00:00"}},
		{"names", "0 9 * jan,JUL Mon-Fri", "2026-03-09 00:00:00", []string{"2026-07-01 09:00:00", "2026-07-02 09:00:00", "2026-07-03 09:00:00", "2026-07-06 09:00:00"}},
		{"sunday is 0", "0 12 * * 0", "2026-03-09 00:00:00", []string{"2026-03-15 12:00:00"}},
		{"sunday is 7", "0 12 * * 7", "2026-03-09 00:00:00", []string{"2026-03-15 12:00:00"}},
		{"weekend range to 7", "0 12 * * 6-7", "2026-03-09 00:00:00", []string{"2026-03-14 12:00:00", "2026-03-15 12:00:00", "2026-03-21 12:00:00"}},
		{"days of month", "0 0 1,15 * *", "2026-03-09 00:00:00", []string{"2026-03-15 00:00:00", "2026-04-01 00:00:00"}},
		// Both day fields restricted: either matches (days 1-7 OR Mondays).
		{"dom or dow", "30 8 1-7 * 1", "2026-03-30 09:00:00", []string{"2026-04-01 08:30:00", "2026-04-02 08:30:00", "2026-04-03 08:30:00", "2026-04-04 08:30:00", "2026-04-05 08:30:00", "2026-04-06 08:30:00", "2026-04-07 08:30:00", "2026-04-13 08:30:00"}},
		// Day of month starting with '*': both must match (odd days that are Mondays).
		{"dom star and dow", "0 12 */2 * 1", "2026-03-09 13:00:00", []string{"2026-03-23 12:00:00", "2026-04-13 12:00:00"}},
		{"dow star and dom", "0 12 13 * */7", "2026-03-01 00:00:00", []string{"2026-09-13 12:00:00", "2026-12-13 12:00:00"}}, // Sundays (*/7 = 0) that are the 13th
		{"31st skips short months", "0 0 31 * *", "2026-03-31 01:00:00", []string{"2026-05-31 00:00:00", "2026-07-31 00:00:00", "2026-08-31 00:00:00"}},
		{"30th skips february", "0 0 30 * *", "2026-01-31 00:00:00", []string{"2026-03-30 00:00:00"}},
		{"leap day", "0 0 29 2 *", "2026-03-01 00:00:00", []string{"2028-02-29 00:00:00", "2032-02-29 00:00:00"}},
		{"year end", "0 0 1 1 *", "2026-12-31 23:59:00", []string{"2027-01-01 00:00:00"}},
		{"hourly", "@hourly", "2026-03-09 10:30:00", []string{"2026-03-09 11:00:00"}},
		{"daily", "@daily", "2026-03-09 10:30:00", []string{"2026-03-10 00:00:00"}},
		{"midnight", "@midnight", "2026-03-09 23:59:59", []string{"2026-03-10 00:00:00"}},
		{"weekly", "@weekly", "2026-03-09 10:30:00", []string{"2026-03-15 00:00:00", "2026-03-22 00:00:00"}},
		{"monthly", "@monthly", "2026-03-09 10:30:00", []string{"2026-04-01 00:00:00", "2026-05-01 00:00:00"}},
		{"yearly", "@yearly", "2026-03-09 10:30:00", []string{"2027-01-01 00:00:00"}},
		{"spaces", "  0   9 * *   *  ", "2026-03-09 10:30:00", []string{"2026-03-10 09:00:00"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := jobs.ParseCron(tc.spec)
			if err != nil {
				t.Fatalf("parse %q: %v", tc.spec, err)
			}
			cur := at(tc.from)
			for i, w := range tc.want {
				got := c.Next(cur)
				if !got.Equal(at(w)) {
					t.Fatalf("firing %d after %s: got %s, want %s", i+1, cur.Format(time.DateTime), got.In(loc).Format(time.DateTime), w)
				}
				if got.Location() != loc {
					t.Errorf("Next returned location %v, want the argument's", got.Location())
				}
				cur = got
			}
		})
	}
}

// TestCronNextUTCInput: a time in another zone is read on the wall clock of
// that zone, so callers convert to the schedule's zone first.
func TestCronNextUTCInput(t *testing.T) {
	loc := shanghai(t)
	c, err := jobs.ParseCron("0 9 * * *")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 3, 9, 1, 30, 0, 0, time.UTC) // 09:30 in Shanghai
	got := c.Next(from.In(loc))
	want := time.Date(2026, 3, 10, 1, 0, 0, 0, time.UTC)
	if !got.Equal(want) {
		t.Fatalf("got %v, want %v", got.UTC(), want)
	}
}

func TestCronInvalid(t *testing.T) {
	for _, spec := range []string{
		"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *",
		"* * * 0 *", "* * * 13 *", "* * * * 8", "5-1 * * * *", "*/0 * * * *", "*/x * * * *",
		"a * * * *", "1,,2 * * * *", "1- * * * *", "@every 5m", "@", "* * * FOO *",
		"0 0 31 2 *", "0 0 30,31 2 *", // never fire
	} {
		if c, err := jobs.ParseCron(spec); err == nil {
			t.Errorf("ParseCron(%q) = %v, want an error", spec, c)
		}
	}
}

// TestCronDaylightSaving checks the documented behaviour in a zone that has
// daylight saving (the default zone has none): a skipped wall time does not
// fire that day, a repeated one fires once.
func TestCronDaylightSaving(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York") // time/tzdata is embedded (see the import)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := jobs.ParseCron("30 2 * * *")
	got := c.Next(time.Date(2026, 3, 8, 0, 0, 0, 0, ny)) // clocks jump 02:00 → 03:00
	if want := time.Date(2026, 3, 9, 2, 30, 0, 0, ny); !got.Equal(want) {
		t.Errorf("spring: got %v, want %v", got, want)
	}
	c, _ = jobs.ParseCron("30 1 * * *")
	first := c.Next(time.Date(2026, 11, 1, 0, 0, 0, 0, ny)) // 01:00-02:00 happens twice
	second := c.Next(first)
	if want := time.Date(2026, 11, 2, 1, 30, 0, 0, ny); !second.Equal(want) || first.Day() != 1 {
		t.Errorf("autumn: got %v then %v, want Nov 1 01:30 then %v", first, second, want)
	}
	c, _ = jobs.ParseCron("*/30 * * * *")
	n, cur := 0, time.Date(2026, 3, 8, 0, 0, 0, 0, ny)
	for cur.Before(time.Date(2026, 3, 8, 4, 0, 0, 0, ny)) {
		cur = c.Next(cur)
		n++
	}
	if n != 6 { // 00:30 01:00 01:30 03:00 03:30 04:00: 02:00 and 02:30 do not exist
		t.Errorf("half-hourly firings through the spring gap: %d, want 6", n)
	}
}
