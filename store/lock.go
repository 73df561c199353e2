package store

import "errors"

// ErrInUse is returned by LockExclusive while another process has the
// database open, and by LockShared while a restore replaces it.
var ErrInUse = errors.New("the database is in use")

// LockPath is the lock file beside the database at dbPath. Every process
// that opens the database holds a shared lock on it for as long as it
// runs; a restore takes it exclusively. The lock is the kernel's (flock),
// so it is released when its process exits, even after kill -9.
func LockPath(dbPath string) string { return dbPath + ".lock" }
