package subscribers

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The functions below back the command-line flags of cmd/hpdigest; each
// prints a short human report to w and returns an error for a non-zero exit.

// CLIAdd adds a confirmed subscriber (-add-subscriber EMAIL -name -lang
// -themes). themes is "fdi,china" or "fdi china"; "" means all themes.
func (s *Store) CLIAdd(ctx context.Context, w io.Writer, email, name, lang, themes string) error {
	sub, err := s.Add(ctx, Subscriber{Email: email, Name: name, Language: lang, Themes: []string{themes}})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "added %s (id %d, %s, themes: %s, status %s)\n", sub.Email, sub.ID, sub.Language, themeList(sub.Themes), sub.Status)
	return nil
}

func themeList(t []string) string {
	if len(t) == 0 {
		return "all"
	}
	return strings.Join(t, ",")
}

// listPageSize is how many subscribers CLIList reads, and prints, at a
// time.
var listPageSize = 1000

// listColumns are the headings of CLIList's table.
var listColumns = [...]string{"ID", "EMAIL", "NAME", "LANG", "THEMES", "STATUS", "BOUNCES", "SINCE"}

// listPadding is the number of spaces after a column's widest cell.
const listPadding = 2

// CLIList prints every subscriber (-subscribers) in id order, and a count
// per status. It reads and prints one page at a time, so it starts at
// once and holds one page however long the list; the columns are laid out
// as one text/tabwriter table of the whole list would lay them out, their
// widths measured by one aggregate query first (listWidths).
func (s *Store) CLIList(ctx context.Context, w io.Writer) error {
	widths, err := s.listWidths(ctx)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	writeListLine(bw, widths, listColumns)
	counts := map[string]int{}
	total := 0
	for after := int64(0); ; {
		page, err := s.ListAfter(ctx, after, listPageSize)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			break
		}
		for _, sub := range page {
			counts[sub.Status]++
			writeListLine(bw, widths, listCells(sub))
		}
		total += len(page)
		after = page[len(page)-1].ID
		if err := bw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintf(bw, "%d subscribers: %d confirmed, %d pending, %d unsubscribed, %d bounced\n",
		total, counts[Confirmed], counts[Pending], counts[Unsubscribed], counts[Bounced])
	return bw.Flush()
}

// listCells is a subscriber's line in CLIList.
func listCells(sub Subscriber) [len(listColumns)]string {
	st := sub.Status
	if sub.Paused {
		st += " (paused)"
	}
	return [...]string{strconv.FormatInt(sub.ID, 10), sub.Email, oneLine(sub.Name), sub.Language, themeList(sub.Themes), st,
		strconv.Itoa(sub.BounceCount), sub.StatusAt.Format("2006-01-02")}
}

// listWidths returns the width of each column of CLIList but the last
// (which is not padded): its widest cell, in characters as listCells
// writes it, heading included, plus listPadding.
func (s *Store) listWidths(ctx context.Context) ([]int, error) {
	widths := make([]int, len(listColumns)-1)
	err := s.db.QueryRowContext(ctx, `SELECT
		COALESCE(MAX(length(id)), 0),
		COALESCE(MAX(length(email)), 0),
		COALESCE(MAX(CASE WHEN name = '' THEN 1 ELSE length(name) END), 0),
		COALESCE(MAX(length(language)), 0),
		COALESCE(MAX(CASE WHEN trim(themes) = '' THEN 3 ELSE length(trim(themes)) END), 0),
		COALESCE(MAX(length(status) + CASE WHEN paused != 0 THEN length(' (paused)') ELSE 0 END), 0),
		COALESCE(MAX(length(bounce_count)), 0)
		FROM subscribers`).Scan(&widths[0], &widths[1], &widths[2], &widths[3], &widths[4], &widths[5], &widths[6])
	if err != nil {
		return nil, fmt.Errorf("subscribers: list: %w", err)
	}
	for i := range widths {
		widths[i] = max(widths[i], utf8.RuneCountInString(listColumns[i])) + listPadding
	}
	return widths, nil
}

// writeListLine writes cells padded to widths. A cell wider than
// measured (a row changed after listWidths) widens its column from that
// line on rather than running into the next.
func writeListLine(w *bufio.Writer, widths []int, cells [len(listColumns)]string) {
	for i, c := range cells {
		w.WriteString(c)
		if i == len(widths) {
			break
		}
		n := utf8.RuneCountInString(c)
		widths[i] = max(widths[i], n+listPadding)
		for range widths[i] - n {
			w.WriteByte(' ')
		}
	}
	w.WriteByte('\n')
}

func oneLine(s string) string {
	if s == "" {
		return "-"
	}
	return strings.ReplaceAll(s, "\t", " ")
}

