package subscribers

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// ImportReport says what an import did, line by line for problems.
type ImportReport struct {
	Added, Updated, Skipped int
	// Rejected counts the lines refused (bad address, language, theme,
	// CSV syntax); Problems lists the first of them.
	Rejected int
	Problems []LineError
	// SkippedLines lists the first valid lines deliberately not applied:
	// addresses that unsubscribed, bounced or asked to be deleted, and
	// repeated addresses. They count in Skipped, as do unchanged lines.
	SkippedLines []LineError
	// Lines is how far the import got: every line up to this one is
	// applied (or rejected). After a cancelled import, running the same
	// file again applies the rest and changes nothing twice.
	Lines int
}

// Unlisted is the number of rejected lines the report does not list.
func (r ImportReport) Unlisted() int { return r.Rejected - len(r.Problems) }

// LineError is one rejected CSV line.
type LineError struct {
	Line int
	Err  error
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// ImportProgress is the state of a running import after a committed batch.
type ImportProgress struct {
	Lines                             int   // lines applied so far
	Bytes                             int64 // bytes of the file read so far
	Added, Updated, Skipped, Rejected int
}

// ImportOptions tune ImportCSVWith; zero values take the defaults.
type ImportOptions struct {
	// BatchRows is the most rows one transaction writes (default 1000).
	BatchRows int
	// BatchTime ends a transaction early once it has held the write lock
	// this long (default 150ms): other writers never wait much longer.
	BatchTime time.Duration
	// Listed bounds the problems and skipped lines the report lists (the
	// counts cover all of them; default DefaultImportListed).
	Listed int
	// Progress, if set, is told the counts after each committed batch.
	Progress func(ImportProgress)
}

// DefaultImportListed is how many rejected (and skipped) lines a report
// lists by default.
const DefaultImportListed = 1000

func (o *ImportOptions) defaults() {
	if o.BatchRows <= 0 {
		o.BatchRows = 1000
	}
	if o.BatchTime <= 0 {
		o.BatchTime = 150 * time.Millisecond
	}
	if o.Listed <= 0 {
		o.Listed = DefaultImportListed
	}
}

// maxImportField bounds one CSV field (a hostile or broken file).
const maxImportField = 1000

// maxImportLine bounds one line of the file.
const maxImportLine = 4 * maxImportField

// ImportCSV is ImportCSVWith with the default options.
func (s *Store) ImportCSV(ctx context.Context, r io.Reader) (ImportReport, error) {
	return s.ImportCSVWith(ctx, r, ImportOptions{})
}

// ImportCSVWith reads "email,name,language,themes" rows (header optional;
// themes separated by spaces or semicolons; a file whose first line has
// more semicolons than commas is read with ';' between fields, themes then
// separated by spaces or commas). A header row, when present, may name
// the columns in any order (email, name, language|lang, themes, status,
// timezone); unknown columns are ignored, so a file from ExportCSV imports
// back. Invalid rows are reported with their line number; every valid row
// is kept. Unsubscribed, bounced and deleted addresses are never
// resurrected; an address repeated in the file is taken from its first
// line. Imported subscribers are confirmed (the operator vouches for them)
// unless a status column says otherwise.
//
// The file is read as a stream and applied in batches, each its own short
// transaction, with a pause after each for other writers (a reader's
// unsubscribe waits for one batch at most). Memory stays flat whatever the
// file's size. A cancelled import (or a database error) keeps the batches
// already committed and reports how far it got in Lines, with the error;
// the same file imported again finishes the job.
func (s *Store) ImportCSVWith(ctx context.Context, r io.Reader, opts ImportOptions) (ImportReport, error) {
	opts.defaults()
	im := &importer{s: s, opts: opts, in: newCSVLines(r)}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return im.rep, err
	}
	defer conn.Close()
	im.conn = conn
	// Addresses seen in this file, for repeats many batches apart: a
	// temporary table of this connection (on disk, not in memory).
	if _, err := conn.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS import_seen (email TEXT PRIMARY KEY COLLATE NOCASE, line INTEGER NOT NULL) WITHOUT ROWID;
		DELETE FROM temp.import_seen`); err != nil {
		return im.rep, fmt.Errorf("subscribers: import: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS temp.import_seen`)
	err = im.run(ctx)
	if im.rep.Added+im.rep.Updated > 0 {
		s.changed(ctx)
	}
	return im.rep, err
}

