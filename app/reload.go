package app

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/digest/story"
	"github.com/haiphong/hpdigest/digest/theme"
)

// Reloader is a part of the daemon that applies a new configuration
// itself (the staff area: its accounts, settings and templates).
// PrepareReload checks next and returns commit, which applies it; an error
// from PrepareReload rejects the whole reload (commit is then not called).
// commit runs after the configuration in use has been replaced; an error
// from it (a busy database) is logged and the rest of the reload applies.
type Reloader interface {
	PrepareReload(ctx context.Context, next *config.Config) (commit func() error, err error)
}

// OnReload adds r to the parts a reload applies a new configuration to.
func (a *App) OnReload(r Reloader) {
	a.reload.mu.Lock()
	defer a.reload.mu.Unlock()
	a.reload.parts = append(a.reload.parts, r)
}

// reloads is what Reload works on.
type reloads struct {
	mu    sync.Mutex // one reload at a time
	needs []config.Need
	parts []Reloader
	build SiteBuilder
	// While Run runs: its schedules and web server.
	sched *scheduler
	site  *site
	// After StartInbound: the inbound listener and poller.
	inbound *inboundRunner
}

func (r *reloads) running(s *scheduler, si *site) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sched, r.site = s, si
}

// ErrNoConfigFile is Reload's answer for a configuration that was not
// read from a file.
var ErrNoConfigFile = errors.New("the configuration was not read from a file")

// Reload is what SIGHUP asks for: it reads the configuration file again
// and applies it without a restart. Feeds (added, changed, removed),
// digests and their schedules, themes, templates, subscribers settings,
// inbound mail, backups, retention, staff accounts and every other setting
// read when it is used take the new values; a send in progress finishes
// with what it started with.
//
// The file is checked as at start-up first (also the templates, on sample
// data): an invalid one is rejected, logged at ERROR with its file, line
// and key, and the running configuration stays in use. Settings that
// cannot change without a restart (listen addresses, the database, the
// SMTP relays, the fetcher's limits, ...) keep their running value and
// are logged as needing a restart.
func (a *App) Reload(ctx context.Context) error {
	a.reload.mu.Lock()
	defer a.reload.mu.Unlock()
	cur := a.Cfg()
	err := a.reloadLocked(ctx, cur)
	switch {
	case err != nil && ctx.Err() != nil:
		a.Log.Info("configuration not reloaded: the daemon is stopping", "file", cur.File(), "err", err)
	case err != nil:
		a.Log.Error("configuration not reloaded; the daemon keeps running with the one it had", "file", cur.File(), "err", err)
	}
	return err
}

func (a *App) reloadLocked(ctx context.Context, cur *config.Config) error {
	if cur.File() == "" {
		return ErrNoConfigFile
	}
	next, err := config.Load(cur.File())
	if err != nil {
		return err
	}
	restart := next.KeepRestartOnly(cur)
	if err := next.Require(a.reload.needs...); err != nil {
		return err
	}

	// Check everything before changing anything. The rules file is read
	// under the lock staff additions take, held until the themes read are
	// in use, so a phrase added meanwhile is neither lost nor half-read.
	a.rulesMu.Lock()
	defer a.rulesMu.Unlock()
	themes, err := Themes(next, a.Log)
	if err != nil {
		return err
	}
	classifier, err := theme.New(themes)
	if err != nil {
		return next.Explain("themes", err)
	}
	renderer, err := newRenderer(next)
	if err != nil {
		return err
	}
	stories, err := story.New(next.Stories)
	if err != nil {
		return err
	}
	jobs, err := parseJobs(a.jobs(next))
	if err != nil {
		return err
	}
	var commits []func() error
	for _, p := range a.reload.parts {
		commit, err := p.PrepareReload(ctx, next)
		if err != nil {
			return err
		}
		commits = append(commits, commit)
	}
	var handler http.Handler
	if a.reload.site != nil {
		if handler, err = a.reload.site.build(next, renderer); err != nil {
			return err
		}
	}
	inbound, err := a.prepareInbound(next)
	if err != nil {
		return err
	}

	// Apply, to the end even if the daemon starts stopping meanwhile: a
	// half-applied configuration would outlive the reload.
	ctx = context.WithoutCancel(ctx)
	a.cfg.Store(next)
	a.renderer.Store(renderer)
	a.Classifier.Use(classifier)
	a.Digests.SetStories(stories)
	a.Subscribers.Configure(next.Subscribers)
	a.Subscribers.SetThemes(next.ThemeKeys())
	if err := a.Feeds.SyncSources(ctx, next.Feeds); err != nil {
		a.Log.Error("reload: the feeds table was not updated; send SIGHUP again", "err", err)
	}
	a.Poller.Wake()
	for _, commit := range commits {
		if err := commit(); err != nil {
			a.Log.Error("reload: a part was not updated; send SIGHUP again", "err", err)
		}
	}
	if handler != nil {
		a.reload.site.install(handler)
	}
	if inbound != nil {
		inbound()
	}
	if a.reload.sched != nil {
		for _, c := range a.reload.sched.apply(jobs) {
			switch {
			case c.Old == "":
				a.Log.Info("reload: schedule added", "job", c.Job, "spec", c.New, "next", c.Next)
			case c.New == "":
				a.Log.Info("reload: schedule removed", "job", c.Job, "was", c.Old)
			default:
				a.Log.Info("reload: schedule changed", "job", c.Job, "spec", c.New, "was", c.Old, "next", c.Next)
			}
		}
	}
	for _, key := range restart {
		a.Log.Warn("reload: a setting changed in the file needs a restart; the running value stays until then",
			"key", key, "where", next.Where(key))
	}
	a.Log.Info("configuration reloaded", "file", next.File(), "feeds", len(next.Feeds), "digests", len(next.Digests),
		"themes", len(next.Themes), "needs_restart", len(restart))
	return nil
}
