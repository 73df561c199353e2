package deliver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/textproto"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/haiphong/hpdigest/internal/clock"
)

// Transport is how a relay reaches the outside: Dial opens one connection
// (an SMTP session, or a directory writer) that a worker reuses.
type Transport interface {
	Dial(ctx context.Context) (Conn, error)
}

// stagedConn is a Conn that sends a message in two steps: Start sends
// the envelope, and the data with its end too if complete (asked once the
// server took the envelope) says the message may be completed now; End
// sends the data and its end if Start did not, and returns the server's
// reply. The server takes the message only with the end of its data;
// Abort drops the connection instead, and with it the message.
type stagedConn interface {
	Conn
	Start(env Envelope, data []byte, complete func() bool) error
	End() (reply string, err error)
	Abort()
}

// Conn is one open connection of a Transport.
type Conn interface {
	// Send delivers data (a rendered message) for env and returns the
	// server's final reply text (e.g. "2.0.0 Ok: queued as 4Xyz"). Errors
	// are *SendError.
	Send(env Envelope, data []byte) (reply string, err error)
	Close() error
}

// Envelope is what a connection needs besides the message bytes.
type Envelope struct {
	From, To              string // bare addresses
	IssueID, SubscriberID int64  // 0 for a transactional message
	wireReady             bool   // the data is wireReady: no dot-stuffing to do
}

// SendError is a failed delivery with the server's answer, if any.
type SendError struct {
	Stage string // DIAL, MAIL, RCPT, DATA, WRITE
	Code  int    // SMTP reply code; 0 when the connection failed
	Text  string // SMTP reply text or the I/O error
	Err   error
}

func (e *SendError) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("%s: %d %s", e.Stage, e.Code, e.Text)
	}
	return fmt.Sprintf("%s: %s", e.Stage, e.Text)
}

func (e *SendError) Unwrap() error { return e.Err }

// Temporary reports a 4xx answer or a connection problem.
func (e *SendError) Temporary() bool { return e.Code < 500 }

// connLevel reports a failure of the connection rather than of the
// message: no reply at all, or 421 (the server is closing the session).
func (e *SendError) connLevel() bool { return e.Code == 0 || e.Code == 421 }

func smtpErr(stage string, err error) *SendError {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return &SendError{Stage: stage, Code: tp.Code, Text: tp.Msg, Err: err}
	}
	return &SendError{Stage: stage, Text: err.Error(), Err: err}
}

// relay is one member of the pool: its workers, limits and health.
type relay struct {
	name      string
	workers   int
	perConn   int
	limiter   *rate.Limiter
	transport Transport

	mu          sync.Mutex
	pausedUntil time.Time
	failures    int
}

// pause marks the relay unreachable for a growing back-off.
func (rl *relay) pause(e *Engine, err error) {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	now := e.now()
	if now.Before(rl.pausedUntil) {
		return // already paused by another worker
	}
	rl.failures++
	d := e.dialBackoff << min(rl.failures-1, 16)
	if d > e.maxDialBackoff || d <= 0 {
		d = e.maxDialBackoff
	}
	rl.pausedUntil = now.Add(d)
	e.log.Warn("deliver: relay unavailable; pausing it", "relay", rl.name, "for", d, "failures", rl.failures, "err", err)
}

func (rl *relay) healthy(e *Engine) {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if rl.failures > 0 {
		e.log.Info("deliver: relay back; resuming", "relay", rl.name)
	}
	rl.failures = 0
	rl.pausedUntil = time.Time{}
}

// waitPaused sleeps while the relay is paused.
func (rl *relay) waitPaused(ctx context.Context, e *Engine) error {
	for {
		rl.mu.Lock()
		d := rl.pausedUntil.Sub(e.now())
		rl.mu.Unlock()
		if d <= 0 {
			return nil
		}
		if err := clock.Sleep(ctx, e.clock, d); err != nil {
			return err
		}
	}
}

