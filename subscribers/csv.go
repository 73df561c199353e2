package subscribers

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"
)

// ExportHeader is the first row of ExportCSV.
var ExportHeader = []string{"email", "name", "language", "themes", "status", "paused", "timezone", "bounce_count", "created_at", "confirmed_at", "status_at"}

// ExportCSV writes every subscriber as CSV with a header row. The first
// four columns are the import format; ImportCSV reads the file back,
// keeping unsubscribed and bounced readers in those states. No field can
// run as a spreadsheet formula (see csvSafe).
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
		row := []string{sub.Email, sub.Name, sub.Language, strings.Join(sub.Themes, ";"), sub.Status,
			strconv.FormatBool(sub.Paused), sub.Timezone, strconv.Itoa(sub.BounceCount), ts(sub.CreatedAt), ts(sub.ConfirmedAt), ts(sub.StatusAt)}
		for i := range row {
			row[i] = csvSafe(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// formulaStart are the first characters that make a spreadsheet cell a
// formula.
const formulaStart = "=+-@\t\r"

// csvSafe defuses a spreadsheet formula in any exported field (a name
// "=HYPERLINK(...)", an address "=cmd|...@example.org"): an apostrophe
// before it makes the cell text. ImportCSV takes the apostrophe off again
// (see csvUnsafe), so an export imports back unchanged.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune(formulaStart, rune(s[0])) {
		return "'" + s
	}
	return s
}

// csvUnsafe undoes csvSafe.
func csvUnsafe(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune(formulaStart, rune(s[1])) {
		return s[1:]
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
