package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/haiphong/hpdigest/app"
	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/digest/render"
	"github.com/haiphong/hpdigest/templates"
	"github.com/haiphong/hpdigest/web"
	"github.com/haiphong/hpdigest/web/archive"
	"github.com/haiphong/hpdigest/web/public"
)

// siteParts builds the web pages of the configuration in use: the public
// pages (subscribe, confirm, preferences, unsubscribe) and the issue archive.
func siteParts(a *app.App) ([]web.Registrar, error) {
	return (&site{a: a}).build(a.Cfg(), a.Renderer())
}

// site builds the daemon's configurable pages (app.SiteBuilder): at start,
// and for each reload before it is applied. The reader pages of every
// build share the rate limits of the first.
type site struct {
	a      *app.App
	limits *public.Limits
}

// build makes the pages of cfg, with r rendering the issues.
func (s *site) build(cfg *config.Config, r *render.Renderer) ([]web.Registrar, error) {
	a := s.a
	tfs, err := templates.FS(cfg.TemplatesDir)
	if err != nil {
		return nil, err
	}
	deps := public.Deps{
		Store:     a.Subscribers,
		Tokens:    a.Tokens,
		Mailer:    a.Engine,
		Templates: tfs,
		BaseURL:   cfg.HTTP.BaseURL,
		Themes:    public.ThemesFrom(cfg.Themes),
		From: public.Sender{
			Name: cfg.Sender.Name, Address: cfg.Sender.Address, ReplyTo: cfg.Sender.ReplyTo,
			MessageIDDomain: cfg.Sender.Domain(),
		},
		Log:    a.Log,
		Limits: s.limits,
	}
	if d, ok := cfg.Digest(""); ok {
		deps.DigestName = render.Localized{Default: d.Title("en"), VI: d.Title("vi"), EN: d.Title("en")}
	}
	pub, err := public.New(deps)
	if err != nil {
		return nil, fmt.Errorf("public pages: %w", err)
	}
	if s.limits == nil {
		s.limits = pub.Limits()
	}
	arch, err := archive.New(archiveSource{a}, r, cfg.HTTP.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	if d, ok := cfg.Digest(""); ok {
		arch.Location = d.Location()
		arch.DigestName = render.Localized{Default: d.TitleEN, VI: d.TitleVI, EN: d.TitleEN}
	}
	arch.SubscribeURL = cfg.HTTP.BaseURL + "/subscribe"
	arch.Log = a.Log
	return []web.Registrar{pub, arch}, nil
}

// archiveSource shows sent issues, as readers got them, on the web.
type archiveSource struct{ a *app.App }

// onTheWeb reports whether readers may see an issue on the web: once its
// first copy has gone out ("view in browser" must work while a send, or a
// day of local-time delivery, is still going on).
func onTheWeb(iss *digest.Issue) bool {
	return iss.Status == digest.StatusSent || iss.Status == digest.StatusSending
}

func (s archiveSource) SentIssues(ctx context.Context) ([]archive.IssueSummary, error) {
	issues, err := s.a.Digests.Issues(ctx, "", "")
	if err != nil {
		return nil, err
	}
	out := make([]archive.IssueSummary, 0, len(issues))
	for _, iss := range issues {
		if !onTheWeb(iss) {
			continue
		}
		out = append(out, archive.IssueSummary{ID: iss.ID, Number: iss.Number, Date: iss.SendingAt, SentAt: iss.SentAt, Items: iss.IncludedCount})
	}
	return out, nil
}

func (s archiveSource) RenderIssue(ctx context.Context, id int64) (*render.Issue, error) {
	iss, err := s.a.Digests.Issue(ctx, id)
	if errors.Is(err, digest.ErrNotFound) || (err == nil && !onTheWeb(iss)) {
		return nil, fmt.Errorf("issue %d: %w", id, archive.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	d, ok := s.a.Cfg().Digest(iss.Digest)
	if !ok {
		return nil, fmt.Errorf("issue %d belongs to digest %q, no longer configured: %w", id, iss.Digest, archive.ErrNotFound)
	}
	return s.a.RenderIssue(d, iss, d.Themes), nil
}
