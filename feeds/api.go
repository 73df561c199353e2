package feeds

// The API the rest of the daemon uses. Bodies are filled in by the feeds work
// (issues 2 and 3); signatures are the contract with app/ and web/.

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"time"

	"github.com/haiphong/hpdigest/store"
)

var errTODO = errors.New("feeds: not implemented yet")

// Migrations returns the schema of the feeds and items tables.
func Migrations() store.Migration {
	return store.Migration{Component: "feeds", Steps: []string{}}
}

// Store reads and writes the feeds and items tables.
type Store struct{ db *sql.DB }

// NewStore wraps an open database (migrations already applied).
func NewStore(db *sql.DB) *Store { return &Store{db: db} }

// SyncSources makes the feeds table match the configured sources: new ones
// are added, changed URLs/languages/intervals updated, removed ones disabled
// (their items stay).
func (s *Store) SyncSources(ctx context.Context, sources []Source) error { return errTODO }

// ItemsPublishedBetween returns items whose Published() time is in [from, to),
// newest first.
func (s *Store) ItemsPublishedBetween(ctx context.Context, from, to time.Time) ([]Item, error) {
	return nil, errTODO
}

// ItemsByID returns the items with these ids (missing ids are absent).
func (s *Store) ItemsByID(ctx context.Context, ids []int64) (map[int64]Item, error) {
	return nil, errTODO
}

// EachItem calls fn for every stored item, oldest first (for re-classifying).
func (s *Store) EachItem(ctx context.Context, fn func(Item) error) error { return errTODO }

// FeedHealth is what staff and the -feeds CLI see of one feed.
type FeedHealth struct {
	ID             int64
	Name, URL      string
	Enabled        bool
	LastFetchAt    time.Time
	LastSuccessAt  time.Time
	NextFetchAt    time.Time
	ErrorCount     int    // consecutive failures
	LastError      string // "" when healthy
	DisabledReason string
	ItemCount      int
}

// Health lists every feed with its state.
func (s *Store) Health(ctx context.Context) ([]FeedHealth, error) { return nil, errTODO }

// Reenable resets a feed's error count and back-off and enables it.
func (s *Store) Reenable(ctx context.Context, name string) error { return errTODO }

// FeedResult is the outcome of fetching one feed.
type FeedResult struct {
	Name        string
	URL         string
	NewItems    []Item // stored for the first time in this fetch
	NotModified bool   // 304
	Err         error  // nil on success; names the feed and the reason
}

// Report is the outcome of one poll round.
type Report struct{ Feeds []FeedResult }

// Failed returns the results that ended in an error.
func (r Report) Failed() []FeedResult {
	var out []FeedResult
	for _, f := range r.Feeds {
		if f.Err != nil {
			out = append(out, f)
		}
	}
	return out
}

// Poller fetches feeds with the project's own HTTP client.
type Poller struct {
	cfg   Config
	store *Store
	log   *slog.Logger
}

// NewPoller makes a poller; zero Config fields take defaults.
func NewPoller(cfg Config, st *Store, log *slog.Logger) *Poller {
	return &Poller{cfg: cfg, store: st, log: log}
}

// FetchAll fetches every enabled feed now (concurrently), stores new items and
// returns what happened to each. One failing feed never stops the others.
func (p *Poller) FetchAll(ctx context.Context) Report { return Report{} }

// Run polls each feed on its own schedule until ctx is done, calling onNew
// with the items each fetch stored for the first time.
func (p *Poller) Run(ctx context.Context, onNew func(context.Context, []Item)) {
	<-ctx.Done()
}
