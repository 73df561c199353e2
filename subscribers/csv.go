package subscribers

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ImportReport says what an import did, line by line for problems.
type ImportReport struct {
	Added, Updated, Skipped int
	// Problems are rejected lines (bad address, language, theme, CSV syntax).
	Problems []LineError
	// SkippedLines are valid lines deliberately not applied: addresses that
	// unsubscribed, bounced or asked to be deleted, and repeated addresses.
	SkippedLines []LineError
}

// LineError is one rejected CSV line.
type LineError struct {
	Line int
	Err  error
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// maxImportField bounds one CSV field (a hostile or broken file).
const maxImportField = 1000

// ImportCSV reads "email,name,language,themes" rows (header optional; themes
// separated by spaces or semicolons; a file whose first line has more
// semicolons than commas is read with ';' between fields, themes then
// separated by spaces or commas). A header row, when present, may name
// the columns in any order (email, name, language|lang, themes, status);
// unknown columns are ignored, so a file from ExportCSV imports back.
// Invalid rows are reported with their line number; every valid row is
// kept. Unsubscribed, bounced and deleted addresses are never resurrected.
// Imported subscribers are confirmed (the operator vouches for them) unless
// a status column says otherwise. The whole import is one transaction: on
// a database error nothing is applied.
func (s *Store) ImportCSV(ctx context.Context, r io.Reader) (ImportReport, error) {
	var rep ImportReport
	// Every physical line is parsed on its own: a stray quote then costs
	// one line instead of swallowing the rest of the file, and line numbers
	// are exact. (Newlines inside fields are never valid in this format.)
	br := bufio.NewReader(r)

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return rep, err
	}
	defer tx.Rollback()
	now := s.now()
	var nSup int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscriber_suppressions`).Scan(&nSup); err != nil {
		return rep, err
	}
	anySuppressed := nSup > 0 // most imports skip the per-row look-up

	col := map[string]int{"email": 0, "name": 1, "language": 2, "themes": 3}
	seen := map[string]int{} // lower-cased address → line
	first := true
	comma := ','
	line := 0
	for {
		text, rerr := br.ReadString('\n')
		if rerr != nil && rerr != io.EOF {
			return rep, fmt.Errorf("subscribers: read CSV: %w", rerr)
		}
		if text == "" && rerr == io.EOF {
			break
		}
		line++
		text = strings.TrimRight(text, "\r\n")
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff")
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		if len(text) > 4*maxImportField {
			rep.Problems = append(rep.Problems, LineError{Line: line, Err: fmt.Errorf("line longer than %d characters", 4*maxImportField)})
			continue
		}
		if first {
			// Spreadsheets in many locales save "CSV" with semicolons.
			if strings.Count(text, ";") > strings.Count(text, ",") {
				comma = ';'
			}
		}
		cr := csv.NewReader(strings.NewReader(text))
		cr.Comma = comma
		cr.FieldsPerRecord = -1
		cr.TrimLeadingSpace = true
		rec, err := cr.Read()
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			rep.Problems = append(rep.Problems, LineError{Line: line, Err: fmt.Errorf("CSV syntax: %v", err)})
			continue
		}
		if _, err := cr.Read(); err != io.EOF {
			rep.Problems = append(rep.Problems, LineError{Line: line, Err: errors.New("CSV syntax: quoted field runs past the end of the line")})
			continue
		}
		if first {
			first = false
			if strings.EqualFold(strings.TrimSpace(rec[0]), "email") || isHeader(rec) {
				col = map[string]int{}
				for i, h := range rec {
					h = strings.ToLower(strings.TrimSpace(h))
					if h == "lang" {
						h = "language"
					}
					if _, dup := col[h]; !dup {
						col[h] = i
					}
				}
				if _, ok := col["email"]; !ok {
					return rep, fmt.Errorf("subscribers: CSV header on line %d has no email column", line)
				}
				continue
			}
		}
		field := func(name string) string {
			i, ok := col[name]
			if !ok || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		if msg := checkFields(rec); msg != "" {
			rep.Problems = append(rep.Problems, LineError{Line: line, Err: errors.New(msg)})
			continue
		}
		sub := Subscriber{Email: field("email"), Name: field("name"), Language: field("language"), Themes: []string{field("themes")}, Timezone: field("timezone")}
		switch st := strings.ToLower(field("status")); st {
		case "", Confirmed:
			sub.Status = Confirmed
		case Pending, Unsubscribed, Bounced:
			sub.Status = st
		default:
			rep.Problems = append(rep.Problems, LineError{Line: line, Err: fmt.Errorf("unknown status %q", st)})
			continue
		}
		if err := s.clean(&sub); err != nil {
			rep.Problems = append(rep.Problems, LineError{Line: line, Err: err})
			continue
		}
		key := strings.ToLower(sub.Email)
		if prev, ok := seen[key]; ok {
			rep.Skipped++
			rep.SkippedLines = append(rep.SkippedLines, LineError{Line: line, Err: fmt.Errorf("%s already on line %d of this file", sub.Email, prev)})
			continue
		}
		seen[key] = line
		if err := s.importOne(ctx, tx, sub, line, now, anySuppressed, &rep); err != nil {
			return ImportReport{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return ImportReport{}, err
	}
	s.changed(ctx)
	return rep, nil
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

func (s *Store) importOne(ctx context.Context, tx *sql.Tx, sub Subscriber, line int, now time.Time, anySuppressed bool, rep *ImportReport) error {
	cur, err := scanSub(tx.QueryRowContext(ctx, `SELECT `+cols+` FROM subscribers WHERE email = ?`, sub.Email))
	if errors.Is(err, sql.ErrNoRows) {
		sup := false
		if anySuppressed {
			if sup, err = suppressed(ctx, tx, sub.Email); err != nil {
				return err
			}
		}
		if sup {
			rep.Skipped++
			rep.SkippedLines = append(rep.SkippedLines, LineError{Line: line, Err: fmt.Errorf("%s was deleted on request; not added again", sub.Email)})
			return nil
		}
		if _, err := insertSub(ctx, tx, sub, now, fmt.Sprintf("CSV import line %d", line)); err != nil {
			return err
		}
		rep.Added++
		return nil
	}
	if err != nil {
		return err
	}
	if cur.Status == Unsubscribed || cur.Status == Bounced {
		rep.Skipped++
		rep.SkippedLines = append(rep.SkippedLines, LineError{Line: line, Err: fmt.Errorf("%s is %s since %s; not resubscribed", sub.Email, cur.Status, cur.StatusAt.Format("2006-01-02"))})
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
		if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET name = ?, language = ?, themes = ?, timezone = ?, updated_at = ? WHERE id = ?`,
			sub.Name, sub.Language, strings.Join(sub.Themes, " "), sub.Timezone, now.Unix(), cur.ID); err != nil {
			return err
		}
		if err := addEvent(ctx, tx, cur.ID, EventChanged, fmt.Sprintf("CSV import line %d: %s", line, strings.Join(changes, "; ")), now); err != nil {
			return err
		}
	}
	statusChanged := false
	if sub.Status != Pending && sub.Status != cur.Status {
		if statusChanged, err = setStatus(ctx, tx, cur.ID, sub.Status, fmt.Sprintf("CSV import line %d", line), now); err != nil {
			return err
		}
	}
	if len(changes) > 0 || statusChanged {
		rep.Updated++
	} else {
		rep.Skipped++
	}
	return nil
}

