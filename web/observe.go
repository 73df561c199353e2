package web

import (
	"net/http"
	"strings"
	"time"
)

// RequestObserver is a part told of every request the server answers: its
// route class (see RouteClass), status and duration.
type RequestObserver interface {
	ObserveRequest(class string, status int, took time.Duration)
}

// Route classes, for metrics: never the raw path, whose values are endless.
const (
	ClassPublic  = "public"  // reader pages: subscribe, confirm, preferences, unsubscribe
	ClassArchive = "archive" // the issue archive and "view in browser"
	ClassStaff   = "staff"   // the staff area
	ClassHealth  = "health"  // /healthz and /metrics
	ClassOther   = "other"   // no route matched (404s, scanners)
)

// RouteClass maps the pattern a request matched ("GET /issues/{id}"; "" for
// none) to its class.
func RouteClass(pattern string) string {
	if pattern == "" {
		return ClassOther
	}
	path := pattern
	if _, p, ok := strings.Cut(pattern, " "); ok {
		path = p
	}
	if i := strings.IndexByte(path, '/'); i > 0 { // a host in the pattern
		path = path[i:]
	}
	if path == "/healthz" || path == "/metrics" {
		return ClassHealth
	}
	// The site may live under the base URL's path (/tin/staff/...): the
	// first segment that names an area decides.
	for _, seg := range strings.Split(path, "/") {
		switch seg {
		case "staff":
			return ClassStaff
		case "issues":
			return ClassArchive
		}
	}
	return ClassPublic
}

// routed reports whether the mux has a route of its own for method and
// path (a catch-all such as "GET /" does not count).
func routed(mux *http.ServeMux, method, path string) bool {
	r, err := http.NewRequest(method, path, nil)
	if err != nil {
		return false
	}
	_, pattern := mux.Handler(r)
	return pattern == method+" "+path || pattern == path
}
