//go:build unix

package rules

import (
	"syscall"
	"time"
)

// cpuTime is the process's user and system CPU time so far, so that a
// benchmark on a shared machine can report work per CPU-second rather
// than per wall-clock second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
