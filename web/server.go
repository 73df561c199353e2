// Package web is the daemon's HTTP server: it puts together the public pages
// (web/public), the issue archive (web/archive) and the staff area
// (web/staff) on one mux, with /healthz, request logging and timeouts.
package web

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

// Registrar is a part of the site that adds its routes to the mux.
type Registrar interface {
	Register(mux *http.ServeMux)
}

// Handler builds the site's handler from its parts. A part that serves
// GET /healthz itself replaces the built-in one (which only pings the
// database); parts that are RequestObservers are told of every request.
func Handler(db *sql.DB, log *slog.Logger, parts ...Registrar) http.Handler {
	mux := http.NewServeMux()
	var observers []RequestObserver
	for _, p := range parts {
		if p != nil {
			p.Register(mux)
			if o, ok := p.(RequestObserver); ok {
				observers = append(observers, o)
			}
		}
	}
	if !routed(mux, http.MethodGet, "/healthz") {
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if err := db.PingContext(ctx); err != nil {
				http.Error(w, "database: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Write([]byte("ok\n"))
		})
	}
	return logRequests(log, observers, mux)
}

// StrictTransport adds HSTS (Strict-Transport-Security, one year) to every
// response when the public base URL is https: browsers then never follow
// an http:// link to the site (a downgrade on a hostile network). Over
// http it changes nothing.
func StrictTransport(baseURL string, next http.Handler) http.Handler {
	if !strings.HasPrefix(strings.ToLower(baseURL), "https://") {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		next.ServeHTTP(w, r)
	})
}

func logRequests(log *slog.Logger, observers []RequestObserver, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		took := time.Since(start)
		log.Debug("http", "method", r.Method, "path", r.URL.Path, "status", rec.status, "duration", took)
		if len(observers) > 0 {
			class := RouteClass(r.Pattern) // the mux sets the pattern it matched
			for _, o := range observers {
				o.ObserveRequest(class, rec.status, took)
			}
		}
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Serve runs the server on addr until ctx is done, then shuts it down
// gracefully. ready (if not nil) receives the bound address.
func Serve(ctx context.Context, addr string, h http.Handler, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(ln.Addr())
	}
	return ServeListener(ctx, ln, h)
}

// ServeListener is Serve on a listener the caller opened.
func ServeListener(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			return err
		}
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}
