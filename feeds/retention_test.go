package feeds

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// OldItems lists the old items retention may delete, leaving out those
// another part keeps; with nothing kept, every old item is listed.
func TestOldItemsLeavesOutKeptItems(t *testing.T) {
	fs := newFeedServer(t)
	var items strings.Builder
	for i := range 5 {
		fmt.Fprintf(&items, `<item><guid>a-%d</guid><title>Tin số %d</title><link>https://portal.example.vn/a/%d.html</link><pubDate>%s</pubDate></item>`,
			i, i, i, time.Now().Add(-time.Duration(i)*time.Hour).Format(time.RFC1123Z))
	}
	fs.set("/a", rss(items.String()))
	st := newTestStore(t)
	sync1(t, st, Source{Name: "A", URL: fs.URL + "/a"})
	ctx := context.Background()
	NewPoller(Config{}, st, nil).FetchAll(ctx)

	later := time.Now().Add(time.Hour) // every item was first seen before
	all, err := st.OldItems(ctx, later, 0, 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 {
		t.Fatalf("old items with nothing kept: %v, want the 5 fetched", all)
	}
	if none, err := st.OldItems(ctx, time.Now().Add(-time.Hour), 0, 100, nil); err != nil || len(none) != 0 {
		t.Fatalf("items first seen after the cutoff listed: %v, %v", none, err)
	}
	kept := []int64{all[1], all[3]}
	got, err := st.OldItems(ctx, later, 0, 100, kept)
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{all[0], all[2], all[4]}
	if !slices.Equal(got, want) {
		t.Errorf("old items keeping %v: %v, want %v", kept, got, want)
	}
	// Batches walk on from afterID, still leaving the kept ones out.
	got, err = st.OldItems(ctx, later, all[0], 1, kept)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []int64{all[2]}) {
		t.Errorf("next batch of one after %d: %v, want [%d]", all[0], got, all[2])
	}
}
