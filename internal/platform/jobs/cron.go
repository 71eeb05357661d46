package jobs

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Cron is a parsed five-field schedule: minute, hour, day of month, month,
// day of week. Each field is a list of items separated by commas; an item
// is "*", a value or a range "a-b", optionally with a step: "*/15",
// "1-30/2", "5/10" (from 5 to the field's end, every 10). Months and
// weekdays may be named
// (JAN-DEC, SUN-SAT); weekday 0 and 7 are both Sunday. The descriptors
// @yearly (@annually), @monthly, @weekly, @daily (@midnight) and @hourly
// stand for their usual five fields.
//
// Day of month and day of week combine as in Vixie cron: when both are
// restricted (neither starts with "*"), a day matches if either matches;
// otherwise both must.
type Cron struct {
	spec                     string
	minute, hour, dom, month uint64
	dow                      uint64
	domStar, dowStar         bool
}

// cronLimit bounds how far ahead Next looks. "0 0 29 2 *" (29 February,
// up to eight years apart) fires within it; ParseCron refuses a spec that
// never fires, such as "0 0 31 2 *".
const cronLimit = 30 // years: more than the 28-year cycle of weekdays

var cronDescriptors = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

var (
	monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
		"JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	dayNames = map[string]int{"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}
)

type cronField struct {
	name     string
	min, max int
	names    map[string]int
}

var cronFields = [5]cronField{
	{"minute", 0, 59, nil},
	{"hour", 0, 23, nil},
	{"day of month", 1, 31, nil},
	{"month", 1, 12, monthNames},
	{"day of week", 0, 7, dayNames},
}

// ParseCron parses a schedule spec (see Cron).
func ParseCron(spec string) (Cron, error) {
	s := strings.TrimSpace(spec)
	if strings.HasPrefix(s, "@") {
		full, ok := cronDescriptors[strings.ToLower(s)]
		if !ok {
			return Cron{}, fmt.Errorf("unknown descriptor %q", s)
		}
		c, err := ParseCron(full)
		c.spec = s
		return c, err
	}
	parts := strings.Fields(s)
	if len(parts) != 5 {
		return Cron{}, fmt.Errorf("want 5 fields (minute hour day-of-month month day-of-week), got %d", len(parts))
	}
	var sets [5]uint64
	for i, p := range parts {
		set, err := parseCronField(p, cronFields[i])
		if err != nil {
			return Cron{}, err
		}
		sets[i] = set
	}
	if sets[4]&(1<<7) != 0 { // 7 is Sunday too
		sets[4] = sets[4]&^(1<<7) | 1
	}
	c := Cron{spec: s, minute: sets[0], hour: sets[1], dom: sets[2], month: sets[3], dow: sets[4],
		domStar: strings.HasPrefix(parts[2], "*"), dowStar: strings.HasPrefix(parts[4], "*")}
	// A spec such as "0 0 31 2 *" is well-formed but never fires.
	if c.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return Cron{}, errors.New("the schedule never fires")
	}
	return c, nil
}

func parseCronField(s string, f cronField) (uint64, error) {
	var set uint64
	for _, part := range strings.Split(s, ",") {
		if part == "" {
			return 0, fmt.Errorf("%s: empty list item in %q", f.name, s)
		}
		rng, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 {
				return 0, fmt.Errorf("%s: bad step %q", f.name, stepText)
			}
			step = n
		}
		var lo, hi int
		switch {
		case rng == "*":
			lo, hi = f.min, f.max
			if f.max == 7 { // "*" and "*/n" over weekdays cover 0-6
				hi = 6
			}
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if lo, err = cronValue(a, f); err != nil {
				return 0, err
			}
			if hi, err = cronValue(b, f); err != nil {
				return 0, err
			}
			if lo > hi {
				return 0, fmt.Errorf("%s: range %q runs backwards", f.name, rng)
			}
		default:
			v, err := cronValue(rng, f)
			if err != nil {
				return 0, err
			}
			lo, hi = v, v
			if hasStep { // "5/10": from 5 to the end of the field
				hi = f.max
			}
		}
		for v := lo; v <= hi; v += step {
			set |= 1 << uint(v)
		}
	}
	return set, nil
}

func cronValue(s string, f cronField) (int, error) {
	if n, ok := f.names[strings.ToUpper(s)]; ok {
		return n, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s: bad value %q", f.name, s)
	}
	if n < f.min || n > f.max {
		return 0, fmt.Errorf("%s: %d is outside %d-%d", f.name, n, f.min, f.max)
	}
	return n, nil
}

// String returns the spec as given to ParseCron (trimmed).
func (c Cron) String() string { return c.spec }

func (c Cron) dayMatches(t time.Time) bool {
	dom := c.dom&(1<<uint(t.Day())) != 0
	dow := c.dow&(1<<uint(t.Weekday())) != 0
	if c.domStar || c.dowStar {
		return dom && dow
	}
	return dom || dow
}

// Next returns the first time the schedule fires strictly after after, on
// the wall clock of after's location, or the zero time if it does not fire
// within thirty years. Times are whole minutes.
//
// Candidates are built with time.Date on the wall clock, so in a zone with
// daylight saving a wall time that does not exist that day (the hour
// skipped in spring) is skipped, and one that occurs twice (autumn) fires
// once. Asia/Shanghai, the default zone, has no daylight saving.
func (c Cron) Next(after time.Time) time.Time {
	if c.minute == 0 || c.hour == 0 || c.month == 0 {
		return time.Time{}
	}
	loc := after.Location()
	a := after.In(loc)
	t := time.Date(a.Year(), a.Month(), a.Day(), a.Hour(), a.Minute()+1, 0, 0, loc)
	end := a.AddDate(cronLimit, 0, 0)
	for t.Before(end) {
		prev := t
		switch {
		case c.month&(1<<uint(t.Month())) == 0:
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, loc)
		case !c.dayMatches(t):
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc)
		case c.hour&(1<<uint(t.Hour())) == 0:
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, loc)
		case c.minute&(1<<uint(t.Minute())) == 0:
			t = c.nextMinute(t)
		default:
			return t
		}
		// Around a daylight-saving change time.Date may resolve a wall time
		// to an instant before the one we came from; always move forward.
		if !t.After(prev) {
			t = prev.Add(time.Minute).Truncate(time.Minute)
		}
	}
	return time.Time{}
}

// nextMinute jumps to the next allowed minute within t's hour, or to the
// start of the next hour.
func (c Cron) nextMinute(t time.Time) time.Time {
	rest := c.minute >> uint(t.Minute()+1) << uint(t.Minute()+1)
	if rest == 0 {
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, t.Location())
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), bits.TrailingZeros64(rest), 0, 0, t.Location())
}
