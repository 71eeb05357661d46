package apitest

import "testing"

// skipVolumeUnderRace skips a test whose point is volume (10^5 rows, limits
// of hundreds of thousands of rows) when the race detector is on: it finds
// nothing there that the same code paths at small sizes do not, and it is
// ten times slower. The test still runs in the ordinary suites on both
// databases.
func skipVolumeUnderRace(t *testing.T) {
	t.Helper()
	if raceDetector {
		t.Skip("a volume test: run without -race")
	}
}
