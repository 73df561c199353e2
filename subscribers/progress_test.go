package subscribers

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/haiphong/hpdigest/internal/progress"
)

// On a terminal the import draws a bar over the file's bytes with the
// counts so far; in a log or a pipe it writes a line at most every so
// often, and always the last one.
func TestImportProgressDisplay(t *testing.T) {
	var term bytes.Buffer
	show := showImport(progress.NewFor(&term, nil, time.Hour, true, progressbar.OptionShowBytes(true)))
	show(ImportProgress{Lines: 1001, Bytes: 40_000, Added: 990, Rejected: 10}, 100_000)
	show(ImportProgress{Lines: 2501, Bytes: 100_000, Added: 2480, Rejected: 20}, 100_000)
	if out := term.String(); !strings.Contains(out, "line 2501: 2480 added, 0 updated, 20 rejected") || !strings.Contains(out, "100%") {
		t.Errorf("terminal:\n%q", out)
	}
	var logs bytes.Buffer
	show = showImport(progress.NewFor(&logs, slog.New(slog.NewTextHandler(&logs, nil)), time.Hour, false))
	show(ImportProgress{Lines: 1001, Bytes: 40_000, Added: 1000}, 100_000)
	show(ImportProgress{Lines: 2001, Bytes: 80_000, Added: 2000}, 100_000) // within the hour: not logged
	show(ImportProgress{Lines: 2501, Bytes: 100_000, Added: 2500}, 100_000)
	if n := strings.Count(logs.String(), "import: progress"); n != 2 {
		t.Errorf("%d log lines, want the first and the last:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "line=2501 added=2500") || !strings.Contains(logs.String(), "done=100%") {
		t.Errorf("last line:\n%s", logs.String())
	}
}
