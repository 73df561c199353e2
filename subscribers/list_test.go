package subscribers

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

// cliListLoadingAll is how CLIList printed the list before it streamed:
// every subscriber read into memory, then one text/tabwriter table. The
// tests hold the streamed output to it, the benchmarks measure against it.
func cliListLoadingAll(ctx context.Context, s *Store, w io.Writer) error {
	subs, err := everyone(ctx, s)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tLANG\tTHEMES\tSTATUS\tBOUNCES\tSINCE")
	counts := map[string]int{}
	for _, sub := range subs {
		st := sub.Status
		if sub.Paused {
			st += " (paused)"
		}
		counts[sub.Status]++
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", sub.ID, sub.Email, oneLine(sub.Name), sub.Language, themeList(sub.Themes), st, sub.BounceCount, sub.StatusAt.Format("2006-01-02"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d subscribers: %d confirmed, %d pending, %d unsubscribed, %d bounced\n",
		len(subs), counts[Confirmed], counts[Pending], counts[Unsubscribed], counts[Bounced])
	return nil
}

// withListPageSize sets listPageSize for the rest of the test.
func withListPageSize(t *testing.T, n int) {
	old := listPageSize
	listPageSize = n
	t.Cleanup(func() { listPageSize = old })
}

// mixedList fills s with 17 subscribers in every status, paused and not,
// with and without names and themes, with bounces, with one removed from
// the middle (a gap in the ids), and with the longest address, name,
// themes and status last: a column's width is known only at the end. It
// returns the ids on the list, in order.
func mixedList(t *testing.T, s *Store) []int64 {
	t.Helper()
	ctx := context.Background()
	c := &clock{t: time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)}
	s.SetClock(c.now)
	var ids []int64
	add := func(sub Subscriber) int64 {
		t.Helper()
		c.advance(36 * time.Hour)
		got, err := s.Add(ctx, sub)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got.ID)
		return got.ID
	}
	statuses := []string{Confirmed, Pending, Unsubscribed, Bounced}
	names := []string{"Nguyễn Thị Lan", "", "Minh Tran", "Phạm Hoà", "Đặng Văn Đức"}
	themes := [][]string{nil, {"fdi"}, {"diaspora", "china"}}
	for i := range 15 {
		add(Subscriber{Email: fmt.Sprintf("reader%d@example%d.com", i, i%3), Name: names[i%len(names)],
			Language: []string{"vi", "en"}[i%2], Themes: themes[i%len(themes)], Status: statuses[i%len(statuses)]})
	}
	if _, err := s.UpdatePreferences(ctx, ids[4], Prefs{Language: "vi", Paused: true}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.RecordBounce(ctx, ids[8], "550 mailbox unavailable"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Remove(ctx, "reader6@example0.com"); err != nil {
		t.Fatal(err)
	}
	ids = append(ids[:6], ids[7:]...)
	last := add(Subscriber{Email: "nguyen.thi.phuong.thao.hai.phong@dai-hoc-quoc-gia.example.edu.vn",
		Name: "Nguyễn Thị Phương Thảo (Hội người Việt tại Nhật Bản)", Language: "vi", Themes: []string{"diaspora", "fdi", "china", "other"}})
	if _, err := s.UpdatePreferences(ctx, last, Prefs{Language: "vi", Themes: []string{"diaspora", "fdi", "china", "other"}, Paused: true}); err != nil {
		t.Fatal(err)
	}
	add(Subscriber{Email: "z@example.org", Status: Pending})
	return ids
}

// listedIDs returns the ids of the subscriber lines of a CLIList output.
func listedIDs(t *testing.T, out string) []int64 {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var ids []int64
	for _, l := range lines[1 : len(lines)-1] {
		id, err := strconv.ParseInt(strings.Fields(l)[0], 10, 64)
		if err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		ids = append(ids, id)
	}
	return ids
}

// The streamed list is what the operator saw when the whole list was
// loaded first, byte for byte, whatever the page size: with a page of one,
// pages that end right at the last subscriber and pages that do not, and
// one page for all.
func TestCLIListStreamsTheSameTable(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	ids := mixedList(t, s)
	var want bytes.Buffer
	if err := cliListLoadingAll(ctx, s, &want); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(want.String(), "confirmed (paused)") || !strings.Contains(want.String(), "\n16 subscribers: 5 confirmed, 5 pending, 3 unsubscribed, 3 bounced\n") {
		t.Fatalf("the list lacks the mix it is meant to have:\n%s", want.String())
	}
	for _, size := range []int{1, 4, 8, 5, 1000} {
		t.Run(fmt.Sprint("page ", size), func(t *testing.T) {
			withListPageSize(t, size)
			var got bytes.Buffer
			if err := s.CLIList(ctx, &got); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Fatalf("streamed list:\n%s\nwant, as loaded all at once:\n%s", got.String(), want.String())
			}
			if got := listedIDs(t, got.String()); fmt.Sprint(got) != fmt.Sprint(ids) {
				t.Fatalf("listed ids %v, want each of %v once in order", got, ids)
			}
		})
	}
}

