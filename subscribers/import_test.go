package subscribers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/store"
)

// importLines is a CSV file of n readers (line 1 is the header).
func importLines(n int) string {
	var b strings.Builder
	b.WriteString("email,name,language,themes\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "reader%d@example.org,Người đọc %d,%s,fdi\n", i, i, []string{"vi", "en"}[i%2])
	}
	return b.String()
}

// stallingReader gives the first `after` bytes of data, then blocks until
// release is closed (a slow upload, a file on a stuck network share).
type stallingReader struct {
	data    string
	after   int
	stalled chan struct{}
	release chan struct{}
	pos     int
}

func (r *stallingReader) Read(p []byte) (int, error) {
	if r.pos == r.after {
		close(r.stalled)
		<-r.release
		r.after = -1
	}
	if r.pos >= len(r.data) {
		return 0, io.EOF
	}
	end := len(r.data)
	if r.after > r.pos {
		end = r.after
	}
	n := copy(p, r.data[r.pos:end])
	r.pos += n
	return n, nil
}

// secondProcess is another process's view of the same database: its own
// connections, a short busy timeout.
func secondProcess(t *testing.T, s *Store) *Store {
	t.Helper()
	var path string
	if err := s.db.QueryRow(`SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&path); err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenWith(path, store.Options{BusyTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	other := NewStore(db)
	other.SetThemes(s.Themes())
	return other
}

// An import commits as it goes: while it waits for more of the file, what
// it has read is in the database and other writers are not kept waiting
// (a reader's one-click unsubscribe in another process commits at once).
func TestImportCommitsAsItGoesAndNeverHoldsOthersBack(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	other := secondProcess(t, s)
	lan, err := s.Add(ctx, Subscriber{Email: "lan@example.jp", Language: "vi"})
	if err != nil {
		t.Fatal(err)
	}
	data := importLines(2500)
	in := &stallingReader{data: data, after: strings.Index(data, "reader2200@"), stalled: make(chan struct{}), release: make(chan struct{})}
	type result struct {
		rep ImportReport
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := s.ImportCSV(ctx, in)
		done <- result{rep, err}
	}()
	<-in.stalled
	time.Sleep(100 * time.Millisecond) // let the import take in what it was given
	var n int
	if err := other.db.QueryRow(`SELECT COUNT(*) FROM subscribers WHERE email LIKE 'reader%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n < 1000 {
		t.Errorf("while the import waits for the rest of the file, %d of the 2200 rows read are visible; want the committed batches", n)
	}
	if err := other.Unsubscribe(ctx, lan.ID, "one-click (RFC 8058)"); err != nil {
		t.Errorf("an unsubscribe in another process during the import: %v", err)
	}
	close(in.release)
	r := <-done
	if r.err != nil || r.rep.Added != 2500 || r.rep.Lines != 2501 {
		t.Fatalf("import: %+v %v", r.rep, r.err)
	}
	if sub, _ := s.Get(ctx, lan.ID); sub.Status != Unsubscribed {
		t.Errorf("the unsubscribe made during the import was lost: %s", sub.Status)
	}
	checkTallies(t, s)
}

// cancellingReader cancels the import's context once it has given `after`
// bytes (SIGINT halfway through a file).
type cancellingReader struct {
	r      io.Reader
	after  int
	cancel func()
	pos    int
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	if c.pos >= c.after {
		c.cancel()
	}
	n, err := c.r.Read(p[:min(len(p), 512)])
	c.pos += n
	return n, err
}

// A cancelled import keeps what it committed and says how far it got;
// running it again finishes the job and changes nothing twice.
func TestCancelledImportKeepsItsBatchesAndResumes(t *testing.T) {
	s := openStore(t)
	data := importLines(3000) + "reader5@example.org,Repeated,vi,\n"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := &cancellingReader{r: strings.NewReader(data), after: len(data) / 2, cancel: cancel}
	rep, err := s.ImportCSVWith(ctx, in, ImportOptions{BatchRows: 250})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled import: err = %v", err)
	}
	if rep.Lines < 500 || rep.Lines > 2000 || rep.Added != rep.Lines-1 {
		t.Fatalf("cancelled import report: %+v (want the lines of its committed batches)", rep)
	}
	count := func() int {
		n, err := s.Counts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return n[Confirmed]
	}
	if got := count(); got != rep.Added {
		t.Fatalf("%d readers in the database, the report says %d were added", got, rep.Added)
	}
	checkTallies(t, s)

	again, err := s.ImportCSVWith(context.Background(), strings.NewReader(data), ImportOptions{BatchRows: 250})
	if err != nil {
		t.Fatal(err)
	}
	if again.Added != 3000-rep.Added || again.Skipped != rep.Added+1 || again.Updated != 0 {
		t.Errorf("second run: %+v; want the %d remaining added and the rest unchanged", again, 3000-rep.Added)
	}
	if len(again.SkippedLines) != 1 || !strings.Contains(again.SkippedLines[0].Err.Error(), "already on line 7") {
		t.Errorf("a repeated address many batches later: %v", again.SkippedLines)
	}
	if got := count(); got != 3000 {
		t.Errorf("%d readers after the second run, want 3000", got)
	}
	third, err := s.ImportCSV(context.Background(), strings.NewReader(data))
	if err != nil || third.Added != 0 || third.Updated != 0 || third.Skipped != 3001 {
		t.Errorf("third run changed something: %+v %v", third, err)
	}
	checkTallies(t, s)
}

