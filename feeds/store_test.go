package feeds

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// feedServer serves whatever body is set for a path.
type feedServer struct {
	mu     sync.Mutex
	bodies map[string]string
	*httptest.Server
}

func newFeedServer(t *testing.T) *feedServer {
	fs := &feedServer{bodies: map[string]string{}}
	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.mu.Lock()
		b, ok := fs.bodies[r.URL.Path]
		fs.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, b)
	}))
	t.Cleanup(fs.Close)
	return fs
}

func (fs *feedServer) set(path, body string) {
	fs.mu.Lock()
	fs.bodies[path] = body
	fs.mu.Unlock()
}

func TestSameStoryInTwoFeedsIsOneStory(t *testing.T) {
	fs := newFeedServer(t)
	now := time.Now().UTC().Format(time.RFC1123Z)
	fs.set("/a", rss(`<item><guid>a1</guid><title>Hải Phòng đón dự án FDI</title><link>https://news.example.vn/fdi-123.html?utm_source=rss</link><pubDate>`+now+`</pubDate></item>
		<item><guid>a2</guid><title>Tin khác</title><link>https://news.example.vn/khac.html</link><pubDate>`+now+`</pubDate></item>
		<item><guid>a3</guid><title>Trang chủ 1</title><link>https://news.example.vn/</link><pubDate>`+now+`</pubDate></item>`))
	fs.set("/b", rss(`<item><guid>b1</guid><title>Hai Phong welcomes FDI project</title><link>http://www.news.example.vn/fdi-123.html#top</link><pubDate>`+now+`</pubDate></item>
		<item><guid>b2</guid><title>Trang chủ 2</title><link>https://news.example.vn/</link><pubDate>`+now+`</pubDate></item>`))
	st := newTestStore(t)
	sync1(t, st, Source{Name: "A", URL: fs.URL + "/a"}, Source{Name: "B", URL: fs.URL + "/b"})
	p := NewPoller(Config{}, st, nil)
	ctx := context.Background()
	// Fetch A first so its item is the story's first.
	if err := st.SyncSources(ctx, []Source{{Name: "A", URL: fs.URL + "/a", Language: "vi", AllowPrivate: true}}); err != nil {
		t.Fatal(err)
	}
	p.FetchAll(ctx)
	sync1(t, st, Source{Name: "A", URL: fs.URL + "/a"}, Source{Name: "B", URL: fs.URL + "/b", Language: "en"})
	rep := p.FetchAll(ctx)
	if len(rep.Failed()) > 0 {
		t.Fatal(rep.Failed())
	}
	items, err := st.ItemsPublishedBetween(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, it := range items {
		titles = append(titles, it.FeedName+":"+it.Title)
	}
	if len(items) != 4 {
		t.Fatalf("got %d items %q, want 4 (the FDI story once, home-page links not merged)", len(items), titles)
	}
	var fdi []Item
	for _, it := range items {
		if strings.Contains(it.URL, "fdi-123") {
			fdi = append(fdi, it)
		}
	}
	if len(fdi) != 1 || fdi[0].FeedName != "A" || fdi[0].URL != "https://news.example.vn/fdi-123.html" {
		t.Fatalf("FDI story: %+v, want A's item once with the normalised link", fdi)
	}
	// Staff paste a link in any spelling: the story's first item is found.
	for _, link := range []string{"https://news.example.vn/fdi-123.html", "http://www.news.example.vn/fdi-123.html?utm_medium=x#c", "HTTPS://NEWS.example.vn/fdi-123.html/"} {
		it, ok, err := st.ItemByURL(ctx, link)
		if err != nil || !ok || it.ID != fdi[0].ID {
			t.Errorf("ItemByURL(%q) = %d, %v, %v; want item %d", link, it.ID, ok, err, fdi[0].ID)
		}
	}
	if _, ok, err := st.ItemByURL(ctx, "https://news.example.vn/never-seen.html"); ok || err != nil {
		t.Errorf("ItemByURL of an unknown link: ok=%v err=%v", ok, err)
	}
	// Both items are stored and share the story id.
	var b1 Item
	st.EachItem(ctx, func(it Item) error {
		if it.GUID == "b1" {
			b1 = it
		}
		return nil
	})
	if b1.ID == 0 || b1.StoryID != fdi[0].ID || b1.Language != "en" {
		t.Errorf("B's copy: %+v, want stored with StoryID %d", b1, fdi[0].ID)
	}
	got, err := st.ItemsByID(ctx, []int64{b1.ID, fdi[0].ID, 999999})
	if err != nil || len(got) != 2 || got[b1.ID].Title != "Hai Phong welcomes FDI project" {
		t.Errorf("ItemsByID: %v %+v", err, got)
	}
}

func TestNewGUIDForSameStoryIsNotNew(t *testing.T) {
	fs := newFeedServer(t)
	fs.set("/f", rss(`<item><guid>old-1</guid><title>Cảng Lạch Huyện</title><link>https://a.vn/lach-huyen.html</link></item>`))
	st := newTestStore(t)
	sync1(t, st, Source{Name: "f", URL: fs.URL + "/f"})
	p := NewPoller(Config{}, st, nil)
	ctx := context.Background()
	if r := p.FetchAll(ctx).Feeds[0]; len(r.NewItems) != 1 {
		t.Fatalf("first fetch: %+v", r)
	}
	fs.set("/f", rss(`<item><guid>new-1</guid><title>Cảng Lạch Huyện</title><link>https://a.vn/lach-huyen.html?utm_medium=x</link></item>
		<item><guid>old-1</guid><title>Cảng Lạch Huyện (cập nhật)</title><link>https://a.vn/lach-huyen.html</link></item>`))
	r := p.FetchAll(ctx).Feeds[0]
	if r.Err != nil || len(r.NewItems) != 0 {
		t.Fatalf("same story under a new GUID, and a corrected title: %+v, want nothing new", r)
	}
	var titles []string
	st.EachItem(ctx, func(it Item) error { titles = append(titles, it.Title); return nil })
	if len(titles) != 1 || titles[0] != "Cảng Lạch Huyện (cập nhật)" {
		t.Errorf("stored titles %q, want the one item with its corrected title", titles)
	}
}

func TestItemWithoutDateUsesFirstSeen(t *testing.T) {
	fs := newFeedServer(t)
	fs.set("/f", rss(`<item><guid>x</guid><title>Không ngày</title><link>https://a.vn/x.html</link></item>
		<item><guid>y</guid><title>Tương lai</title><link>https://a.vn/y.html</link><pubDate>`+time.Now().Add(10*24*time.Hour).Format(time.RFC1123Z)+`</pubDate></item>
		<item><guid>z</guid><title>Cũ</title><link>https://a.vn/z.html</link><pubDate>26/07/2017 19:41</pubDate></item>`))
	st := newTestStore(t)
	sync1(t, st, Source{Name: "f", URL: fs.URL + "/f"})
	before := time.Now().Add(-time.Second)
	NewPoller(Config{}, st, nil).FetchAll(context.Background())
	after := time.Now().Add(time.Second)
	recent, err := st.ItemsPublishedBetween(context.Background(), before, after.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Item{}
	for _, it := range recent {
		got[it.GUID] = it
	}
	if x, ok := got["x"]; !ok || !x.PublishedAt.IsZero() || x.Published().Before(before) {
		t.Errorf("undated item: %+v, want no PublishedAt and Published() = first seen", x)
	}
	if y, ok := got["y"]; !ok || y.Published().After(after.Add(24*time.Hour)) {
		t.Errorf("future item: %+v, want clamped", y)
	}
	if _, ok := got["z"]; ok {
		t.Error("a 2017 item is in the current window")
	}
	old, _ := st.ItemsPublishedBetween(context.Background(), time.Date(2017, 7, 26, 0, 0, 0, 0, time.UTC), time.Date(2017, 7, 27, 0, 0, 0, 0, time.UTC))
	if len(old) != 1 || !old[0].PublishedAt.Equal(time.Date(2017, 7, 26, 12, 41, 0, 0, time.UTC)) {
		t.Errorf("dated item: %+v, want 19:41 Hanoi time = 12:41 UTC", old)
	}
}

func TestValidate(t *testing.T) {
	ok := []Source{{Name: "a", URL: "https://a.vn/rss", Language: "vi"}, {Name: "b", URL: "http://b.vn/rss", Language: "en", Interval: time.Hour, Timezone: "Asia/Bangkok"}}
	if err := ValidateSources(ok); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		srcs []Source
		key  string
	}{
		{[]Source{{URL: "https://a.vn", Language: "vi"}}, "feeds[0].name"},
		{[]Source{ok[0], {Name: "a", URL: "https://x.vn", Language: "vi"}}, "feeds[1].name"},
		{[]Source{{Name: "a", URL: "file:///etc/passwd", Language: "vi"}}, "feeds[0].url"},
		{[]Source{{Name: "a", URL: "a.vn/rss", Language: "vi"}}, "feeds[0].url"},
		{[]Source{{Name: "a", URL: "https://a.vn", Language: "fr"}}, "feeds[0].language"},
		{[]Source{{Name: "a", URL: "https://a.vn", Language: "vi", Interval: time.Second}}, "feeds[0].interval"},
		{[]Source{{Name: "a", URL: "https://a.vn", Language: "vi", Timezone: "Mars/Base"}}, "feeds[0].timezone"},
	}
	for _, c := range bad {
		err := ValidateSources(c.srcs)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Key != c.key {
			t.Errorf("%+v: err %v, want one about %s", c.srcs, err, c.key)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("zero config (all defaults): %v", err)
	}
	for key, c := range map[string]Config{
		"fetch.timeout":          {Timeout: time.Millisecond},
		"fetch.max_body_bytes":   {MaxBodyBytes: 10},
		"fetch.default_interval": {DefaultInterval: time.Second},
		"fetch.max_errors":       {MaxErrors: -1},
		"fetch.concurrency":      {Concurrency: 10000},
		"fetch.per_host":         {PerHost: -1},
	} {
		var fe *FieldError
		if err := c.Validate(); !errors.As(err, &fe) || fe.Key != key {
			t.Errorf("%+v: err %v, want one about %s", c, err, key)
		}
	}
	d := Config{}.WithDefaults()
	if d.Timeout != DefaultTimeout || d.MaxBodyBytes != DefaultMaxBodyBytes || d.MaxErrors != DefaultMaxErrors || d.UserAgent == "" {
		t.Errorf("defaults: %+v", d)
	}
}

// A fetch of more items than one INSERT statement stores keeps every item
// as parsed, each its own story with the id it was reported with; the same
// document fetched again adds nothing.
func TestManyNewItemsStoredAsParsed(t *testing.T) {
	const n = 2*itemsPerInsert + 5
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `<item><guid>g%d</guid><title>Tin số %d</title><link>https://a.vn/tin-%d.html</link><description>Nội dung %d</description></item>`, i, i, i, i)
	}
	fs := newFeedServer(t)
	fs.set("/f", rss(b.String()))
	st := newTestStore(t)
	sync1(t, st, Source{Name: "f", URL: fs.URL + "/f"})
	p := NewPoller(Config{}, st, nil)
	ctx := context.Background()
	r := p.FetchAll(ctx).Feeds[0]
	if r.Err != nil || len(r.NewItems) != n {
		t.Fatalf("first fetch: %v, %d new items, want %d", r.Err, len(r.NewItems), n)
	}
	var ids []int64
	for _, it := range r.NewItems {
		ids = append(ids, it.ID)
	}
	stored, err := st.ItemsByID(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != n {
		t.Fatalf("%d items stored, want %d", len(stored), n)
	}
	for _, it := range r.NewItems {
		got := stored[it.ID]
		if got.GUID != it.GUID || got.Title != it.Title || got.URL != it.URL || got.SummaryText != it.SummaryText || got.StoryID != it.ID {
			t.Errorf("item %d stored as %+v, fetched as %+v", it.ID, got, it)
		}
		if want := "Tin số " + strings.TrimPrefix(it.GUID, "g"); it.Title != want {
			t.Errorf("item %s titled %q, want %q", it.GUID, it.Title, want)
		}
	}
	fs.set("/f", rss(b.String()+" ")) // a changed body, the same items
	if r := p.FetchAll(ctx).Feeds[0]; r.Err != nil || len(r.NewItems) != 0 {
		t.Fatalf("second fetch: %v, %d new items, want none", r.Err, len(r.NewItems))
	}
}
