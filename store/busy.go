package store

import (
	"context"
	"errors"
	"time"

	"modernc.org/sqlite"
)

// IsBusy reports whether err is SQLite's "database is locked" (SQLITE_BUSY
// or SQLITE_LOCKED, any extended code): another connection held the lock
// longer than the busy timeout, or a snapshot went stale. Trying again
// later may work.
func IsBusy(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case 5, 6: // SQLITE_BUSY, SQLITE_LOCKED
		return true
	}
	return false
}

// BusyRetryFor is how long RetryBusy keeps trying after the first failure.
const BusyRetryFor = 2 * time.Second

// RetryBusy runs fn, and runs it again while it fails with a busy error,
// for at most BusyRetryFor after the first failure, waiting a little longer
// each time, and never past ctx. fn must be a whole transaction (or one
// statement), so that running it again is safe. The last error is
// returned: a busy one when the lock never came free.
func RetryBusy(ctx context.Context, fn func() error) error {
	err := fn()
	if !IsBusy(err) {
		return err
	}
	deadline := time.Now().Add(BusyRetryFor)
	wait := 20 * time.Millisecond
	for IsBusy(err) && time.Now().Add(wait).Before(deadline) {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		err = fn()
		wait = min(2*wait, 500*time.Millisecond)
	}
	return err
}
