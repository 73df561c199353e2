package app

import (
	"net/http"
	"sync/atomic"

	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/digest/render"
	"github.com/haiphong/hpdigest/web"
)

// SiteBuilder makes the web pages that follow the configuration (the
// reader pages, the archive) for cfg, whose emails and web versions r
// renders. The daemon calls it at start and on every reload; an error
// stops the start, or rejects the reload.
type SiteBuilder func(cfg *config.Config, r *render.Renderer) ([]web.Registrar, error)

// SetSite sets the daemon's configurable web pages (before Run).
func (a *App) SetSite(b SiteBuilder) { a.reload.build = b }

// site is the daemon's HTTP handler: the pages SetSite builds and the
// fixed parts (the staff area, /healthz, /metrics), on one mux that a
// reload replaces whole. Requests in progress finish on the mux they
// started on.
type site struct {
	a     *App
	fixed []web.Registrar
	cur   atomic.Pointer[http.Handler]
}

func (a *App) newSite(cfg *config.Config, r *render.Renderer, fixed []web.Registrar) (*site, error) {
	s := &site{a: a, fixed: fixed}
	h, err := s.build(cfg, r)
	if err != nil {
		return nil, err
	}
	s.cur.Store(&h)
	return s, nil
}

// build makes the handler of cfg without installing it.
func (s *site) build(cfg *config.Config, r *render.Renderer) (http.Handler, error) {
	var parts []web.Registrar
	if s.a.reload.build != nil {
		var err error
		if parts, err = s.a.reload.build(cfg, r); err != nil {
			return nil, err
		}
	}
	return web.Handler(s.a.DB, s.a.Log, append(parts, s.fixed...)...), nil
}

func (s *site) install(h http.Handler) { s.cur.Store(&h) }

func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) { (*s.cur.Load()).ServeHTTP(w, r) }
