//go:build unix

package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Lock is a held lock on a database's lock file; Close releases it.
type Lock struct{ f *os.File }

// LockShared takes the shared lock every process that uses the database
// holds (the daemon and each one-off command). It fails with ErrInUse only
// while a restore holds the exclusive lock.
func LockShared(dbPath string) (*Lock, error) { return lock(dbPath, unix.LOCK_SH) }

// LockExclusive takes the lock a restore holds: it fails with ErrInUse
// while any other process (the daemon, a -send-now) has the database open.
func LockExclusive(dbPath string) (*Lock, error) { return lock(dbPath, unix.LOCK_EX) }

func lock(dbPath string, how int) (*Lock, error) {
	if dir := filepath.Dir(dbPath); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: create directory for %s: %w", dbPath, err)
		}
	}
	f, err := os.OpenFile(LockPath(dbPath), os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: lock file: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			who := "the daemon or another hpdigest command has it open"
			if how == unix.LOCK_SH {
				who = "a restore is replacing it"
			}
			return nil, fmt.Errorf("%w: %s (%s is locked)", ErrInUse, who, LockPath(dbPath))
		}
		return nil, fmt.Errorf("store: lock %s: %w", LockPath(dbPath), err)
	}
	return &Lock{f: f}, nil
}

// Close releases the lock.
func (l *Lock) Close() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
