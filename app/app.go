// Package app wires the domain packages into the daemon and the one-off
// jobs: fetch, classify, assemble, render, send. cmd/hpdigest is a thin
// layer of flags over it, and end-to-end tests drive it directly.
package app

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/digest/deliver"
	"github.com/haiphong/hpdigest/digest/render"
	"github.com/haiphong/hpdigest/digest/story"
	"github.com/haiphong/hpdigest/digest/theme"
	"github.com/haiphong/hpdigest/feeds"
	"github.com/haiphong/hpdigest/internal/clock"
	"github.com/haiphong/hpdigest/store"
	"github.com/haiphong/hpdigest/subscribers"
	"github.com/haiphong/hpdigest/templates"
)

// Options are the choices of the command line, not of the config file.
type Options struct {
	// DryRunDir, when set, writes one .eml file per recipient there instead
	// of using SMTP.
	DryRunDir string
	Log       *slog.Logger
	// ThrowawayLinkKey signs links with a random key kept in memory instead
	// of the configured (or stored) keys: for commands whose links nobody
	// follows, or that sign none, so that they run without the keys'
	// secrets in the environment.
	ThrowawayLinkKey bool
	// Clock is what the daemon reads the time from and sleeps on (default
	// the system clock; tests simulate weeks with their own).
	Clock clock.Clock
	// Needs are the parts of the config the command checked with Require
	// at start; a reload checks the new file for the same.
	Needs []config.Need
}

// App is the running daemon's state.
type App struct {
	Log    *slog.Logger
	DB     *sql.DB
	Feeds  *feeds.Store
	Poller *feeds.Poller
	// Classifier sorts items into themes.
	Classifier  *theme.Classifier
	Digests     *digest.Store
	Subscribers *subscribers.Store
	Tokens      *subscribers.Tokens
	Engine      *deliver.Engine
	DryRun      bool

	// cfg and renderer are replaced whole by a reload (see Reload): read
	// them through Cfg and Renderer, once per job, and keep what was read.
	cfg      atomic.Pointer[config.Config]
	renderer atomic.Pointer[render.Renderer]
	reload   reloads

	rulesMu sync.Mutex // one change of the rules file at a time

	lock  *store.Lock // shared lock on the database: a restore waits for us
	ops   ops         // the daemon's heartbeat, backups and metrics
	clock clock.Clock
	gate  *sendGate // one send at a time: schedules, resume, staff and -send-now share it
}

// Migrations lists every component's schema in the order they are applied.
func Migrations() []store.Migration {
	return []store.Migration{
		appMigrations(),
		feeds.Migrations(),
		digest.Migrations(),
		subscribers.Migrations(),
		deliver.Migrations(),
	}
}