// work is one worker: one connection to its relay, reused for many messages.
//
// A worker hands each outcome to the recorder and goes on with its next
// message while the outcome is being written (render it, and on a
// stagedConn send its envelope), but it completes no message
// until the previous outcome is durable: at most one message per worker is
// ever on the wire or sent-but-unrecorded.
func (r *run) work(rl *relay) {
	e := r.e
	var c Conn
	onConn := 0
	closeConn := func() {
		if c != nil {
			_ = c.Close()
			c = nil
		}
	}
	defer closeConn()
	ack := make(chan error, 1)
	pending := false // an outcome handed to the recorder is not acknowledged yet
	var ackErr error // the recorder failed: the send stops
	var afterAck func()
	acked := func(err error) {
		pending = false
		if err != nil && ackErr == nil {
			ackErr = err
		}
		if afterAck != nil {
			afterAck()
			afterAck = nil
		}
	}
	// awaitAck waits until the previous outcome is durable.
	awaitAck := func() error {
		if pending {
			if int(r.waiting.Add(1)) >= r.quorum {
				select {
				case r.wake <- struct{}{}: // the recorder commits now rather than gathering more
				default:
				}
			}
			err := <-ack
			r.waiting.Add(-1)
			acked(err)
		}
		return ackErr
	}
	// recorded reports, without waiting, whether the previous outcome is
	// durable.
	recorded := func() bool {
		if pending {
			select {
			case err := <-ack:
				acked(err)
			default:
				return false
			}
		}
		return ackErr == nil
	}
	defer awaitAck()
	submit := func(t *task, res result, then func()) {
		awaitAck()
		r.submit(t, res, ack)
		pending, afterAck = true, then
	}
	tasks := r.tasks
	for {
		if rl.waitPaused(r.ctx, e) != nil {
			return
		}
		var t *task
		select {
		case t = <-r.orphans:
		default:
			select {
			case t = <-r.orphans:
			case x, ok := <-tasks:
				if !ok {
					tasks = nil
					continue
				}
				t = x
				if len(tasks) <= cap(tasks)/2 { // the dispatcher fills it again (see run.send)
					select {
					case r.refill <- struct{}{}:
					default:
					}
				}
			case <-r.allDone:
				return
			case <-r.ctx.Done():
				return
			}
		}
		if t.buf == nil {
			res, ok := r.compose(t)
			if !ok {
				submit(t, res, nil)
				continue
			}
		}
		if c != nil && rl.perConn > 0 && onConn >= rl.perConn {
			closeConn()
		}
		if c == nil {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), e.cfg.Timeout)
			nc, err := rl.transport.Dial(dctx)
			cancel()
			if err != nil {
				var se *SendError
				var certErr *tls.CertificateVerificationError
				if errors.As(err, &se) && se.Code >= 500 || errors.As(err, &certErr) {
					// 535 authentication failed, an untrusted certificate:
					// settings to fix, not an outage to wait out.
					r.setFatal(fmt.Errorf("deliver: relay %s refused the session: %w", rl.name, err))
					r.drop(t)
					return
				}
				rl.pause(e, err)
				r.orphans <- t // another worker (or this one, later) takes it
				continue
			}
			rl.healthy(e)
			c, onConn = nc, 0
		}
		if err := r.wait(rl); err != nil {
			r.drop(t) // not sent; the row stays due for the next run
			return
		}
		// The last moment to honour an unsubscribe, pause or bounce: what
		// is committed before this check stops the message; one committed
		// after it may still see this message leave (at most one message
		// per worker, the one on the wire).
		if r.job.Stopped != nil && r.job.Stopped(t.rcpt.SubscriberID) {
			submit(t, result{state: StateSkipped, errMsg: "unsubscribed, paused or bounced before the message left", attempts: t.row.attempts}, nil)
			continue
		}
		env := Envelope{From: t.from, To: t.rcpt.Email, IssueID: t.issueID, SubscriberID: t.rcpt.SubscriberID, wireReady: t.buf.wire}
		var reply string
		var err error
		if sc, ok := c.(stagedConn); ok {
			// The envelope goes out while the previous outcome is being
			// recorded; the data and its end, which completes the
			// message, once it is durable.
			if err = sc.Start(env, t.buf.Bytes(), recorded); err == nil {
				if awaitAck() != nil { // recording failed: the send stops
					sc.Abort()
					c = nil
					r.drop(t)
					return
				}
				reply, err = sc.End()
			}
		} else {
			awaitAck()
			reply, err = c.Send(env, t.buf.Bytes())
		}
		onConn++
		var se *SendError
		if err != nil && !errors.As(err, &se) {
			se = &SendError{Stage: "SEND", Text: err.Error(), Err: err}
		}
		switch {
		case err == nil:
			submit(t, result{state: StateSent, code: 250, text: reply, sentAt: e.now().Unix(), relay: rl.name}, nil)
		case se.connLevel():
			closeConn()
			if se.Code == 421 {
				rl.pause(e, se) // the server is closing: not this message's fault
			} else {
				t.connFails++ // a drop or a stall; three in a row make it a retry row
			}
			if t.connFails < 3 {
				e.log.Debug("deliver: connection lost; retrying the message on a new connection", "relay", rl.name, "err", se)
				r.orphans <- t
				continue
			}
			submit(t, r.temporary(t, se, rl.name), nil)
		case se.Temporary():
			submit(t, r.temporary(t, se, rl.name), nil)
		default:
			res := result{state: StateFailed, code: se.Code, text: se.Text, errMsg: se.Error(), relay: rl.name, attempts: t.row.attempts + 1}
			var bounce func()
			if se.Stage == "RCPT" && r.job.OnPermanentFailure != nil {
				sid := t.rcpt.SubscriberID
				bounce = func() {
					if err := r.job.OnPermanentFailure(context.WithoutCancel(r.ctx), sid, se.Error()); err != nil {
						e.log.Error("deliver: recording bounce", "subscriber", sid, "err", err)
					}
				}
			}
			submit(t, res, bounce)
		}
	}
}

