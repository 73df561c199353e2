package feeds

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// internalServer stands for a service on the office network (an admin
// page, a cloud metadata endpoint): it counts who reaches it.
func internalServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(rssItems("secret", 2)))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// fetchOnly syncs exactly these sources (no allow_private added) and
// fetches them once.
func fetchOnly(t *testing.T, p *Poller, st *Store, srcs ...Source) map[string]FeedResult {
	t.Helper()
	if err := st.SyncSources(context.Background(), srcs); err != nil {
		t.Fatal(err)
	}
	return byName(p.FetchAll(context.Background()))
}

// A feed is not fetched from this machine or the office network unless
// the config says so: checked on the address actually dialled, after DNS
// ("localhost" is refused like 127.0.0.1).
func TestFetchRefusesLoopbackAndPrivateTargets(t *testing.T) {
	internal, hits := internalServer(t)
	st := newTestStore(t)
	p := NewPoller(Config{}, st, nil)
	port := internal.URL[strings.LastIndexByte(internal.URL, ':'):]
	res := fetchOnly(t, p, st,
		Source{Name: "ip", URL: internal.URL + "/rss", Language: "vi"},
		Source{Name: "name", URL: "http://localhost" + port + "/rss", Language: "vi"})
	for _, name := range []string{"ip", "name"} {
		if err := res[name].Err; !errors.Is(err, ErrPrivateAddress) || !strings.Contains(err.Error(), "allow_private") {
			t.Errorf("%s: err = %v, want ErrPrivateAddress naming allow_private", name, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the internal server was reached %d times", n)
	}
	// Marked as an intranet feed, the same source is fetched.
	res = fetchOnly(t, p, st, Source{Name: "ip", URL: internal.URL + "/rss", Language: "vi", AllowPrivate: true})
	if r := res["ip"]; r.Err != nil || len(r.NewItems) != 2 {
		t.Errorf("allow_private feed: %+v", r)
	}
}

// A public feed that answers with a redirect to 127.0.0.1 (or any private
// address) gets nothing from there: the internal content is never fetched,
// stored or shown to staff.
func TestRedirectToLoopbackIsRefused(t *testing.T) {
	internal, hits := internalServer(t)
	public := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, internal.URL+"/admin", http.StatusFound)
	}))
	t.Cleanup(public.Close)
	st := newTestStore(t)
	p := NewPoller(Config{}, st, nil)
	publicAddr := netip.MustParseAddrPort(public.Listener.Addr().String())
	p.treatAsPublic = func(ap netip.AddrPort) bool { return ap == publicAddr } // the portal stands for a host on the internet
	res := fetchOnly(t, p, st, Source{Name: "portal", URL: public.URL + "/rss", Language: "vi"})
	if err := res["portal"].Err; !errors.Is(err, ErrPrivateAddress) {
		t.Fatalf("redirect to %s: err = %v, want ErrPrivateAddress", internal.URL, err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the internal server was reached %d times through the redirect", n)
	}
	items, err := st.ItemsPublishedBetween(context.Background(), time.Time{}, time.Now().AddDate(10, 0, 0))
	if err != nil || len(items) != 0 {
		t.Errorf("items stored from the internal server: %d %v", len(items), err)
	}
}

// A feed served over https that redirects to plain http is refused (the
// rest of the way could be read or changed on the network), even for an
// intranet feed.
func TestHTTPSDowngradeIsRefused(t *testing.T) {
	plain, hits := internalServer(t)
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+"/rss", http.StatusMovedPermanently)
	}))
	t.Cleanup(secure.Close)
	st := newTestStore(t)
	p := NewPoller(Config{}, st, nil)
	trust := secure.Client().Transport.(*http.Transport).TLSClientConfig
	for _, c := range []*http.Client{p.client, p.privateClient} {
		c.Transport.(*http.Transport).TLSClientConfig = trust
	}
	res := fetchOnly(t, p, st, Source{Name: "tls", URL: secure.URL + "/rss", Language: "vi", AllowPrivate: true})
	if err := res["tls"].Err; !errors.Is(err, ErrInsecureRedirect) {
		t.Fatalf("https → http redirect: err = %v, want ErrInsecureRedirect", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the plain-http server was reached %d times", n)
	}
}

func TestPrivateAddressRanges(t *testing.T) {
	for _, c := range []struct {
		addr    string
		private bool
	}{
		{"127.0.0.1", true}, {"127.8.9.10", true}, {"::1", true}, {"10.1.2.3", true}, {"172.16.0.1", true},
		{"192.168.1.1", true}, {"169.254.169.254", true}, {"fe80::1", true}, {"fc00::1", true}, {"0.0.0.0", true},
		{"::", true}, {"100.64.0.1", true}, {"::ffff:127.0.0.1", true}, {"::ffff:10.0.0.1", true}, {"64:ff9b::a00:1", true},
		{"224.0.0.1", true}, {"203.113.131.1", false}, {"8.8.8.8", false}, {"2001:4860:4860::8888", false},
	} {
		got := privateReason(netip.MustParseAddr(c.addr)) != ""
		if got != c.private {
			t.Errorf("%s: private = %v, want %v", c.addr, got, c.private)
		}
	}
}
