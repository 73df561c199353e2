// Package testneed handles what a test needs from outside the repository (a
// program such as chromium or smtp-sink, the shared feed corpus) when it is
// missing: outside CI the test is skipped, or narrowed, with the reason; in
// CI, where .ci/run installs everything, it fails. Only tests import it.
package testneed

import (
	"fmt"
	"os"
	"testing"
)

// CI reports whether the tests run in CI (the CI environment variable is set).
func CI() bool { return os.Getenv("CI") != "" }

// Skip skips the test because something it needs is missing; in CI the
// test fails instead.
func Skip(tb testing.TB, format string, args ...any) {
	tb.Helper()
	missing(tb, fmt.Sprintf(format, args...), tb.Skip)
}

// Narrow notes that the test goes on without something it would use; in CI
// the test fails instead.
func Narrow(tb testing.TB, format string, args ...any) {
	tb.Helper()
	missing(tb, fmt.Sprintf(format, args...), tb.Log)
}

// missing fails the test in CI, and otherwise hands msg to outsideCI.
func missing(tb testing.TB, msg string, outsideCI func(args ...any)) {
	tb.Helper()
	if CI() {
		tb.Fatalf("%s (required in CI)", msg)
		return
	}
	outsideCI(msg)
}