// wait takes a token from the global and the relay's rate limiters.
func (r *run) wait(rl *relay) error {
	if r.global != nil {
		if err := r.global.Wait(r.ctx); err != nil {
			return err
		}
	}
	if rl.limiter != nil {
		return rl.limiter.Wait(r.ctx)
	}
	return nil
}

// compose renders the task's message; ok=false means a final result instead.
func (r *run) compose(t *task) (result, bool) {
	m, err := r.job.Compose(r.ctx, t.rcpt)
	if err != nil {
		return result{state: StateFailed, errMsg: "compose: " + err.Error(), attempts: t.row.attempts}, false
	}
	if m == nil {
		return result{state: StateSkipped, errMsg: "nothing for this subscriber in the issue", attempts: t.row.attempts}, false
	}
	if m.To == "" {
		m.To = t.rcpt.Email
	}
	if m.ToName == "" {
		m.ToName = t.rcpt.Name
	}
	buf, id, err := r.e.renderBuf(m, t.issueID, t.rcpt.SubscriberID)
	if err != nil {
		return result{state: StateFailed, errMsg: "render: " + err.Error(), attempts: t.row.attempts}, false
	}
	t.buf, t.msgID, t.from = buf, id, r.e.envelopeFrom(m)
	if r.e.verp != nil && !r.e.cfg.NoVERP {
		t.from = r.e.verp.Address(t.from, t.issueID, t.rcpt.SubscriberID)
	}
	t.rcpt.Email = m.To
	return result{}, true
}

// temporary turns a 4xx (or repeated connection loss) into a retry row, or
// a failed one once the retry deadline has passed.
func (r *run) temporary(t *task, se *SendError, relayName string) result {
	e := r.e
	now := e.now()
	att := t.row.attempts + 1
	until := t.row.retryUntil
	if until == 0 {
		until = now.Add(e.cfg.RetryFor).Unix()
	}
	res := result{code: se.Code, text: se.Text, errMsg: se.Error(), relay: relayName, attempts: att, until: until}
	if now.Unix() >= until {
		res.state = StateFailed
		res.errMsg = fmt.Sprintf("gave up after %d attempts: %s", att, se.Error())
		return res
	}
	back := e.cfg.RetryBackoff << min(att-1, 10)
	if back > time.Hour || back <= 0 {
		back = time.Hour
	}
	next := now.Add(back).Unix()
	if next > until {
		next = until
	}
	res.state, res.next = StateRetry, next
	return res
}

// submit hands the task's outcome to the recorder, which acknowledges it
// on ack once it is durable and then marks the task done.
func (r *run) submit(t *task, res result, ack chan error) {
	res.issueID, res.sid, res.ack, res.task = t.issueID, t.rcpt.SubscriberID, ack, true
	if res.state == StateSent {
		res.msgID = t.msgID
		if res.attempts == 0 {
			res.attempts = t.row.attempts + 1
		}
	}
	if t.buf != nil {
		putBuf(t.buf)
		t.buf = nil
	}
	r.results <- res
}

// drop forgets a task that was not sent (its row stays due).
func (r *run) drop(t *task) {
	if t.buf != nil {
		putBuf(t.buf)
		t.buf = nil
	}
	r.inflight.Done()
}

func (e *Engine) envelopeFrom(m *Message) string {
	if e.cfg.EnvelopeFrom != "" {
		return e.cfg.EnvelopeFrom
	}
	return m.FromAddress
}

// sanitizeForFile keeps a recipient address readable in a file name.
func sanitizeForFile(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '@', r == '.', r == '-', r == '_', r == '+':
			return r
		}
		return '_'
	}, s)
}
