package deliver

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

// NewProgress returns a function for Engine.Progress. On a terminal (w is
// an *os.File that is a TTY) it draws a progress bar with the send rate and
// the time left; otherwise it logs a plain line at most every `every` (and
// at the end), for logs and pipes. Done() rows (sent, failed, skipped) count
// as progress.
func NewProgress(w io.Writer, log *slog.Logger, every time.Duration) func(Summary) {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return newProgress(w, log, every, tty)
}

func newProgress(w io.Writer, log *slog.Logger, every time.Duration, tty bool) func(Summary) {
	if log == nil {
		log = slog.New(slog.NewTextHandler(w, nil))
	}
	var mu sync.Mutex
	var bar *progressbar.ProgressBar
	var last time.Time
	return func(s Summary) {
		mu.Lock()
		defer mu.Unlock()
		done := int64(s.Sent + s.Failed + s.Skipped)
		final := s.Final || s.Done
		if tty {
			if bar == nil {
				bar = progressbar.NewOptions64(int64(s.Total),
					progressbar.OptionSetWriter(w),
					progressbar.OptionSetDescription(fmt.Sprintf("issue %d", s.IssueID)),
					progressbar.OptionShowCount(),
					progressbar.OptionShowIts(),
					progressbar.OptionSetItsString("msg"),
					progressbar.OptionSetPredictTime(true),
					progressbar.OptionSetElapsedTime(true),
					progressbar.OptionFullWidth(),
					progressbar.OptionSetRenderBlankState(true))
			}
			bar.ChangeMax64(int64(s.Total))
			desc := fmt.Sprintf("issue %d: %d failed", s.IssueID, s.Failed)
			if s.RateLimit > 0 {
				desc += fmt.Sprintf(", limit %.0f/s", s.RateLimit)
			}
			bar.Describe(desc)
			_ = bar.Set64(done)
			if s.Final {
				_ = bar.Exit() // leave the bar where it stopped (retry rows may remain)
				fmt.Fprintln(w)
				fmt.Fprintln(w, s.String())
				bar = nil
			}
			return
		}
		if !final && !last.IsZero() && time.Since(last) < every {
			return
		}
		last = time.Now()
		args := []any{"issue", s.IssueID, "done", done, "total", s.Total, "sent", s.Sent, "failed", s.Failed,
			"skipped", s.Skipped, "retry", s.Retry, "rate_per_s", fmt.Sprintf("%.1f", s.Rate)}
		if s.RateLimit > 0 {
			args = append(args, "limit_per_s", s.RateLimit)
		}
		if left := s.Total - int(done); left > 0 && s.Rate > 0 {
			args = append(args, "eta", time.Duration(float64(left)/s.Rate*float64(time.Second)).Round(time.Second))
		}
		log.Info("deliver: progress", args...)
	}
}
