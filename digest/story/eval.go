package story

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/haiphong/hpdigest/digest/theme"
)

// Labelled is one line of a labelled set (JSON Lines): an item and the
// event it reports. Items with the same non-empty Story report the same
// event; an empty Story is an item alone.
type Labelled struct {
	Item
	Story string
}

// ReadLabelled parses a labelled set: one JSON object a line with id, lang
// (vi or en), title, summary, published (YYYY-MM-DD, with a time of day,
// RFC 3339, or empty) and story; url and source are used when present,
// other fields are ignored, null is empty. A bad line, a missing id or
// lang, an item without title and summary, a duplicate id or a bad date is
// an error naming the line. Blank lines are skipped.
func ReadLabelled(r io.Reader) ([]Labelled, error) {
	var out []Labelled
	ids := map[string]int{}
	type rawLine struct {
		ID        *string `json:"id"`
		Lang      *string `json:"lang"`
		Title     *string `json:"title"`
		Summary   *string `json:"summary"`
		Published *string `json:"published"`
		Story     *string `json:"story"`
		URL       string  `json:"url"`
		Source    string  `json:"source"`
	}
	err := theme.ReadJSONLines(r, func(line int, raw rawLine) error {
		str := func(p *string) string {
			if p == nil {
				return ""
			}
			return strings.TrimSpace(*p)
		}
		id, lang := str(raw.ID), strings.ToLower(str(raw.Lang))
		switch {
		case id == "":
			return fmt.Errorf("line %d: missing id", line)
		case raw.Lang == nil:
			return fmt.Errorf("line %d (%s): missing lang", line, id)
		case lang != "vi" && lang != "en":
			return fmt.Errorf("line %d (%s): lang %q: want vi or en", line, id, *raw.Lang)
		case raw.Title == nil && raw.Summary == nil:
			return fmt.Errorf("line %d (%s): missing title", line, id)
		case str(raw.Title) == "" && str(raw.Summary) == "":
			return fmt.Errorf("line %d (%s): no title and no summary", line, id)
		}
		it := Labelled{Item: Item{ID: id, Lang: lang, Title: str(raw.Title), Summary: str(raw.Summary), URL: raw.URL, Source: raw.Source}}
		if raw.Story != nil {
			it.Story = strings.TrimSpace(*raw.Story)
		}
		if raw.Published != nil && strings.TrimSpace(*raw.Published) != "" {
			p := strings.TrimSpace(*raw.Published)
			t, err := parseDate(p)
			if err != nil {
				return fmt.Errorf("line %d (%s): published %q: want YYYY-MM-DD", line, it.ID, p)
			}
			it.Published = t
		}
		if prev, ok := ids[it.ID]; ok {
			return fmt.Errorf("line %d: id %q already used on line %d", line, it.ID, prev)
		}
		ids[it.ID] = line
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

// parseDate reads YYYY-MM-DD (in Vietnam's time zone), with a time of day
// or as RFC 3339.
func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	var err error
	for _, layout := range []string{"2006-01-02", "2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02T15:04"} {
		var t time.Time
		if t, err = time.ParseInLocation(layout, s, vietnamTime); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

// Error is a wrong decision of an evaluation.
type Error struct {
	Kind string // "false merge" (one story, labelled apart) or "missed pair"
	A, B Labelled
	// Decision is the pair's own decision; a false merge can also come
	// from joins through other items (Via).
	Decision Decision
	Via      []string // the other items of the story, for a false merge the pair's own decision does not explain
}

// Report is the outcome of an evaluation over every pair of items.
type Report struct {
	Items             int
	TP, FP, FN        int
	Precision, Recall float64
	F1                float64
	Errors            []Error
}

// Evaluate groups a labelled set as the daemon does (no staff decisions)
// and compares every pair of items with the labels. It fails only on bad
// input, never on low scores.
func Evaluate(d *Detector, r io.Reader) (*Report, error) {
	items, err := ReadLabelled(r)
	if err != nil {
		return nil, err
	}
	plain := make([]Item, len(items))
	for i, it := range items {
		plain[i] = it.Item
	}
	g, err := d.Group(plain, Constraints{})
	if err != nil {
		return nil, err
	}
	docs := map[string]*doc{}
	doc := func(it Item) *doc {
		x, ok := docs[it.ID]
		if !ok {
			x = d.prepare(it)
			docs[it.ID] = x
		}
		return x
	}
	rep := &Report{Items: len(items)}
	for i := range items {
		for j := i + 1; j < len(items); j++ {
			a, b := items[i], items[j]
			sa, _ := g.StoryOf(a.ID)
			sb, _ := g.StoryOf(b.ID)
			got := sa == sb
			want := a.Story != "" && a.Story == b.Story
			switch {
			case got && want:
				rep.TP++
			case got:
				rep.FP++
				e := Error{Kind: "false merge", A: a, B: b, Decision: d.decide(doc(a.Item), doc(b.Item))}
				if !e.Decision.Same {
					for _, id := range sa.Items {
						if id != a.ID && id != b.ID {
							e.Via = append(e.Via, id)
						}
					}
				}
				rep.Errors = append(rep.Errors, e)
			case want:
				rep.FN++
				rep.Errors = append(rep.Errors, Error{Kind: "missed pair", A: a, B: b, Decision: d.decide(doc(a.Item), doc(b.Item))})
			}
		}
	}
	rep.Precision, rep.Recall, rep.F1 = theme.PrecisionRecall(rep.TP, rep.FP, rep.FN)
	return rep, nil
}

// Summary is the report's first line.
func (r *Report) Summary() string {
	return fmt.Sprintf("same-story pairs: precision %.3f recall %.3f F1 %.3f (TP %d, FP %d, FN %d)",
		r.Precision, r.Recall, r.F1, r.TP, r.FP, r.FN)
}

// Print writes the summary line, then every wrong decision with its
// explanation.
func (r *Report) Print(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, r.Summary())
	for _, e := range r.Errors {
		fmt.Fprintf(bw, "%s: %s [%s, %s] %q ~ %s [%s, %s] %q\n", e.Kind,
			e.A.ID, e.A.Lang, label(e.A.Story), e.A.Title, e.B.ID, e.B.Lang, label(e.B.Story), e.B.Title)
		fmt.Fprintf(bw, "  %s\n", e.Decision.Explanation)
		if len(e.Via) > 0 {
			fmt.Fprintf(bw, "  joined through: %s\n", strings.Join(e.Via, ", "))
		}
	}
	return bw.Flush()
}

func label(s string) string {
	if s == "" {
		return "alone"
	}
	return s
}

// EvaluateFile is Evaluate on a file (for `hpdigest -eval-stories FILE`);
// errors name the file.
func EvaluateFile(d *Detector, path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rep, err := Evaluate(d, f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rep, nil
}