// writes records each Write separately.
type writes struct{ chunks []string }

func (w *writes) Write(p []byte) (int, error) {
	w.chunks = append(w.chunks, string(p))
	return len(p), nil
}

// Each page is printed as soon as it is read: the first write is the
// heading and the first page, then one write a page, then the counts.
func TestCLIListPrintsPageByPage(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	ids := mixedList(t, s)
	withListPageSize(t, 5)
	var w writes
	if err := s.CLIList(ctx, &w); err != nil {
		t.Fatal(err)
	}
	if len(w.chunks) != 5 {
		t.Fatalf("%d writes, want 4 pages and the counts: %q", len(w.chunks), w.chunks)
	}
	first := w.chunks[0]
	if n := strings.Count(first, "\n"); n != 6 || !strings.HasPrefix(first, "ID  ") {
		t.Fatalf("first write %q: want the heading and the first 5 subscribers", first)
	}
	if got := listedIDs(t, first+"end\n"); fmt.Sprint(got) != fmt.Sprint(ids[:5]) {
		t.Errorf("first page lists %v, want %v", got, ids[:5])
	}
	if !strings.HasPrefix(w.chunks[4], "16 subscribers:") {
		t.Errorf("last write %q: want the counts", w.chunks[4])
	}
}

// With nobody on the list the operator sees the heading and a count of
// nought, as before.
func TestCLIListEmpty(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	var got, old bytes.Buffer
	if err := s.CLIList(ctx, &got); err != nil {
		t.Fatal(err)
	}
	if err := cliListLoadingAll(ctx, s, &old); err != nil {
		t.Fatal(err)
	}
	const want = "ID  EMAIL  NAME  LANG  THEMES  STATUS  BOUNCES  SINCE\n0 subscribers: 0 confirmed, 0 pending, 0 unsubscribed, 0 bounced\n"
	if got.String() != want || old.String() != want {
		t.Fatalf("empty list %q (before: %q), want %q", got.String(), old.String(), want)
	}
}

// A subscriber that grew after the widths were measured (changed while
// the list is printed) still has two spaces after each cell, and the
// lines after it keep the wider column.
func TestCLIListWidensColumnForLaterChange(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	if _, err := s.Add(ctx, Subscriber{Email: "a@example.org"}); err != nil {
		t.Fatal(err)
	}
	widths, err := s.listWidths(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := len("a@example.org") + listPadding; widths[1] != want {
		t.Fatalf("email column %d wide, want %d", widths[1], want)
	}
	var b bytes.Buffer
	bw := bufio.NewWriter(&b)
	const long = "much.longer.address@example.org"
	cells := [len(listColumns)]string{"2", long, "-", "vi", "all", "confirmed", "0", "2024-03-01"}
	writeListLine(bw, widths, cells)
	cells[1] = "b@example.org"
	writeListLine(bw, widths, cells)
	bw.Flush()
	lines := strings.Split(b.String(), "\n")
	if !strings.HasPrefix(lines[0], "2   "+long+"  -  ") ||
		!strings.HasPrefix(lines[1], "2   b@example.org"+strings.Repeat(" ", len(long)+listPadding-len("b@example.org"))+"-  ") {
		t.Fatalf("lines:\n%s", b.String())
	}
}

// ListAfter walks the whole list in id order, every status, paused or
// not, each subscriber once across the pages.
func TestListAfterWalksEveryone(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	ids := mixedList(t, s)
	for _, size := range []int{1, 3, 16, 100} {
		var got []int64
		statuses := map[string]bool{}
		after, pages := int64(0), 0
		for {
			page, err := s.ListAfter(ctx, after, size)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			if len(page) > size {
				t.Fatalf("page of %d for a limit of %d", len(page), size)
			}
			pages++
			for _, sub := range page {
				got = append(got, sub.ID)
				statuses[sub.Status] = true
			}
			after = page[len(page)-1].ID
		}
		if fmt.Sprint(got) != fmt.Sprint(ids) {
			t.Fatalf("page size %d: walked %v, want %v", size, got, ids)
		}
		if len(statuses) != 4 || pages != (len(ids)+size-1)/size {
			t.Fatalf("page size %d: %d pages, statuses %v", size, pages, statuses)
		}
	}
	last, err := s.ListAfter(ctx, ids[len(ids)-1], 10)
	if err != nil || len(last) != 0 {
		t.Fatalf("after the last id: %v %v", last, err)
	}
}
