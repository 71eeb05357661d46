//go:build race

package apitest

// raceDetector is true in a test binary built with -race.
const raceDetector = true
