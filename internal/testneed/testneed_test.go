package testneed

import (
	"fmt"
	"testing"
)

// recorder is a testing.TB that records how a test ended.
type recorder struct {
	testing.TB
	skipped, failed, logged string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Skip(args ...any)               { r.skipped = fmt.Sprint(args...) }
func (r *recorder) Fatalf(format string, a ...any) { r.failed = fmt.Sprintf(format, a...) }
func (r *recorder) Log(args ...any)                { r.logged = fmt.Sprint(args...) }

func TestOutsideCISkipsOrNarrows(t *testing.T) {
	t.Setenv("CI", "")
	var r recorder
	Skip(&r, "smtp-sink not found (%s)", "apt-get install postfix")
	if r.skipped != "smtp-sink not found (apt-get install postfix)" || r.failed != "" {
		t.Errorf("Skip outside CI: skipped %q, failed %q", r.skipped, r.failed)
	}
	r = recorder{}
	Narrow(&r, "corpus seeds not available")
	if r.logged != "corpus seeds not available" || r.failed != "" || r.skipped != "" {
		t.Errorf("Narrow outside CI: %+v", r)
	}
}

func TestInCIFails(t *testing.T) {
	t.Setenv("CI", "true")
	for name, call := range map[string]func(testing.TB, string, ...any){"Skip": Skip, "Narrow": Narrow} {
		var r recorder
		call(&r, "chromium not installed")
		if r.failed != "chromium not installed (required in CI)" || r.skipped != "" || r.logged != "" {
			t.Errorf("%s in CI: %+v", name, r)
		}
	}
}