func appMigrations() store.Migration {
	return store.Migration{Component: "app", Steps: []string{
		`CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
	}}
}

// New opens the database, applies migrations, parses the templates and
// compiles the theme rules: everything that can fail on a bad setup fails
// here, before any work starts.
func New(ctx context.Context, cfg *config.Config, opts Options) (*App, error) {
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	themes, err := Themes(cfg, log)
	if err != nil {
		return nil, err
	}
	classifier, err := theme.New(themes)
	if err != nil {
		return nil, fmt.Errorf("themes: %w", err)
	}
	stories, err := story.New(cfg.Stories)
	if err != nil {
		return nil, err
	}
	renderer, err := newRenderer(cfg)
	if err != nil {
		return nil, err
	}
	if w := store.PermissionWarning(cfg.Database); w != "" {
		log.Warn("database readable by others", "warning", w)
	}
	lock, err := store.LockShared(cfg.Database)
	if err != nil {
		return nil, err
	}
	db, err := store.OpenWith(cfg.Database, store.Options{ExternalCheckpoints: cfg.Backup.Litestream})
	if err != nil {
		lock.Close()
		return nil, err
	}
	a := &App{Log: log, DB: db, Classifier: classifier, lock: lock, clock: clock.Or(opts.Clock), gate: newSendGate()}
	a.cfg.Store(cfg)
	a.renderer.Store(renderer)
	a.reload.needs = opts.Needs
	if err := a.init(ctx, opts); err != nil {
		a.Close()
		return nil, err
	}
	a.Digests.SetStories(stories) // same-story detection; a reload replaces it
	return a, nil
}

// newRenderer parses the email templates (with the overrides of
// templates_dir) and checks them on sample data.
func newRenderer(cfg *config.Config) (*render.Renderer, error) {
	tfs, err := templates.FS(cfg.TemplatesDir)
	if err != nil {
		return nil, cfg.Explain("templates_dir", err)
	}
	renderer, err := render.New(tfs)
	if err != nil {
		if cfg.TemplatesDir != "" {
			return nil, cfg.Explain("templates_dir", err)
		}
		return nil, fmt.Errorf("templates: %w", err)
	}
	return renderer, nil
}

func (a *App) init(ctx context.Context, opts Options) error {
	if err := store.Migrate(ctx, a.DB, Migrations()...); err != nil {
		return err
	}
	a.Feeds = feeds.NewStore(a.DB)
	if err := a.Feeds.SyncSources(ctx, a.Cfg().Feeds); err != nil {
		return fmt.Errorf("feeds: %w", err)
	}
	a.Poller = feeds.NewPoller(a.Cfg().Fetch, a.Feeds, a.Log)
	a.Poller.SetClock(a.clock)
	a.Digests = digest.NewStore(a.DB, a.Feeds)
	a.Digests.SetClock(a.clock.Now)
	a.Subscribers = subscribers.NewStore(a.DB)
	a.Subscribers.SetClock(a.clock.Now)
	a.Subscribers.Configure(a.Cfg().Subscribers)
	a.Subscribers.SetThemes(a.Cfg().ThemeKeys())
	a.Subscribers.SetRemoveHook(func(ctx context.Context, tx *sql.Tx, id int64, _ string) error {
		return deliver.Forget(ctx, tx, id) // the outbox keeps no address of a forgotten reader
	})
	keys := a.Cfg().Subscribers.Keys
	switch {
	case opts.ThrowawayLinkKey:
		secret, err := randomSecret()
		if err != nil {
			return err
		}
		keys = []subscribers.Key{{ID: "throwaway", Secret: secret}}
	case len(keys) == 0:
		secret, err := a.tokenSecret(ctx)
		if err != nil {
			return err
		}
		keys = []subscribers.Key{{ID: "k1", Secret: secret}}
	}
	var err error
	if a.Tokens, err = subscribers.NewTokens(keys); err != nil {
		return fmt.Errorf("tokens: %w", err)
	}
	if opts.DryRunDir != "" {
		a.DryRun = true
		a.Engine = deliver.NewDirEngine(a.DB, opts.DryRunDir, a.Log)
	} else {
		a.Engine = deliver.NewSMTPEngine(a.DB, a.Cfg().SMTP, a.Log)
	}
	// Envelope senders are signed with the link-signing keys: a key
	// retired for links stops vouching for bounces at the same time.
	verpKeys := make([]deliver.VERPKey, len(keys))
	for i, k := range keys {
		verpKeys[i] = deliver.VERPKey{Secret: k.Secret, RetireAt: k.RetireAt}
	}
	verp, err := deliver.NewVERP(verpKeys)
	if err != nil {
		return fmt.Errorf("verp: %w", err)
	}
	a.Engine.SetVERP(verp)
	a.Engine.ExternalCheckpoints = a.Cfg().Backup.Litestream
	a.Engine.SetClock(a.clock)
	return nil
}

// Cfg is the configuration in use. A reload replaces it with a new one
// and never changes the one returned: a job that reads it once sees one
// consistent configuration from start to end.
func (a *App) Cfg() *config.Config { return a.cfg.Load() }

// Renderer renders issues with the templates in use (replaced by a
// reload that changes them).
func (a *App) Renderer() *render.Renderer { return a.renderer.Load() }

// tokenSecret returns the link-signing secret generated on first start and
// kept in the database (used when the config names no keys), so links in
// mails already sent keep working across restarts.
func (a *App) tokenSecret(ctx context.Context) (string, error) {
	var secret string
	err := a.DB.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'token_secret'`).Scan(&secret)
	if err == nil {
		return secret, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("settings: %w", err)
	}
	if secret, err = randomSecret(); err != nil {
		return "", err
	}
	if _, err := a.DB.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('token_secret', ?) ON CONFLICT (key) DO NOTHING`, secret); err != nil {
		return "", fmt.Errorf("settings: %w", err)
	}
	// Another process may have won the race: read back what is stored.
	return secret, a.DB.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'token_secret'`).Scan(&secret)
}

func randomSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// Close releases the database and its lock.
func (a *App) Close() error {
	err := a.DB.Close()
	a.lock.Close()
	return err
}

// FetchNow fetches every feed once (-fetch-now: even feeds backing off
// after errors) and classifies the new items.
func (a *App) FetchNow(ctx context.Context) feeds.Report {
	rep := a.Poller.FetchAll(ctx)
	a.classifyReport(ctx, rep)
	return rep
}

// classifyReport classifies the new items of a fetch. Each feed's failure
// was logged by the poller; a failure to read the feeds at all is logged
// here, unless the daemon is stopping.
func (a *App) classifyReport(ctx context.Context, rep feeds.Report) {
	for _, f := range rep.Feeds {
		if f.Err != nil && f.URL == "" && ctx.Err() == nil {
			a.Log.Error("feeds: cannot read the feeds to fetch", "err", f.Err)
		}
		a.classifyItems(ctx, f.NewItems)
	}
}

// classifyItems stores the themes of new items and the signals that
// same-story detection reads of them.
func (a *App) classifyItems(ctx context.Context, items []feeds.Item) {
	for _, it := range items {
		if err := a.Digests.SaveClassification(ctx, it.ID, digest.Classify(a.Classifier, it)); err != nil {
			a.Log.Error("classify", "item", it.ID, "err", err)
		}
		if err := a.Digests.SaveSignals(ctx, it); err != nil {
			a.Log.Error("story signals", "item", it.ID, "err", err)
		}
	}
}

// Reclassify runs the current theme rules over every stored item (after a
// rule change) and returns how many items were classified.
func (a *App) Reclassify(ctx context.Context) (int, error) {
	n := 0
	err := a.Feeds.EachItem(ctx, func(it feeds.Item) error {
		n++
		return a.Digests.SaveClassification(ctx, it.ID, digest.Classify(a.Classifier, it))
	})
	return n, err
}

// Assemble brings the digest's draft up to date.
func (a *App) Assemble(ctx context.Context, d digest.Digest) (*digest.Issue, int, error) {
	return a.Digests.Assemble(ctx, d, func(it feeds.Item) digest.Classification {
		return digest.Classify(a.Classifier, it)
	})
}
