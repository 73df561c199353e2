package store

import (
	"context"
	"database/sql"
)

// DeleteBatch is how many rows one statement of DeleteBatched deletes: a
// fraction of a second, so other writers never wait long.
const DeleteBatch = 5000

// DeleteBatched deletes the rows of table matching where (a condition on
// its columns, with args for its placeholders), DeleteBatch rows a
// statement, each its own transaction, and returns how many went. A
// cancelled ctx stops it between statements; what was deleted stays
// deleted and is counted.
func DeleteBatched(ctx context.Context, db *sql.DB, table, where string, args ...any) (int64, error) {
	query := `DELETE FROM ` + table + ` WHERE rowid IN (SELECT rowid FROM ` + table + ` WHERE ` + where + ` LIMIT ?)`
	args = append(args[:len(args):len(args)], DeleteBatch)
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		res, err := db.ExecContext(ctx, query, args...)
		if err != nil {
			return total, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += n
		if n < DeleteBatch {
			return total, nil
		}
	}
}
