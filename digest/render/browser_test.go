package render_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/haiphong/hpdigest/digest/render"
	"github.com/haiphong/hpdigest/digest/render/browsercheck"
)

// localImages points every image of iss at srv.
func localImages(iss *render.Issue, base string) {
	n := 0
	for si := range iss.Sections {
		for ii := range iss.Sections[si].Items {
			it := &iss.Sections[si].Items[ii]
			if it.ImageURL != "" {
				n++
				it.ImageURL = fmt.Sprintf("%s/img/%d.png", base, n)
			}
		}
	}
}

func TestBrowserLayout(t *testing.T) {
	ctx := browsercheck.Start(t)
	dir := browsercheck.ScreenshotDir(t)
	r := newRenderer(t)

	pages := map[string][]byte{}
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasPrefix(req.URL.Path, "/img/") {
			w.Header().Set("Content-Type", "image/png")
			w.Write(browsercheck.Photo())
			return
		}
		mu.Lock()
		b, ok := pages[strings.TrimPrefix(req.URL.Path, "/")]
		mu.Unlock()
		if !ok {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(b)
	}))
	defer srv.Close()

	cases := []struct {
		name string
		iss  *render.Issue
		lang string
	}{
		{"email-vi", fixedIssue(), "vi"},
		{"email-en", fixedIssue(), "en"},
		{"email-20-vi", bigIssue(20), "vi"},
		// Images blocked or gone (Outlook's default): alt texts must not break the layout.
		{"email-noimg-en", bigIssue(6), "en"},
	}
	for _, c := range cases {
		if strings.Contains(c.name, "noimg") {
			localImages(c.iss, srv.URL+"/gone")
		} else {
			localImages(c.iss, srv.URL)
		}
		v, err := r.Variant(c.iss, c.lang, nil)
		if err != nil {
			t.Fatal(err)
		}
		h, _ := v.Personalise(reader)
		mu.Lock()
		pages[c.name] = []byte(h)
		mu.Unlock()
	}
	web, err := r.WebPage(cases[0].iss, "vi", render.WebOptions{ArchiveURL: srv.URL + "/issues", OtherLangURL: srv.URL + "/issues/12?lang=en", SubscribeURL: srv.URL + "/subscribe"})
	if err != nil {
		t.Fatal(err)
	}
	pages["web-vi"] = web

	for _, c := range cases {
		browsercheck.Check(t, ctx, srv.URL+"/"+c.name, dir, c.name, []int64{320, 375, 600, 800})
	}
	browsercheck.Check(t, ctx, srv.URL+"/web-vi", dir, "web-vi", []int64{375, 1024})
}
