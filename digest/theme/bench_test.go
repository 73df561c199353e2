package theme

import (
	"os"
	"strings"
	"testing"
)

func benchItems(b *testing.B) []Labelled {
	f, err := os.Open("../../testdata/themes/labelled.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	items, err := ReadLabelled(f, map[string]bool{"diaspora": true, "fdi": true, "china": true})
	if err != nil {
		b.Fatal(err)
	}
	return items
}

// BenchmarkClassify measures one item (title + lead) with the shipped rules,
// next to a baseline measured in the same run: lower-casing the text and a
// plain strings.Contains for every phrase, cue and negative of the same rules
// (no normalisation, no whole words, no scoring). ns/op is per item.
func BenchmarkClassify(b *testing.B) {
	items := benchItems(b)
	c, err := New(Defaults())
	if err != nil {
		b.Fatal(err)
	}
	var phrases []string
	for _, t := range Defaults() {
		for _, l := range [][]Phrase{t.Phrases, t.Cues, t.Negatives} {
			for _, p := range l {
				phrases = append(phrases, strings.ToLower(strings.TrimSuffix(p.Text, "*")))
			}
		}
	}
	b.Run("rules", func(b *testing.B) {
		i := 0
		for b.Loop() {
			it := &items[i%len(items)]
			c.Classify(it.Title, it.Summary)
			i++
		}
	})
	b.Run("baseline-contains", func(b *testing.B) {
		i, n := 0, 0
		for b.Loop() {
			it := &items[i%len(items)]
			t, s := strings.ToLower(it.Title), strings.ToLower(it.Summary)
			for _, p := range phrases {
				if strings.Contains(t, p) || strings.Contains(s, p) {
					n++
				}
			}
			i++
		}
		_ = n
	})
}
