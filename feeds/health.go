package feeds

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// WriteHealth prints feed health as a table (for `hpdigest -feeds`): name,
// state, items, consecutive errors, last success, next fetch and the last
// error or the reason a feed is disabled. Times are shown in loc.
func WriteHealth(w io.Writer, hs []FeedHealth, loc *time.Location) error {
	if loc == nil {
		loc = time.UTC
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tITEMS\tERRORS\tLAST SUCCESS\tNEXT FETCH\tPROBLEM")
	for _, h := range hs {
		state := "ok"
		problem := h.LastError
		switch {
		case !h.Enabled:
			state, problem = "disabled", h.DisabledReason
		case h.ErrorCount > 0:
			state = "failing"
		case h.LastFetchAt.IsZero():
			state = "new"
		}
		next := stamp(h.NextFetchAt, loc)
		if !h.Enabled {
			next = "-"
		} else if h.NextFetchAt.IsZero() {
			next = "now"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\n", h.Name, state, h.ItemCount, h.ErrorCount,
			stamp(h.LastSuccessAt, loc), next, oneLine(problem, 100))
	}
	return tw.Flush()
}

func stamp(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "never"
	}
	return t.In(loc).Format("2006-01-02 15:04")
}

func oneLine(s string, n int) string {
	s = collapseSpace(s)
	if s == "" {
		return "-"
	}
	return truncateRunes(s, n)
}
