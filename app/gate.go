package app

import (
	"context"
	"sync"
)

// sendGate decides who may send. One send runs at a time in the process
// (whatever starts it: a schedule, the resume check, staff, -send-now),
// and each digest has a claim held from the moment a send of it is
// decided on until it ends: a scheduled tick that finds its digest claimed
// is skipped, not queued behind the running send.
//
// The waits are on channels, so they end with the context and a test's
// simulated clock sees them as idle.
type sendGate struct {
	one     chan struct{} // held while a send runs
	mu      sync.Mutex
	digests map[string]chan struct{}
}

func newSendGate() *sendGate {
	return &sendGate{one: make(chan struct{}, 1), digests: map[string]chan struct{}{}}
}

func (g *sendGate) digest(key string) chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	c, ok := g.digests[key]
	if !ok {
		c = make(chan struct{}, 1)
		g.digests[key] = c
	}
	return c
}

// claim takes the digest's claim and then the send lock. With wait false
// it gives up at once (ok false) when the digest is claimed already; the
// wait for the send lock (another digest sending) always happens. release
// must be called when ok.
func (g *sendGate) claim(ctx context.Context, key string, wait bool) (release func(), ok bool, err error) {
	d := g.digest(key)
	if wait {
		select {
		case d <- struct{}{}:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	} else {
		select {
		case d <- struct{}{}:
		default:
			return nil, false, nil
		}
	}
	select {
	case g.one <- struct{}{}:
	case <-ctx.Done():
		<-d
		return nil, false, ctx.Err()
	}
	return func() { <-g.one; <-d }, true, nil
}