// ExportHeader is the first row of ExportCSV.
var ExportHeader = []string{"email", "name", "language", "themes", "status", "paused", "timezone", "bounce_count", "created_at", "confirmed_at", "status_at"}

// ExportCSV writes every subscriber as CSV with a header row. The first
// four columns are the import format; ImportCSV reads the file back,
// keeping unsubscribed and bounced readers in those states.
func (s *Store) ExportCSV(ctx context.Context, w io.Writer) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+cols+` FROM subscribers ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	cw := csv.NewWriter(w)
	if err := cw.Write(ExportHeader); err != nil {
		return err
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format(time.RFC3339)
	}
	for rows.Next() {
		sub, err := scanSub(rows)
		if err != nil {
			return err
		}
		if err := cw.Write([]string{sub.Email, csvSafe(sub.Name), sub.Language, strings.Join(sub.Themes, ";"), sub.Status,
			strconv.FormatBool(sub.Paused), sub.Timezone, strconv.Itoa(sub.BounceCount), ts(sub.CreatedAt), ts(sub.ConfirmedAt), ts(sub.StatusAt)}); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe defuses spreadsheet formulas in a free-text field (a name typed
// into the public form as "=HYPERLINK(...)").
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// SubscriberData is everything stored about one reader (data export on
// request).
type SubscriberData struct {
	Email       string    `json:"email"`
	Name        string    `json:"name"`
	Language    string    `json:"language"`
	Themes      []string  `json:"themes"`
	Status      string    `json:"status"`
	Paused      bool      `json:"paused"`
	Timezone    string    `json:"timezone,omitempty"`
	BounceCount int       `json:"bounce_count"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	ConfirmedAt time.Time `json:"confirmed_at,omitzero"`
	StatusAt    time.Time `json:"status_changed_at"`
	Events      []Event   `json:"events"`
}

// Data returns everything stored about one address.
func (s *Store) Data(ctx context.Context, email string) (SubscriberData, error) {
	sub, err := s.ByEmail(ctx, email)
	if err != nil {
		return SubscriberData{}, err
	}
	ev, err := s.Events(ctx, sub.ID)
	if err != nil {
		return SubscriberData{}, err
	}
	if sub.Themes == nil {
		sub.Themes = []string{}
	}
	return SubscriberData{Email: sub.Email, Name: sub.Name, Language: sub.Language, Themes: sub.Themes, Status: sub.Status,
		Paused: sub.Paused, Timezone: sub.Timezone, BounceCount: sub.BounceCount, CreatedAt: sub.CreatedAt, UpdatedAt: sub.UpdatedAt,
		ConfirmedAt: sub.ConfirmedAt, StatusAt: sub.StatusAt, Events: ev}, nil
}

// ExportOne writes everything stored about one address as indented JSON.
func (s *Store) ExportOne(ctx context.Context, email string, w io.Writer) error {
	d, err := s.Data(ctx, email)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}
