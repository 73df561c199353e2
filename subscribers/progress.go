package subscribers

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/haiphong/hpdigest/internal/progress"
)

// NewImportProgress returns a progress function for CLIImport. On a
// terminal (w is an *os.File that is a TTY) it draws a bar over the file's
// bytes with the counts so far; otherwise it logs a line at most every
// `every`, for logs and pipes.
func NewImportProgress(w io.Writer, log *slog.Logger, every time.Duration) func(ImportProgress, int64) {
	return showImport(progress.New(w, log, every, progressbar.OptionShowBytes(true)))
}

func showImport(r *progress.Reporter) func(ImportProgress, int64) {
	return func(p ImportProgress, size int64) {
		end := p.Bytes >= size
		r.Report(progress.Step{Done: p.Bytes, Total: size,
			Desc: fmt.Sprintf("line %d: %d added, %d updated, %d rejected", p.Lines, p.Added, p.Updated, p.Rejected),
			Stop: end, Last: end, Msg: "import: progress", Args: func() []any {
				args := []any{"line", p.Lines, "added", p.Added, "updated", p.Updated, "skipped", p.Skipped, "rejected", p.Rejected}
				if size > 0 {
					args = append(args, "done", fmt.Sprintf("%.0f%%", 100*float64(p.Bytes)/float64(size)))
				}
				return args
			}})
	}
}
