//go:build !unix

package deliver

// processAlive cannot tell here: a lease is then only freed by its expiry.
func processAlive(int) bool { return true }