// importer is one running import.
type importer struct {
	s    *Store
	opts ImportOptions
	in   *csvLines
	conn *sql.Conn
	rep  ImportReport
	// pending are rows read but not yet applied (a batch cut short by
	// BatchTime leaves some).
	pending []importRow
	// problems are the lines rejected while reading pending, reported
	// with the batch that applies them.
	problems []LineError
	eof      bool
}

// importRow is one valid line, ready to apply.
type importRow struct {
	line int
	sub  Subscriber
}

func (im *importer) run(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := im.fill(); err != nil {
			return err
		}
		if len(im.pending) == 0 && len(im.problems) == 0 {
			return nil
		}
		held, err := im.batch(ctx)
		if err != nil {
			return err
		}
		if im.opts.Progress != nil {
			im.opts.Progress(ImportProgress{Lines: im.rep.Lines, Bytes: im.in.bytes, Added: im.rep.Added,
				Updated: im.rep.Updated, Skipped: im.rep.Skipped, Rejected: im.rep.Rejected})
		}
		if im.eof && len(im.pending) == 0 {
			return nil
		}
		// Other writers take their turn now. SQLite's busy handler polls
		// every few milliseconds at first and every 50ms after a tenth of
		// a second: a pause of half the time the lock was held (25ms to
		// 60ms) is always long enough for a waiting writer to get in.
		t := time.NewTimer(min(max(held/2, 25*time.Millisecond), 60*time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// fill reads lines until a batch of rows is pending or the file ends.
// Reading happens outside any transaction: a slow file holds no lock.
func (im *importer) fill() error {
	for !im.eof && len(im.pending) < im.opts.BatchRows {
		row, problem, err := im.in.next(im.s)
		switch {
		case errors.Is(err, io.EOF):
			im.eof = true
		case err != nil:
			return err
		case problem != nil:
			im.problems = append(im.problems, *problem)
		default:
			im.pending = append(im.pending, row)
		}
	}
	return nil
}

// batch applies pending rows in one transaction, until they run out or
// the transaction has held the lock for BatchTime, and adds the outcome
// to the report once committed. It returns how long the lock was held.
func (im *importer) batch(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	tx, err := im.conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("subscribers: import: %w", err)
	}
	defer tx.Rollback()
	x := newPrepared(tx)
	defer x.close()
	var anySuppressed bool
	if err := x.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM subscriber_suppressions)`).Scan(&anySuppressed); err != nil {
		return 0, fmt.Errorf("subscribers: import: %w", err)
	}
	now := im.s.now()
	var out batchOutcome
	applied := 0
	for _, row := range im.pending {
		if applied > 0 && time.Since(start) >= im.opts.BatchTime {
			break
		}
		if err := im.apply(ctx, x, row, now, anySuppressed, &out); err != nil {
			return 0, err
		}
		applied++
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("subscribers: import: %w", err)
	}
	held := time.Since(start)
	// Lines rejected before the last applied row belong to this batch.
	last := im.in.line
	if applied < len(im.pending) {
		last = im.pending[applied].line - 1
	}
	keep := im.problems[:0]
	for _, p := range im.problems {
		if p.Line <= last {
			im.rep.Rejected++
			im.rep.Problems = listed(im.rep.Problems, p, im.opts.Listed)
		} else {
			keep = append(keep, p)
		}
	}
	im.problems = keep
	im.pending = im.pending[applied:]
	im.rep.Added += out.added
	im.rep.Updated += out.updated
	im.rep.Skipped += out.skipped
	for _, l := range out.skippedLines {
		im.rep.SkippedLines = listed(im.rep.SkippedLines, l, im.opts.Listed)
	}
	im.rep.Lines = last
	return held, nil
}

func listed(list []LineError, e LineError, max int) []LineError {
	if len(list) < max {
		list = append(list, e)
	}
	return list
}

// batchOutcome is what one batch did, added to the report on commit.
type batchOutcome struct {
	added, updated, skipped int
	skippedLines            []LineError
}

func (o *batchOutcome) skip(line int, err error) {
	o.skipped++
	o.skippedLines = append(o.skippedLines, LineError{Line: line, Err: err})
}

// apply writes one row: a new reader, changed details, a status from the
// file, or nothing (unchanged, repeated, or a reader who left).
func (im *importer) apply(ctx context.Context, x *prepared, row importRow, now time.Time, anySuppressed bool, out *batchOutcome) error {
	sub, line := row.sub, row.line
	var first int
	if err := x.QueryRowContext(ctx, `INSERT INTO temp.import_seen (email, line) VALUES (?, ?)
		ON CONFLICT (email) DO UPDATE SET line = line RETURNING line`, sub.Email, line).Scan(&first); err != nil {
		return fmt.Errorf("subscribers: import: %w", err)
	}
	if first != line {
		out.skip(line, fmt.Errorf("%s already on line %d of this file", sub.Email, first))
		return nil
	}
	how := fmt.Sprintf("CSV import line %d", line)
	cur, err := scanSub(x.QueryRowContext(ctx, `SELECT `+cols+` FROM subscribers WHERE email = ?`, sub.Email))
	if errors.Is(err, sql.ErrNoRows) {
		if anySuppressed {
			sup, err := suppressed(ctx, x, sub.Email)
			if err != nil {
				return err
			}
			if sup {
				out.skip(line, fmt.Errorf("%s was deleted on request; not added again", sub.Email))
				return nil
			}
		}
		if _, err := insertSub(ctx, x, sub, now, how); err != nil {
			return err
		}
		out.added++
		return nil
	}
	if err != nil {
		return err
	}
	if cur.Status == Unsubscribed || cur.Status == Bounced {
		out.skip(line, fmt.Errorf("%s is %s since %s; not resubscribed", sub.Email, cur.Status, cur.StatusAt.Format("2006-01-02")))
		return nil
	}
	// Confirmed or pending: take the file's details; a status column of
	// unsubscribed/bounced is honoured, pending never downgrades.
	var changes []string
	if sub.Name != "" && sub.Name != cur.Name {
		changes = append(changes, "name")
	} else {
		sub.Name = cur.Name
	}
	if sub.Language != cur.Language {
		changes = append(changes, "language "+cur.Language+" → "+sub.Language)
	}
	if strings.Join(sub.Themes, " ") != strings.Join(cur.Themes, " ") {
		changes = append(changes, fmt.Sprintf("themes [%s] → [%s]", strings.Join(cur.Themes, " "), strings.Join(sub.Themes, " ")))
	}
	if sub.Timezone == "" {
		sub.Timezone = cur.Timezone
	}
	if len(changes) > 0 {
		if _, err := x.ExecContext(ctx, `UPDATE subscribers SET name = ?, language = ?, themes = ?, timezone = ?, updated_at = ? WHERE id = ?`,
			sub.Name, sub.Language, strings.Join(sub.Themes, " "), sub.Timezone, now.Unix(), cur.ID); err != nil {
			return err
		}
		if err := addEvent(ctx, x, cur.ID, EventChanged, how+": "+strings.Join(changes, "; "), now); err != nil {
			return err
		}
	}
	statusChanged := false
	if sub.Status != Pending && sub.Status != cur.Status {
		if statusChanged, err = setStatus(ctx, x, cur.ID, sub.Status, how, now); err != nil {
			return err
		}
	}
	if len(changes) > 0 || statusChanged {
		out.updated++
	} else {
		out.skipped++
	}
	return nil
}

// prepared runs a transaction's statements prepared once each: an import
// runs the same few statements thousands of times.
type prepared struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func newPrepared(tx *sql.Tx) *prepared { return &prepared{tx: tx, stmts: map[string]*sql.Stmt{}} }

func (p *prepared) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := p.stmts[q]; ok {
		return st, nil
	}
	st, err := p.tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	p.stmts[q] = st
	return st, nil
}

func (p *prepared) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := p.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (p *prepared) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := p.stmt(ctx, q)
	if err != nil {
		return p.tx.QueryRowContext(ctx, q, args...) // carries the error to Scan
	}
	return st.QueryRowContext(ctx, args...)
}

func (p *prepared) close() {
	for _, st := range p.stmts {
		st.Close()
	}
}

// csvLines reads an import file one physical line at a time: a stray
// quote then costs one line instead of swallowing the rest of the file,
// line numbers are exact, and no line longer than maxImportLine is ever
// held in memory. (Newlines inside fields are never valid in this format.)
type csvLines struct {
	br    *bufio.Reader
	line  int
	bytes int64
	comma rune
	first bool
	col   map[string]int
}

func newCSVLines(r io.Reader) *csvLines {
	return &csvLines{br: bufio.NewReaderSize(r, 64<<10), comma: ',', first: true,
		col: map[string]int{"email": 0, "name": 1, "language": 2, "themes": 3}}
}

// readLine returns the next line without its end; a line longer than
// maxImportLine is read to its end and returned as too long.
func (c *csvLines) readLine() (text string, tooLong bool, err error) {
	var b []byte
	for {
		chunk, err := c.br.ReadSlice('\n')
		c.bytes += int64(len(chunk))
		if !tooLong {
			if len(b)+len(chunk) > maxImportLine+2 {
				tooLong, b = true, nil
			} else {
				b = append(b, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(b) == 0 && !tooLong {
				return "", false, io.EOF
			}
			return strings.TrimRight(string(b), "\r\n"), tooLong, nil
		case err != nil:
			return "", false, fmt.Errorf("subscribers: read CSV: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), tooLong, nil
	}
}

// next returns the next valid row, or a rejected line as problem; io.EOF
// at the end of the file. A header line is taken in and skipped.
func (c *csvLines) next(s *Store) (importRow, *LineError, error) {
	for {
		text, tooLong, err := c.readLine()
		if err != nil {
			return importRow{}, nil, err
		}
		c.line++
		reject := func(err error) (importRow, *LineError, error) {
			return importRow{}, &LineError{Line: c.line, Err: err}, nil
		}
		if tooLong {
			return reject(fmt.Errorf("line longer than %d characters", maxImportLine))
		}
		if c.line == 1 {
			text = strings.TrimPrefix(text, "\ufeff")
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		if c.first && strings.Count(text, ";") > strings.Count(text, ",") {
			c.comma = ';' // spreadsheets in many locales save "CSV" with semicolons
		}
		cr := csv.NewReader(strings.NewReader(text))
		cr.Comma = c.comma
		cr.FieldsPerRecord = -1
		cr.TrimLeadingSpace = true
		rec, err := cr.Read()
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return reject(fmt.Errorf("CSV syntax: %v", err))
		}
		if _, err := cr.Read(); err != io.EOF {
			return reject(errors.New("CSV syntax: quoted field runs past the end of the line"))
		}
		if c.first {
			c.first = false
			if strings.EqualFold(strings.TrimSpace(rec[0]), "email") || isHeader(rec) {
				c.col = map[string]int{}
				for i, h := range rec {
					h = strings.ToLower(strings.TrimSpace(h))
					if h == "lang" {
						h = "language"
					}
					if _, dup := c.col[h]; !dup {
						c.col[h] = i
					}
				}
				if _, ok := c.col["email"]; !ok {
					return importRow{}, nil, fmt.Errorf("subscribers: CSV header on line %d has no email column", c.line)
				}
				continue
			}
		}
		if msg := checkFields(rec); msg != "" {
			return reject(errors.New(msg))
		}
		field := func(name string) string {
			i, ok := c.col[name]
			if !ok || i >= len(rec) {
				return ""
			}
			return csvUnsafe(strings.TrimSpace(rec[i]))
		}
		sub := Subscriber{Email: field("email"), Name: field("name"), Language: field("language"), Themes: []string{field("themes")}, Timezone: field("timezone")}
		switch st := strings.ToLower(field("status")); st {
		case "", Confirmed:
			sub.Status = Confirmed
		case Pending, Unsubscribed, Bounced:
			sub.Status = st
		default:
			return reject(fmt.Errorf("unknown status %q", st))
		}
		if err := s.clean(&sub); err != nil {
			return reject(err)
		}
		return importRow{line: c.line, sub: sub}, nil, nil
	}
}

func checkFields(rec []string) string {
	for _, f := range rec {
		if len(f) > maxImportField {
			return fmt.Sprintf("a field is longer than %d characters", maxImportField)
		}
		if !utf8.ValidString(f) {
			return "not UTF-8 text (save the file as CSV UTF-8)"
		}
	}
	return ""
}

func isHeader(rec []string) bool {
	for _, f := range rec {
		switch strings.ToLower(strings.TrimSpace(f)) {
		case "email", "e-mail", "name", "language", "lang", "themes":
		default:
			return false
		}
	}
	return len(rec) > 1
}
