package subscribers

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// NewImportProgress returns a progress function for CLIImport. On a
// terminal (w is an *os.File that is a TTY) it draws a bar over the file's
// bytes with the counts so far; otherwise it logs a line at most every
// `every`, for logs and pipes.
func NewImportProgress(w io.Writer, log *slog.Logger, every time.Duration) func(ImportProgress, int64) {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return newImportProgress(w, log, every, tty)
}

func newImportProgress(w io.Writer, log *slog.Logger, every time.Duration, tty bool) func(ImportProgress, int64) {
	if log == nil {
		log = slog.New(slog.NewTextHandler(w, nil))
	}
	var mu sync.Mutex
	var bar *progressbar.ProgressBar
	var last time.Time
	return func(p ImportProgress, size int64) {
		mu.Lock()
		defer mu.Unlock()
		if tty {
			if bar == nil {
				bar = progressbar.NewOptions64(size,
					progressbar.OptionSetWriter(w),
					progressbar.OptionShowBytes(true),
					progressbar.OptionSetPredictTime(true),
					progressbar.OptionSetElapsedTime(true),
					progressbar.OptionFullWidth(),
					progressbar.OptionSetRenderBlankState(true))
			}
			bar.Describe(fmt.Sprintf("line %d: %d added, %d updated, %d rejected", p.Lines, p.Added, p.Updated, p.Rejected))
			_ = bar.Set64(p.Bytes)
			if p.Bytes >= size {
				_ = bar.Finish()
				fmt.Fprintln(w)
				bar = nil
			}
			return
		}
		if !last.IsZero() && time.Since(last) < every && p.Bytes < size {
			return
		}
		last = time.Now()
		args := []any{"line", p.Lines, "added", p.Added, "updated", p.Updated, "skipped", p.Skipped, "rejected", p.Rejected}
		if size > 0 {
			args = append(args, "done", fmt.Sprintf("%.0f%%", 100*float64(p.Bytes)/float64(size)))
		}
		log.Info("import: progress", args...)
	}
}
