package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

type recorder struct {
	mu   sync.Mutex
	seen []string
}

func (r *recorder) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /issues/{id}", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST /unsubscribe/{token}", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /staff/", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) })
}

func (r *recorder) ObserveRequest(class string, status int, _ time.Duration) {
	r.mu.Lock()
	r.seen = append(r.seen, class+" "+http.StatusText(status))
	r.mu.Unlock()
}

// Every request is observed with its route class, never its path; the
// built-in /healthz stays when no part serves one.
func TestRequestsObservedByRouteClass(t *testing.T) {
	rec := &recorder{}
	h := Handler(nil, slog.New(slog.NewTextHandler(io.Discard, nil)), rec)
	for _, c := range []struct{ method, path string }{
		{"GET", "/issues/42"},
		{"POST", "/unsubscribe/abc.def"},
		{"GET", "/staff/subscribers?q=x"},
		{"GET", "/wp-login.php"},
	} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(c.method, c.path, nil))
	}
	want := []string{"archive OK", "public OK", "staff Forbidden", "other Not Found"}
	if len(rec.seen) != len(want) {
		t.Fatalf("observed %v, want %v", rec.seen, want)
	}
	for i := range want {
		if rec.seen[i] != want[i] {
			t.Errorf("request %d observed as %q, want %q", i, rec.seen[i], want[i])
		}
	}
	if got := RouteClass("GET /healthz"); got != ClassHealth {
		t.Errorf("RouteClass(/healthz) = %q", got)
	}
	// Under a base URL with a path, the classes are the same.
	for pattern, want := range map[string]string{
		"GET /tin/issues/{id}":          ClassArchive,
		"GET /tin/issues":               ClassArchive,
		"POST /tin/staff/login":         ClassStaff,
		"GET /tin/staff":                ClassStaff,
		"POST /tin/unsubscribe/{token}": ClassPublic,
		"GET /tin/subscribe":            ClassPublic,
	} {
		if got := RouteClass(pattern); got != want {
			t.Errorf("RouteClass(%q) = %q, want %q", pattern, got, want)
		}
	}
}

// Over https every response carries HSTS; over http none does.
func TestStrictTransport(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	rec := httptest.NewRecorder()
	StrictTransport("https://tin.haiphong.gov.vn/ban-tin", ok).ServeHTTP(rec, httptest.NewRequest("GET", "/ban-tin/subscribe", nil))
	if v := rec.Header().Get("Strict-Transport-Security"); v != "max-age=31536000" {
		t.Errorf("https base URL: HSTS %q", v)
	}
	rec = httptest.NewRecorder()
	StrictTransport("http://localhost:8080", ok).ServeHTTP(rec, httptest.NewRequest("GET", "/subscribe", nil))
	if v := rec.Header().Get("Strict-Transport-Security"); v != "" {
		t.Errorf("http base URL: HSTS %q", v)
	}
}
