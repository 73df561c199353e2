package story

import (
	"fmt"
	"hash/fnv"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/haiphong/hpdigest/digest/theme"
)

// monthOfItems builds n items (a busy month's assembly window) from the
// labelled sets: copy k of every story gets its own dates (spread over 30
// days), ids, links and figures, and some of its names and words replaced
// by others of the same language (the same replacement in every item of
// the copy), so copies read like other news of the portals while the
// items of one copy keep what links them.
func monthOfItems(tb testing.TB, n int) []Labelled {
	var seeds []Labelled
	for _, path := range []string{"../../testdata/stories/dev.jsonl", "../../testdata/stories/heldout.jsonl"} {
		f, err := os.Open(path)
		if err != nil {
			tb.Fatal(err)
		}
		items, err := ReadLabelled(f)
		f.Close()
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, items...)
	}
	words := regexp.MustCompile(`\p{L}+|[0-9]+`)
	// The vocabulary of each language, capitalised words apart.
	vocab := map[string][2][]string{}
	seen := map[string]bool{}
	for _, s := range seeds {
		for _, w := range words.FindAllString(s.Title+" "+s.Summary, -1) {
			if seen[s.Lang+w] || w[0] >= '0' && w[0] <= '9' {
				continue
			}
			seen[s.Lang+w] = true
			v := vocab[s.Lang]
			r, _ := utf8.DecodeRuneInString(w)
			if unicode.IsUpper(r) {
				v[1] = append(v[1], w)
			} else {
				v[0] = append(v[0], w)
			}
			vocab[s.Lang] = v
		}
	}
	hash := func(w string, k int) uint64 {
		h := fnv.New64a()
		fmt.Fprintf(h, "%s\x00%d", w, k)
		return h.Sum64()
	}
	base := time.Date(2026, 10, 1, 0, 0, 0, 0, vietnamTime)
	var out []Labelled
	for k := 0; len(out) < n; k++ {
		shift := (k * 7) % 30
		vary := func(lang, text string) string {
			if k == 0 {
				return text
			}
			return words.ReplaceAllStringFunc(text, func(w string) string {
				if w[0] >= '0' && w[0] <= '9' {
					v, _ := strconv.Atoi(w)
					return strconv.Itoa(v + k*3)
				}
				h := hash(w, k)
				r, _ := utf8.DecodeRuneInString(w)
				pool := vocab[lang][0]
				if unicode.IsUpper(r) {
					pool = vocab[lang][1]
					if h%2 == 0 {
						return w
					}
				} else if h%4 != 0 {
					return w
				}
				return pool[(h>>8)%uint64(len(pool))]
			})
		}
		for _, s := range seeds {
			if len(out) == n {
				break
			}
			it := s
			it.ID = fmt.Sprintf("%s-%d", s.ID, k)
			if s.Story != "" {
				it.Story = fmt.Sprintf("%s-%d", s.Story, k)
			}
			it.Title, it.Summary = vary(s.Lang, s.Title), vary(s.Lang, s.Summary)
			if k > 0 && s.URL != "" {
				i := strings.LastIndexByte(s.URL, '.')
				it.URL = fmt.Sprintf("%s-%d%s", s.URL[:i], k, s.URL[i:])
			}
			if !s.Published.IsZero() {
				day := s.Published.Sub(base) / (24 * time.Hour)
				it.Published = base.AddDate(0, 0, (int(day)+shift)%30)
			}
			out = append(out, it)
		}
	}
	return out
}

// BenchmarkGroupMonth measures, in the same run over the same 5,000
// items (a busy month's assembly window): theme classification (the work
// draft assembly already does per item, the baseline); grouping items
// prepared beforehand, as the daemon does with the signals it stored at
// ingestion (prepared); the same after decoding the stored encodings
// (restored); and grouping from the items' text (full: extraction and
// comparison). It reports milliseconds per 5,000 items and each ratio to
// classification.
//
//	go test ./digest/story/ -run '^$' -bench GroupMonth -benchtime 5x
func BenchmarkGroupMonth(b *testing.B) {
	items := monthOfItems(b, 5000)
	plain := make([]Item, len(items))
	for i, it := range items {
		plain[i] = it.Item
	}
	c, err := theme.New(theme.Defaults())
	if err != nil {
		b.Fatal(err)
	}
	d := Default()
	prepared := make([]*Prepared, len(plain))
	encoded := make([][]byte, len(plain))
	for i, it := range plain {
		prepared[i] = d.Prepare(it)
		encoded[i], _ = prepared[i].MarshalBinary()
	}
	var themeTime, preparedTime, restoredTime, fullTime time.Duration
	var stories, suggestions int
	for b.Loop() {
		t0 := time.Now()
		for _, it := range plain {
			c.Classify(it.Title, it.Summary)
		}
		t1 := time.Now()
		g, err := d.GroupPrepared(prepared, Constraints{})
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		restored := make([]*Prepared, len(plain))
		for i, it := range plain {
			restored[i], _ = d.Restore(it, encoded[i])
		}
		if _, err := d.GroupPrepared(restored, Constraints{}); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		if _, err := d.Group(plain, Constraints{}); err != nil {
			b.Fatal(err)
		}
		fullTime += time.Since(t3)
		restoredTime += t3.Sub(t2)
		preparedTime += t2.Sub(t1)
		themeTime += t1.Sub(t0)
		stories, suggestions = len(g.Stories), len(g.Suggestions)
	}
	n := float64(b.N)
	ms := func(t time.Duration) float64 { return float64(t.Microseconds()) / 1000 / n }
	b.ReportMetric(ms(themeTime), "theme-ms")
	b.ReportMetric(ms(preparedTime), "prepared-ms")
	b.ReportMetric(ms(restoredTime), "restored-ms")
	b.ReportMetric(ms(fullTime), "full-ms")
	b.ReportMetric(float64(preparedTime)/float64(themeTime), "prepared/theme")
	b.ReportMetric(float64(restoredTime)/float64(themeTime), "restored/theme")
	b.ReportMetric(float64(fullTime)/float64(themeTime), "full/theme")
	b.ReportMetric(float64(stories), "stories")
	b.ReportMetric(float64(suggestions), "suggestions")
}
