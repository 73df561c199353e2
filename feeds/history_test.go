package feeds

import (
	"context"
	"testing"
	"time"
)

// Every fetch is counted on its day: new items, an unchanged feed, a
// failure.
func TestFetchHistory(t *testing.T) {
	fs := newFeedServer(t)
	now := time.Now().UTC()
	fs.set("/good", rss(`<item><guid>1</guid><title>Một</title><link>https://news.example.vn/1</link><pubDate>`+now.Format(time.RFC1123Z)+`</pubDate></item>
		<item><guid>2</guid><title>Hai</title><link>https://news.example.vn/2</link><pubDate>`+now.Format(time.RFC1123Z)+`</pubDate></item>`))
	st := newTestStore(t)
	sync1(t, st, Source{Name: "Good", URL: fs.URL + "/good"}, Source{Name: "Gone", URL: fs.URL + "/missing"})
	ctx := context.Background()
	p := NewPoller(Config{}, st, nil)
	day1 := now.Add(-24 * time.Hour)
	p.now = func() time.Time { return day1 }
	p.FetchAll(ctx)
	p.now = func() time.Time { return now }
	p.FetchAll(ctx) // the good feed is unchanged; the missing one fails again

	days, err := st.FetchHistory(ctx, now, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 3 || days[0].OK+days[0].Failed != 0 {
		t.Fatalf("days %+v", days)
	}
	for i, want := range []FetchDay{
		{OK: 1, Failed: 1, NewItems: 2, FailingFeeds: 1},
		{OK: 1, Failed: 1, NewItems: 0, FailingFeeds: 1},
	} {
		got := days[i+1]
		want.Day = got.Day
		if got != want {
			t.Errorf("day %d: %+v, want %+v", i+1, got, want)
		}
		if !got.Day.Equal(time.Unix(now.Unix()/86400*86400, 0).UTC().AddDate(0, 0, i-1)) {
			t.Errorf("day %d is %v", i+1, got.Day)
		}
	}
}
