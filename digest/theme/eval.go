package theme

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Labelled is one line of a labelled set (JSON Lines; the format of
// testdata/themes/*.jsonl).
type Labelled struct {
	ID      string   `json:"id"`
	Source  string   `json:"source,omitempty"`
	Lang    string   `json:"lang"`
	Title   string   `json:"title"`
	Summary string   `json:"summary"`
	Labels  []string `json:"labels"`   // themes a reader of the theme must get; empty = other
	Option  []string `json:"optional"` // themes acceptable either way: neither right nor wrong
}

// ReadLabelled parses a labelled set. known is the set of valid theme keys;
// a label outside it (other than "other") is an error naming the line, as is
// a malformed line, a missing id or labels, a duplicate id or an item without
// text. Fields it does not use (url, published, ... in a set exported from
// elsewhere) are ignored. Blank lines are skipped.
func ReadLabelled(r io.Reader, known map[string]bool) ([]Labelled, error) {
	var out []Labelled
	ids := map[string]int{}
	type rawLine struct {
		Labelled
		Labels *[]string `json:"labels"` // nil: the field is missing
	}
	err := ReadJSONLines(r, func(line int, raw rawLine) error {
		it := raw.Labelled
		if it.ID == "" {
			return fmt.Errorf("line %d: missing id", line)
		}
		if raw.Labels == nil {
			return fmt.Errorf("line %d (%s): missing labels ([] for an item of no theme)", line, it.ID)
		}
		it.Labels = *raw.Labels
		if prev, ok := ids[it.ID]; ok {
			return fmt.Errorf("line %d: id %q already used on line %d", line, it.ID, prev)
		}
		ids[it.ID] = line
		if strings.TrimSpace(it.Title) == "" && strings.TrimSpace(it.Summary) == "" {
			return fmt.Errorf("line %d (%s): no title and no summary", line, it.ID)
		}
		for _, l := range append(append([]string(nil), it.Labels...), it.Option...) {
			if l != Other && !known[l] {
				return fmt.Errorf("line %d (%s): unknown theme %q", line, it.ID, l)
			}
		}
		out = append(out, it)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("no labelled items")
	}
	return out, nil
}

// Stats are the counts and scores of one theme.
type Stats struct {
	Key                 string
	TP, FP, FN, Ignored int // Ignored: optional for an item and so not counted
	Precision, Recall   float64
	F1                  float64
}

func (s *Stats) finish() {
	s.Precision, s.Recall, s.F1 = PrecisionRecall(s.TP, s.FP, s.FN)
}

// PrecisionRecall scores counts of true positives, false positives and
// false negatives. With nothing predicted and nothing to find the result
// is perfect; with nothing predicted but something to find, precision is 0.
func PrecisionRecall(tp, fp, fn int) (precision, recall, f1 float64) {
	switch {
	case tp+fp > 0:
		precision = float64(tp) / float64(tp+fp)
	case fn == 0:
		precision = 1
	}
	switch {
	case tp+fn > 0:
		recall = float64(tp) / float64(tp+fn)
	case fp == 0:
		recall = 1
	}
	if precision+recall > 0 {
		f1 = 2 * precision * recall / (precision + recall)
	}
	return precision, recall, f1
}

// Miss is an item whose predicted themes differ from its labels (optional
// themes aside).
type Miss struct {
	Item      Labelled
	Predicted []string
	Missing   []string // labelled, not predicted
	Extra     []string // predicted, neither labelled nor optional
	Result    Result
}

// Report is the outcome of an evaluation.
type Report struct {
	Items   int
	Themes  []Stats // configured themes, in config order
	Other   Stats   // "other" as a label of its own, for information
	MacroF1 float64 // mean F1 of the configured themes ("other" not included)
	Misses  []Miss
}

// Evaluate classifies every item of a labelled set and compares with its
// labels. It fails only on bad input, never on low scores.
func Evaluate(c *Classifier, r io.Reader) (*Report, error) {
	known := map[string]bool{}
	for _, t := range c.Themes() {
		known[t.Key] = true
	}
	items, err := ReadLabelled(r, known)
	if err != nil {
		return nil, err
	}
	return EvaluateItems(c, items), nil
}

// EvaluateItems is Evaluate on items already read (their labels must be
// themes of c or "other").
func EvaluateItems(c *Classifier, items []Labelled) *Report {
	rs := c.cur.Load() // one set of rules for the whole run
	rep := &Report{Items: len(items), Other: Stats{Key: Other}}
	idx := map[string]int{}
	for i, t := range rs.themes {
		rep.Themes = append(rep.Themes, Stats{Key: t.Key})
		idx[t.Key] = i
	}
	for _, it := range items {
		res := rs.classify(it.Title, it.Summary)
		want, opt := set(it.Labels), set(it.Option)
		delete(want, Other)
		got := set(res.Themes)
		m := Miss{Item: it, Predicted: res.Themes, Result: res}
		for _, t := range rs.themes {
			s := &rep.Themes[idx[t.Key]]
			switch {
			case opt[t.Key] && !want[t.Key]:
				s.Ignored++
			case want[t.Key] && got[t.Key]:
				s.TP++
			case want[t.Key]:
				s.FN++
				m.Missing = append(m.Missing, t.Key)
			case got[t.Key]:
				s.FP++
				m.Extra = append(m.Extra, t.Key)
			}
		}
		// "other": labelled with no theme vs predicted no theme.
		switch wantOther, gotOther := len(want) == 0, len(got) == 0; {
		case wantOther && gotOther:
			rep.Other.TP++
		case wantOther:
			rep.Other.FN++
		case gotOther:
			rep.Other.FP++
		}
		if len(m.Missing)+len(m.Extra) > 0 {
			rep.Misses = append(rep.Misses, m)
		}
	}
	for i := range rep.Themes {
		rep.Themes[i].finish()
		rep.MacroF1 += rep.Themes[i].F1
	}
	rep.Other.finish()
	if len(rep.Themes) > 0 {
		rep.MacroF1 /= float64(len(rep.Themes))
	}
	return rep
}

func set(s []string) map[string]bool {
	m := make(map[string]bool, len(s))
	for _, x := range s {
		m[x] = true
	}
	return m
}

// Print writes the report: a table of precision, recall and F1 per theme,
// macro-F1, then every misclassified item with its explanation.
func (r *Report) Print(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%d items\n\n", r.Items)
	fmt.Fprintf(bw, "%-10s %5s %5s %5s %5s %9s %7s %7s\n", "theme", "TP", "FP", "FN", "opt", "precision", "recall", "F1")
	row := func(s Stats) {
		fmt.Fprintf(bw, "%-10s %5d %5d %5d %5d %9.3f %7.3f %7.3f\n", s.Key, s.TP, s.FP, s.FN, s.Ignored, s.Precision, s.Recall, s.F1)
	}
	for _, s := range r.Themes {
		row(s)
	}
	row(r.Other)
	fmt.Fprintf(bw, "\nmacro-F1 (themes, without other): %.3f\n", r.MacroF1)
	if len(r.Misses) == 0 {
		fmt.Fprintf(bw, "\nno misclassified items\n")
	} else {
		fmt.Fprintf(bw, "\n%d misclassified items:\n", len(r.Misses))
	}
	for _, m := range r.Misses {
		pred := strings.Join(m.Predicted, ", ")
		if pred == "" {
			pred = Other
		}
		fmt.Fprintf(bw, "\n[%s] %s\n", m.Item.ID, m.Item.Title)
		fmt.Fprintf(bw, "  labels: %s; predicted: %s", labelText(m.Item.Labels), pred)
		if len(m.Missing) > 0 {
			fmt.Fprintf(bw, "; missing: %s", strings.Join(m.Missing, ", "))
		}
		if len(m.Extra) > 0 {
			fmt.Fprintf(bw, "; wrongly added: %s", strings.Join(m.Extra, ", "))
		}
		fmt.Fprintf(bw, "\n  %s\n", strings.ReplaceAll(m.Result.Explanation, "\n", "\n  "))
	}
	return bw.Flush()
}

func labelText(l []string) string {
	if len(l) == 0 {
		return Other
	}
	return strings.Join(l, ", ")
}

// EvaluateFile is Evaluate on a file (for `hpdigest -eval-themes FILE`);
// errors name the file.
func EvaluateFile(c *Classifier, path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rep, err := Evaluate(c, f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rep, nil
}
