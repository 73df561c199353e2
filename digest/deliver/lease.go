package deliver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ErrBusy is returned by Send when another process (or another Send in this
// one) is sending the same issue right now, e.g. `-send-now` while the
// daemon sends: two senders would mail the same rows twice.
var ErrBusy = errors.New("deliver: issue is being sent by another sender")

const leaseTTL = time.Minute

// leaseOwner names this sender: host:pid:nonce.
func newLeaseOwner() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// acquireLease takes the issue's send lease. A lease held by a process of
// this host that no longer exists (kill -9) is taken over at once; any
// other live lease makes Send fail with ErrBusy until it expires.
func (e *Engine) acquireLease(ctx context.Context, issueID int64, owner string) error {
	tx, err := e.db.BeginTx(ctx, nil) // immediate: the check and the claim are atomic
	if err != nil {
		return fmt.Errorf("deliver: lease: %w", err)
	}
	defer tx.Rollback()
	var cur string
	var until int64
	if err := tx.QueryRowContext(ctx, `SELECT lease_owner, lease_until FROM delivery_jobs WHERE issue_id = ?`, issueID).Scan(&cur, &until); err != nil {
		return fmt.Errorf("deliver: lease: %w", err)
	}
	now := e.now()
	if cur != "" && cur != owner && until > now.Unix() && !leaseHolderGone(cur) {
		return fmt.Errorf("%w: issue %d by %s (lease until %s)", ErrBusy, issueID, cur, time.Unix(until, 0).UTC().Format(time.RFC3339))
	}
	if cur != "" && cur != owner {
		e.log.Warn("deliver: taking over the send of an interrupted sender", "issue", issueID, "previous", cur)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE delivery_jobs SET lease_owner = ?, lease_until = ? WHERE issue_id = ?`,
		owner, now.Add(leaseTTL).Unix(), issueID); err != nil {
		return fmt.Errorf("deliver: lease: %w", err)
	}
	return tx.Commit()
}

// holdLease renews the lease until the returned func releases it.
func (e *Engine) holdLease(issueID int64, owner string) (release func()) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-e.clock.After(leaseTTL / 3):
				if _, err := e.db.Exec(`UPDATE delivery_jobs SET lease_until = ? WHERE issue_id = ? AND lease_owner = ?`,
					e.now().Add(leaseTTL).Unix(), issueID, owner); err != nil {
					e.log.Warn("deliver: renewing the send lease", "issue", issueID, "err", err)
				}
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		if _, err := e.db.Exec(`UPDATE delivery_jobs SET lease_owner = '', lease_until = 0 WHERE issue_id = ? AND lease_owner = ?`, issueID, owner); err != nil {
			e.log.Warn("deliver: releasing the send lease", "issue", issueID, "err", err)
		}
	}
}

// leaseHolderGone reports a lease owner on this host whose process has exited.
func leaseHolderGone(owner string) bool {
	parts := strings.Split(owner, ":")
	if len(parts) != 3 {
		return false
	}
	host, _ := os.Hostname()
	pid, err := strconv.Atoi(parts[1])
	if parts[0] != host || err != nil || pid == os.Getpid() {
		return false
	}
	return !processAlive(pid)
}
