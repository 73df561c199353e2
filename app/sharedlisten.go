package app

import (
	"net"
	"sync"
)

// sharedListener accepts on one socket and hands each connection to one of
// the servers sharing it (see Share): a server can be replaced without
// closing the socket, so clients never find the port closed.
type sharedListener struct {
	ln    net.Listener
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newSharedListener(ln net.Listener) *sharedListener {
	s := &sharedListener{ln: ln, conns: make(chan net.Conn), done: make(chan struct{})}
	go s.accept()
	return s
}

func (s *sharedListener) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			s.Close()
			return
		}
		select {
		case s.conns <- c:
		case <-s.done:
			c.Close()
			return
		}
	}
}

// Close closes the socket; every share's Accept then fails.
func (s *sharedListener) Close() error {
	var err error
	s.once.Do(func() {
		close(s.done)
		err = s.ln.Close()
	})
	return err
}

// Share returns a listener for one server: its Close ends only that
// server's accepting.
func (s *sharedListener) Share() net.Listener {
	return &share{s: s, closed: make(chan struct{})}
}

type share struct {
	s      *sharedListener
	closed chan struct{}
	once   sync.Once
}

func (l *share) Accept() (net.Conn, error) {
	select {
	case c := <-l.s.conns:
		return c, nil
	case <-l.closed:
	case <-l.s.done:
	}
	return nil, net.ErrClosed
}

func (l *share) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *share) Addr() net.Addr { return l.s.ln.Addr() }
