package subscribers

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"

	"modernc.org/sqlite"

	"github.com/haiphong/hpdigest/internal/textfold"
)

// Search is what the staff look for among the subscribers: Text in the
// address or the name (any case, with or without Vietnamese marks:
// "nguyen" finds "Nguyễn"), with a status ("" = any); Offset and Limit
// choose the page.
type Search struct {
	Text   string
	Status string
	Offset int
	Limit  int
}

// SearchResult is one page of a Search and how many subscribers match in
// all.
type SearchResult struct {
	Rows    []Subscriber
	Matched int
}

// foldFunc is the SQL name of textfold.ASCII, registered for every
// connection the sqlite driver opens.
const foldFunc = "hpdigest_fold"

func init() {
	sqlite.MustRegisterDeterministicScalarFunction(foldFunc, 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		s, ok := args[0].(string)
		if !ok {
			return "", nil // NULL or not text: matches only an empty search
		}
		return textfold.ASCII(s), nil
	})
}

// likeContains is a LIKE pattern (escape character \) matching text
// anywhere.
func likeContains(text string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(text) + "%"
}

// Search returns the page of subscribers that q asks for, in the order
// they came (by id), and the number that match in all. Only that page is
// read into memory, whatever the number of subscribers.
func (s *Store) Search(ctx context.Context, q Search) (SearchResult, error) {
	var where []string
	var args []any
	if q.Status != "" {
		where = append(where, "status = ?")
		args = append(args, q.Status)
	}
	if text := strings.TrimSpace(q.Text); text != "" {
		// Addresses are matched as typed and folded (LIKE ignores ASCII
		// case), names folded like the text.
		where = append(where, `(email LIKE ? ESCAPE '\' OR email LIKE ? ESCAPE '\' OR `+foldFunc+`(name) LIKE ? ESCAPE '\')`)
		folded := likeContains(textfold.ASCII(text))
		args = append(args, likeContains(text), folded, folded)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var res SearchResult
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscribers`+cond, args...).Scan(&res.Matched); err != nil {
		return res, fmt.Errorf("subscribers: search: %w", err)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.query(ctx, `SELECT `+cols+` FROM subscribers`+cond+` ORDER BY id LIMIT ? OFFSET ?`, append(args, limit, max(q.Offset, 0))...)
	if err != nil {
		return res, fmt.Errorf("subscribers: search: %w", err)
	}
	res.Rows = rows
	return res, nil
}
