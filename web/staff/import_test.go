package staff

import (
	"strings"
	"testing"

	"github.com/haiphong/hpdigest/subscribers"
)

// While a CSV import runs, every editor's subscribers page shows how far
// it got; once it ends, the notice goes.
func TestSubscribersPageShowsRunningImport(t *testing.T) {
	e := newEnv(t, envOpts{})
	c := e.client()
	c.login(bobEmail, password)
	run := e.h.imports.start("danh-sach.csv", "Nguyễn Thị Lan")
	run.update(subscribers.ImportProgress{Lines: 120001, Added: 118000, Updated: 1500, Rejected: 12})
	r := c.get("/staff/subscribers")
	want := tr("vi", "sub.import_running", "danh-sach.csv", "Nguyễn Thị Lan", 120001, 118000, 1500, 12)
	if !strings.Contains(r.body, want) {
		t.Errorf("the running import is not shown; want %q", want)
	}
	e.h.imports.finish(run)
	if r := c.get("/staff/subscribers"); strings.Contains(r.body, "danh-sach.csv") {
		t.Error("a finished import is still shown as running")
	}
}
