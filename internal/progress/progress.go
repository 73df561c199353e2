// Package progress shows how far a long command has got: a bar on a
// terminal, or a log line at most every so often (and the last one) in a
// log or a pipe.
package progress

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

// Reporter shows one job's progress; safe for concurrent use.
type Reporter struct {
	w     io.Writer
	log   *slog.Logger
	every time.Duration
	tty   bool
	opts  []progressbar.Option

	mu   sync.Mutex
	bar  *progressbar.ProgressBar
	last time.Time
}

// New returns a Reporter that draws a bar (with opts besides its own)
// when w is a terminal, and otherwise logs to log (nil: a text logger on
// w) at most every `every`.
func New(w io.Writer, log *slog.Logger, every time.Duration, opts ...progressbar.Option) *Reporter {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return NewFor(w, log, every, tty, opts...)
}

// NewFor is New with the choice between bar and log lines made by tty.
func NewFor(w io.Writer, log *slog.Logger, every time.Duration, tty bool, opts ...progressbar.Option) *Reporter {
	if log == nil {
		log = slog.New(slog.NewTextHandler(w, nil))
	}
	return &Reporter{w: w, log: log, every: every, tty: tty, opts: opts}
}

// Step is one report of progress.
type Step struct {
	Done, Total int64
	Desc        string       // the bar's description
	Stop        bool         // the job has ended: the bar stops where it is
	After       string       // printed below the bar once it stops
	Last        bool         // the log line is written however soon after the previous one
	Msg         string       // the log line's message
	Args        func() []any // its attributes, asked for only when it is written
}

// Report shows s.
func (r *Reporter) Report(s Step) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tty {
		if r.bar == nil {
			opts := append([]progressbar.Option{progressbar.OptionSetWriter(r.w),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionSetElapsedTime(true),
				progressbar.OptionFullWidth(),
				progressbar.OptionSetRenderBlankState(true)}, r.opts...)
			r.bar = progressbar.NewOptions64(s.Total, opts...)
		}
		r.bar.ChangeMax64(s.Total)
		r.bar.Describe(s.Desc)
		_ = r.bar.Set64(s.Done)
		if s.Stop {
			_ = r.bar.Exit() // left where it stopped
			fmt.Fprintln(r.w)
			if s.After != "" {
				fmt.Fprintln(r.w, s.After)
			}
			r.bar = nil
		}
		return
	}
	if !s.Last && !r.last.IsZero() && time.Since(r.last) < r.every {
		return
	}
	r.last = time.Now()
	r.log.Info(s.Msg, s.Args()...)
}
