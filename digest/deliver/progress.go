package deliver

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/haiphong/hpdigest/internal/progress"
)

// NewProgress returns a function for Engine.Progress. On a terminal (w is
// an *os.File that is a TTY) it draws a progress bar with the send rate and
// the time left; otherwise it logs a plain line at most every `every` (and
// at the end), for logs and pipes. Done() rows (sent, failed, skipped) count
// as progress.
func NewProgress(w io.Writer, log *slog.Logger, every time.Duration) func(Summary) {
	return showSend(progress.New(w, log, every, sendBar...))
}

var sendBar = []progressbar.Option{progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("msg")}

func showSend(r *progress.Reporter) func(Summary) {
	return func(s Summary) {
		done := int64(s.Sent + s.Failed + s.Skipped)
		desc := fmt.Sprintf("issue %d: %d failed", s.IssueID, s.Failed)
		if s.RateLimit > 0 {
			desc += fmt.Sprintf(", limit %.0f/s", s.RateLimit)
		}
		r.Report(progress.Step{Done: done, Total: int64(s.Total), Desc: desc,
			Stop: s.Final, After: s.String(), // retry rows may remain: the bar stays where it stopped
			Last: s.Final || s.Done, Msg: "deliver: progress", Args: func() []any {
				args := []any{"issue", s.IssueID, "done", done, "total", s.Total, "sent", s.Sent, "failed", s.Failed,
					"skipped", s.Skipped, "retry", s.Retry, "rate_per_s", fmt.Sprintf("%.1f", s.Rate)}
				if s.RateLimit > 0 {
					args = append(args, "limit_per_s", s.RateLimit)
				}
				if left := s.Total - int(done); left > 0 && s.Rate > 0 {
					args = append(args, "eta", time.Duration(float64(left)/s.Rate*float64(time.Second)).Round(time.Second))
				}
				return args
			}})
	}
}
