package story

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// Stories do not depend on the order items arrive in or on their ids:
// the daemon's ids come from the order concurrent fetches stored them.
// Every labelled set is grouped in its own order and again shuffled and
// renamed; the pairs joined must be the same.
func TestGroupingIgnoresOrderAndIDs(t *testing.T) {
	d := Default()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, es := range evalSets {
		name := es.name
		set := readSet(t, es.path)
		items := make([]Item, len(set))
		for i, l := range set {
			items[i] = l.Item
		}
		want := joinedPairs(t, d, items, func(id string) string { return id })
		for round := range 3 {
			perm := rng.Perm(len(items))
			shuffled := make([]Item, len(items))
			original := map[string]string{}
			for k, p := range perm {
				it := items[p]
				it.ID = fmt.Sprintf("x%d", rng.IntN(1_000_000)*1000+k) // unique, in no relation to the original order
				original[it.ID] = items[p].ID
				shuffled[k] = it
			}
			got := joinedPairs(t, d, shuffled, func(id string) string { return original[id] })
			if !slices.Equal(got, want) {
				t.Errorf("%s, shuffle %d: %d joined pairs, want the %d of the file's own order; first difference %v",
					name, round, len(got), len(want), firstDifference(got, want))
			}
		}
	}
}

func joinedPairs(t *testing.T, d *Detector, items []Item, id func(string) string) []string {
	t.Helper()
	g, err := d.Group(items, Constraints{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range g.Stories {
		for i, a := range s.Items {
			for _, b := range s.Items[i+1:] {
				x, y := id(a), id(b)
				if y < x {
					x, y = y, x
				}
				out = append(out, x+"~"+y)
			}
		}
	}
	slices.Sort(out)
	return out
}

func firstDifference(a, b []string) string {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return "joined only when shuffled: " + x
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			return "joined only in the file's order: " + x
		}
	}
	return "none"
}

// A pair scores the same whichever of its items comes first: "12th
// anniversary" in one and "12 năm" in the other count alike both ways.
func TestPairScoreIsSymmetric(t *testing.T) {
	d := Default()
	en := Item{ID: "a", Lang: "en", Title: "Hai Phong and Kitakyushu celebrate sister-city relationship",
		Summary:   "HAI PHONG — Leaders of Hai Phong and Japan's Kitakyushu on Friday celebrated the 12th anniversary of their sister-city relationship, which has brought Japanese know-how in clean water and waste treatment to the city.",
		Published: day(27)}
	vi := Item{ID: "b", Lang: "vi", Title: "Kỷ niệm 12 năm quan hệ thành phố kết nghĩa Hải Phòng – Kitakyushu",
		Summary:   "Bí thư Thành ủy Hải Phòng Lê Tiến Châu và Thị trưởng thành phố Kitakyushu Takeuchi Kazuhisa dự lễ kỷ niệm; hai bên nhất trí mở rộng hợp tác sang lĩnh vực đô thị thông minh và năng lượng sạch.",
		Published: day(27)}
	x := d.Compare(en, vi)
	vi.ID, en.ID = "a", "b"
	y := d.Compare(en, vi)
	if x.Score != y.Score || x.Same != y.Same {
		t.Errorf("the score depends on which item comes first: %.2f (%s) and %.2f (%s)", x.Score, x.Explanation, y.Score, y.Explanation)
	}
}