// CLIRemove deletes a subscriber and their data (-remove-subscriber EMAIL).
func (s *Store) CLIRemove(ctx context.Context, w io.Writer, email string) error {
	sub, err := s.ByEmail(ctx, email)
	if err != nil {
		return err
	}
	if err := s.Remove(ctx, sub.Email); err != nil {
		return err
	}
	fmt.Fprintf(w, "removed %s and their history; the address will not be re-imported from CSV\n", sub.Email)
	return nil
}

// CLIForget is the data-deletion request (-forget EMAIL): the same as
// CLIRemove, phrased for the requester.
func (s *Store) CLIForget(ctx context.Context, w io.Writer, email string) error {
	sub, err := s.ByEmail(ctx, email)
	if err != nil {
		return err
	}
	if err := s.Remove(ctx, sub.Email); err != nil {
		return err
	}
	fmt.Fprintf(w, "forgot %s: subscriber row and %s deleted; only a one-way hash of the address is kept to block re-imports\n", sub.Email, "event history")
	return nil
}

// CLIExportSubscriber prints one reader's data as JSON (-export-subscriber EMAIL).
func (s *Store) CLIExportSubscriber(ctx context.Context, w io.Writer, email string) error {
	return s.ExportOne(ctx, email, w)
}

// ErrNothingImported is returned by CLIImport when every line of the file
// was rejected.
var ErrNothingImported = errors.New("every line was rejected; nothing was imported")

// CLIImport imports a CSV file (-import FILE.csv) and prints the report,
// each rejected or skipped line with its number and a summary. Rejected
// lines do not make it fail while other lines were imported; it returns an
// error only when the file cannot be read, nothing in it could be imported
// (ErrNothingImported, wrapped), or the import stopped part way (then the
// report says up to which line the file was applied). progress, if not
// nil, is told the counts after each committed batch; size is the file's.
func (s *Store) CLIImport(ctx context.Context, w io.Writer, path string, progress func(p ImportProgress, size int64)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var size int64
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	opts := ImportOptions{}
	if progress != nil {
		opts.Progress = func(p ImportProgress) { progress(p, size) }
	}
	rep, err := s.ImportCSVWith(ctx, f, opts)
	if err != nil {
		PrintImportReport(w, path, rep)
		if rep.Lines == 0 {
			return fmt.Errorf("import %s: %w (nothing was imported)", path, err)
		}
		return fmt.Errorf("import %s stopped after line %d: %w (lines 1 to %d are imported; run the same import again to do the rest: nothing is changed twice)",
			path, rep.Lines, err, rep.Lines)
	}
	PrintImportReport(w, path, rep)
	if n := rep.Rejected; n > 0 {
		if rep.Added+rep.Updated+rep.Skipped == 0 {
			return fmt.Errorf("import %s: %w (%s)", path, ErrNothingImported, lines(n))
		}
		fmt.Fprintf(w, "%s rejected (listed above); every other line was imported\n", lines(n))
	}
	return nil
}

func lines(n int) string {
	if n == 1 {
		return "1 line"
	}
	return fmt.Sprintf("%d lines", n)
}

// PrintImportReport writes rep for a person (also used by the staff UI).
func PrintImportReport(w io.Writer, name string, rep ImportReport) {
	fmt.Fprintf(w, "%s: %d added, %d updated, %d unchanged or skipped, %d rejected\n", name, rep.Added, rep.Updated, rep.Skipped, rep.Rejected)
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "  line %d: rejected: %v\n", p.Line, p.Err)
	}
	if more := rep.Unlisted(); more > 0 {
		fmt.Fprintf(w, "  ... and %d more rejected lines not listed\n", more)
	}
	for _, p := range rep.SkippedLines {
		fmt.Fprintf(w, "  line %d: skipped: %v\n", p.Line, p.Err)
	}
}

// CLIExport writes every subscriber as CSV to path (-export FILE.csv), or
// to stdout when path is "-". The file is written to a new temporary file
// (mode 0600) beside path and renamed, so a failed export never leaves
// half a file and no existing file or link is written through.
func (s *Store) CLIExport(ctx context.Context, stdout io.Writer, path string) error {
	if path == "-" {
		return s.ExportCSV(ctx, stdout)
	}
	// A new file of our own (O_EXCL, random name, 0600) in the target's
	// directory, so that the rename is atomic and nothing planted there
	// (a link named FILE.tmp) is followed.
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if err := s.ExportCSV(ctx, f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	counts, _ := s.Counts(ctx)
	n := 0
	for _, c := range counts {
		n += c
	}
	fmt.Fprintf(stdout, "exported %d subscribers to %s\n", n, path)
	return nil
}
