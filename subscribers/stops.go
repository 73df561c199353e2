package subscribers

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/haiphong/hpdigest/store"
)

// StopWatch tells a sender, cheaply and at send time, which readers stopped
// being mailable (unsubscribed, paused, bounced, deleted) since it started.
//
// Every such change is logged by a trigger in subscriber_changes, whichever
// process made it. The watch reads that log: at once after this process
// commits a change (the web pages, bounces recorded by the sender), and
// every StopPollInterval for changes made by other processes (the mail
// pipe, the CLI). Stopped is an in-memory lookup.
//
// The window that remains: a change committed by this process is seen by
// Stopped before the committing call returns (before the reader's click
// is answered); one committed by another process is seen within
// StopPollInterval. A message whose check passed before that is still
// sent: at most one per sending connection, the one on the wire.
type StopWatch struct {
	s       *Store
	one     chan struct{} // one refresh at a time; a channel, so a wait ends with ctx and a simulated clock sees it idle
	seq     int64
	stopped atomic.Pointer[map[int64]bool]
	stop    chan struct{}
	done    chan struct{}
}

// StopPollInterval is how often a StopWatch reads changes made by other
// processes.
const StopPollInterval = 250 * time.Millisecond

// Sleeper is the clock a StopWatch polls by (internal/clock's Clock is
// one; nil means the system clock).
type Sleeper interface {
	After(d time.Duration) <-chan time.Time
}

// WatchStops starts a StopWatch; Close it when the send ends.
func (s *Store) WatchStops(ctx context.Context, c Sleeper) (*StopWatch, error) {
	w := &StopWatch{s: s, one: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	w.stopped.Store(&map[int64]bool{})
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM subscriber_changes`).Scan(&w.seq); err != nil {
		return nil, fmt.Errorf("subscribers: watch changes: %w", err)
	}
	s.watchMu.Lock()
	if s.watches == nil {
		s.watches = map[*StopWatch]bool{}
	}
	s.watches[w] = true
	s.watchMu.Unlock()
	after := time.After
	if c != nil {
		after = c.After
	}
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.stop:
				return
			case <-after(StopPollInterval):
				if err := w.Refresh(context.Background()); err != nil {
					return // the database is closing; Stopped keeps what it knew
				}
			}
		}
	}()
	return w, nil
}

// Stopped reports whether the reader stopped being mailable since the
// watch started.
func (w *StopWatch) Stopped(id int64) bool { return (*w.stopped.Load())[id] }

// Close stops the watch.
func (w *StopWatch) Close() {
	w.s.watchMu.Lock()
	delete(w.s.watches, w)
	w.s.watchMu.Unlock()
	close(w.stop)
	<-w.done
}

// Refresh reads the changes logged since the last refresh.
func (w *StopWatch) Refresh(ctx context.Context) error {
	select {
	case w.one <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-w.one }()
	rows, err := w.s.db.QueryContext(ctx, `SELECT seq, subscriber_id FROM subscriber_changes WHERE seq > ? ORDER BY seq`, w.seq)
	if err != nil {
		return fmt.Errorf("subscribers: read changes: %w", err)
	}
	seq := w.seq
	var ids []int64
	seen := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&seq, &id); err != nil {
			rows.Close()
			return err
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return err
	}
	in, args := store.InList(ids)
	mailableIDs, err := store.IDs(ctx, w.s.db, `SELECT id FROM subscribers WHERE status = 'confirmed' AND paused = 0 AND id IN (`+in+`)`, args...)
	if err != nil {
		return fmt.Errorf("subscribers: read changes: %w", err)
	}
	mailable := make(map[int64]bool, len(mailableIDs))
	for _, id := range mailableIDs {
		mailable[id] = true
	}
	next := map[int64]bool{}
	for id := range *w.stopped.Load() {
		next[id] = true
	}
	for id := range seen {
		if mailable[id] {
			delete(next, id) // paused and resumed again
		} else {
			next[id] = true
		}
	}
	w.stopped.Store(&next)
	w.seq = seq
	return nil
}

// changed refreshes this process's watches after a committed change, so
// that the change holds for sends before the caller answers anyone.
func (s *Store) changed(ctx context.Context) {
	s.watchMu.Lock()
	ws := make([]*StopWatch, 0, len(s.watches))
	for w := range s.watches {
		ws = append(ws, w)
	}
	s.watchMu.Unlock()
	for _, w := range ws {
		_ = w.Refresh(context.WithoutCancel(ctx)) // on error the periodic refresh reads it
	}
}

// PruneChanges forgets logged changes older than two days (watches live
// for one send).
func (s *Store) PruneChanges(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM subscriber_changes WHERE at < unixepoch() - 2*86400`)
	return err
}

// PruneEvents deletes the events on readers (subscribed, confirmed,
// bounced, ...) recorded before before, a few thousand per transaction,
// and returns how many went. Without it they are kept as long as their
// reader.
func (s *Store) PruneEvents(ctx context.Context, before time.Time) (int64, error) {
	n, err := store.DeleteBatched(ctx, s.db, "subscriber_events", "at < ?", before.Unix())
	if err != nil {
		return n, fmt.Errorf("subscribers: prune events: %w", err)
	}
	return n, nil
}