// The report keeps a bounded list of rejected and skipped lines (the
// counts cover every one), and a line longer than any valid one is
// rejected without being read into memory whole.
func TestImportReportIsBounded(t *testing.T) {
	s := openStore(t)
	var b strings.Builder
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&b, "not-an-address-%d,x,vi,\n", i)
	}
	b.WriteString("ok@example.org," + strings.Repeat("x", 1<<20) + ",vi,\n")
	b.WriteString("fine@example.org,Fine,vi,\n")
	rep, err := s.ImportCSV(context.Background(), strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rejected != 3001 || rep.Added != 1 || len(rep.Problems) != DefaultImportListed {
		t.Errorf("report: %d rejected, %d added, %d listed", rep.Rejected, rep.Added, len(rep.Problems))
	}
	if _, err := s.ByEmail(context.Background(), "ok@example.org"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the over-long line was imported: %v", err)
	}
}

// Progress is reported after each committed batch, with the counts so far.
func TestImportProgress(t *testing.T) {
	s := openStore(t)
	var seen []ImportProgress
	rep, err := s.ImportCSVWith(context.Background(), strings.NewReader(importLines(1000)), ImportOptions{
		BatchRows: 300,
		Progress:  func(p ImportProgress) { seen = append(seen, p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) < 4 {
		t.Fatalf("progress reported %d times for 4 batches", len(seen))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i].Added < seen[i-1].Added || seen[i].Bytes < seen[i-1].Bytes {
			t.Errorf("progress went back: %+v then %+v", seen[i-1], seen[i])
		}
	}
	if last := seen[len(seen)-1]; last.Added != rep.Added || last.Lines != rep.Lines {
		t.Errorf("last progress %+v, report %+v", last, rep)
	}
}

// "Local" names the server's own zone, not a reader's: refused like an
// unknown zone, in an import and on the preferences page.
func TestLocalIsNotAReadersTimezone(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	rep, err := s.ImportCSV(ctx, strings.NewReader("email,name,language,themes,timezone\nlocal@example.org,L,vi,,Local\ntokyo@example.org,T,vi,,Asia/Tokyo\n"))
	if err != nil || rep.Rejected != 1 || rep.Added != 1 {
		t.Errorf("import with Local: %+v %v", rep, err)
	}
	sub, _ := s.Add(ctx, Subscriber{Email: "tz@example.org"})
	local := "Local"
	if _, err := s.UpdatePreferences(ctx, sub.ID, Prefs{Language: "vi", Timezone: &local}); err == nil {
		t.Error("preferences accepted the time zone Local")
	}
	if _, err := s.Add(ctx, Subscriber{Email: "cli@example.org", Timezone: "Local"}); err == nil {
		t.Error("Add accepted the time zone Local")
	}
}

// Writes made for readers (one-click, confirm, preferences, subscribe)
// try again when the database stays locked past the busy timeout, instead
// of failing.
func TestReaderWritesRetryWhileTheDatabaseIsBusy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "hp.db")
	db, err := store.OpenWith(path, store.Options{BusyTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := store.Migrate(ctx, db, Migrations()); err != nil {
		t.Fatal(err)
	}
	s := NewStore(db)
	holder, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	tk, _ := NewTokens([]Key{testKey("k1")})
	a, _ := s.Add(ctx, Subscriber{Email: "a@example.org"})
	p, _ := s.Subscribe(ctx, SubscribeRequest{Email: "p@example.org"})
	claims, _ := tk.Check(tk.Sign(PurposeConfirm, p.Subscriber.ID), PurposeConfirm)
	for name, write := range map[string]func() error{
		"unsubscribe": func() error { return s.Unsubscribe(ctx, a.ID, "one-click (RFC 8058)") },
		"confirm":     func() error { _, err := s.Confirm(ctx, claims); return err },
		"preferences": func() error { _, err := s.UpdatePreferences(ctx, a.ID, Prefs{Language: "en"}); return err },
		"subscribe":   func() error { _, err := s.Subscribe(ctx, SubscribeRequest{Email: "new@example.org"}); return err },
	} {
		tx, err := holder.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		tx.Exec(`UPDATE subscribers SET updated_at = updated_at`)
		time.AfterFunc(200*time.Millisecond, func() { tx.Commit() })
		if err := write(); err != nil {
			t.Errorf("%s while another process writes for 200ms: %v", name, err)
		}
	}
	if sub, _ := s.Get(ctx, a.ID); sub.Status != Unsubscribed {
		t.Errorf("the unsubscribe is not kept: %s", sub.Status)
	}
}
