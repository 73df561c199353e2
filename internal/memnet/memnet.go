// Package memnet is an in-memory network for tests: a net.Listener whose
// connections are net.Pipe pairs, and the dial function that reaches it.
// Servers and clients on it wait on channels only, which a test's
// simulated clock (testing/synctest) sees as idle, so fetch timeouts can
// happen in simulated time.
package memnet

import (
	"context"
	"net"
	"sync"
)

// Listener accepts the connections Dial makes.
type Listener struct {
	name   string
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

// Listen returns a listener named name ("feeds.test:80").
func Listen(name string) *Listener {
	return &Listener{name: name, conns: make(chan net.Conn), closed: make(chan struct{})}
}

// Accept waits for the next connection.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// Close stops accepting.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

// Addr is the listener's name.
func (l *Listener) Addr() net.Addr { return addr(l.name) }

// Dial connects to the listener, whatever the address asked for.
func (l *Listener) Dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type addr string

func (a addr) Network() string { return "memnet" }
func (a addr) String() string  { return string(a) }
