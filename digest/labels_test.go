package digest_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/digest/theme"
)

// Every include, exclude, move and add is kept; the latest decision about
// an item is its label, and the export reads back with -eval-themes' reader.
func TestStaffDecisionsBecomeLabels(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Now()
	f.portal.add("/a", "a1", "fdi: VSIP expands", "https://p.example/1", now.Add(-1*time.Hour))
	f.portal.add("/a", "a2", "LG Display hires", "https://p.example/2", now.Add(-2*time.Hour))
	f.portal.add("/a", "a3", "china: Guangxi delegation", "https://p.example/3", now.Add(-3*time.Hour))
	f.portal.add("/a", "a4", "diaspora: kiều bào", "https://p.example/4", now.Add(-4*time.Hour))
	iss, _ := f.fetchAndAssemble()
	id := func(title string) int64 {
		for _, it := range iss.Items {
			if it.Item.Title == title {
				return it.ItemID
			}
		}
		t.Fatalf("no %q", title)
		return 0
	}
	vsip, lg, guangxi, kieu := id("fdi: VSIP expands"), id("LG Display hires"), id("china: Guangxi delegation"), id("diaspora: kiều bào")
	step := func(fn func(version int) error) {
		t.Helper()
		cur, err := f.issues.Issue(ctx, iss.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := fn(cur.Version); err != nil {
			t.Fatal(err)
		}
	}
	step(func(v int) error { return f.issues.MoveItem(ctx, iss.ID, v, lg, "fdi") })
	step(func(v int) error { return f.issues.SetIncluded(ctx, iss.ID, v, vsip, false) })
	step(func(v int) error { return f.issues.SetIncluded(ctx, iss.ID, v, vsip, true) }) // changed their mind
	step(func(v int) error { return f.issues.SetIncluded(ctx, iss.ID, v, guangxi, false) })
	step(func(v int) error { return f.issues.MoveItem(ctx, iss.ID, v, kieu, "other") })
	// A failed edit leaves no label.
	if err := f.issues.MoveItem(ctx, iss.ID, 1, vsip, "china"); !errors.Is(err, digest.ErrConflict) {
		t.Fatalf("stale version: %v", err)
	}

	labels, err := f.issues.Labels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(labels) != 4 {
		t.Fatalf("%d labels, want one per item acted on: %+v", len(labels), labels)
	}
	items, err := f.issues.LabelledItems(ctx, f.d.Themes)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := digest.WriteLabelled(&buf, items); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	back, err := theme.ReadLabelled(strings.NewReader(buf.String()), map[string]bool{"diaspora": true, "fdi": true, "china": true})
	if err != nil {
		t.Fatalf("the export does not read back: %v\n%s", err, buf.String())
	}
	for _, it := range back {
		got[it.Title] = strings.Join(it.Labels, ",") + " / " + strings.Join(it.Option, ",")
	}
	want := map[string]string{
		"LG Display hires":          "fdi / diaspora,china", // moved out of other into fdi
		"fdi: VSIP expands":         "fdi / diaspora,china", // the last decision counts: included
		"china: Guangxi delegation": " / diaspora,fdi",      // excluded: not china, the rest open
		"diaspora: kiều bào":        " / fdi,china",         // moved to other: not diaspora
	}
	for title, w := range want {
		if got[title] != w {
			t.Errorf("%s: labels / optional = %q, want %q", title, got[title], w)
		}
	}
}
