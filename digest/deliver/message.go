package deliver

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// render builds the message (see buildMessage), then signs the bytes with
// go-msgauth if DKIM is configured.
func (e *Engine) render(m *Message, issueID, sid int64) ([]byte, string, error) {
	buf, id, err := e.renderBuf(m, issueID, sid)
	if err != nil {
		return nil, "", err
	}
	b := bytes.Clone(buf.Bytes())
	putBuf(buf)
	return b, id, nil
}

// msgBuf is a rendered message in a pooled buffer: the message is
// b[off:] (the DKIM signatures go in front of it, in room kept for them).
type msgBuf struct {
	b    []byte
	off  int
	wire bool // the message is wireReady
}

// Bytes is the message.
func (m *msgBuf) Bytes() []byte { return m.b[m.off:] }

var bufPool = sync.Pool{New: func() any { return new(msgBuf) }}

func getBuf() *msgBuf { b := bufPool.Get().(*msgBuf); b.b, b.off, b.wire = b.b[:0], 0, false; return b }

func putBuf(b *msgBuf) {
	if cap(b.b) <= 4<<20 {
		bufPool.Put(b)
	}
}

// dkimRoom is the space kept before a message for its DKIM signatures,
// so that the signed message is one contiguous buffer without a copy.
const dkimRoom = 2048

// renderBuf is render into a pooled buffer (return it with putBuf),
// built in place: the message is never copied.
func (e *Engine) renderBuf(m *Message, issueID, sid int64) (*msgBuf, string, error) {
	buf := getBuf()
	room := 0
	if e.signer != nil {
		room = dkimRoom
	}
	b := append(buf.b, make([]byte, room)...)
	b, info, err := appendMessage(b, m, issueID, sid, e.now())
	buf.b = b
	if err != nil {
		putBuf(buf)
		return nil, "", err
	}
	buf.wire = m.Body != nil && m.Body.wire && builtWireReady(b[room:], info)
	if e.signer == nil {
		return buf, info.id, nil
	}
	msg := b[room:]
	var bh []byte
	if m.Body != nil {
		bh, err = m.Body.bodyHash(msg[info.bodyStart:], shift(info.marks, -info.bodyStart))
	} else {
		sum := sha256.Sum256(relaxedBody(msg[info.bodyStart:]))
		bh = sum[:]
	}
	var sig []byte
	if err == nil {
		sig, err = e.signer.appendSignatures(make([]byte, 0, 1024), msg[:info.bodyStart-2], bh, e.now())
	}
	if err != nil {
		putBuf(buf)
		return nil, "", fmt.Errorf("dkim: %w", err)
	}
	buf.wire = buf.wire && wireReady(sig)
	if len(sig) <= room {
		buf.off = room - len(sig)
		copy(b[buf.off:], sig)
		return buf, info.id, nil
	}
	signed := getBuf()
	signed.b, signed.wire = append(append(signed.b, sig...), msg...), buf.wire
	putBuf(buf)
	return signed, info.id, nil
}

// builtWireReady reports a message made from a wireReady Body as
// wireReady: its header and the values' encodings are checked, not the
// Body's literal text (checked once, when the Body is made).
func builtWireReady(msg []byte, info built) bool {
	if !wireReady(msg[:info.bodyStart]) {
		return false
	}
	for i := 0; i+1 < len(info.marks); i += 2 {
		if !wireReady(msg[info.marks[i]:info.marks[i+1]]) {
			return false
		}
	}
	return true
}

// shift returns offsets moved by d (in place).
func shift(offsets []int, d int) []int {
	for i := range offsets {
		offsets[i] += d
	}
	return offsets
}

// planner computes each row's not-before time for local-time delivery.
type planner struct {
	l     *LocalDelivery
	start time.Time
	def   *time.Location
	cache map[string]*time.Location
	log   *slog.Logger
}

func newPlanner(l *LocalDelivery, start time.Time, log *slog.Logger) *planner {
	p := &planner{l: l, start: start, cache: map[string]*time.Location{}, log: log}
	if l != nil {
		name := l.DefaultTimezone
		if name == "" {
			name = "Asia/Ho_Chi_Minh"
		}
		loc, err := time.LoadLocation(name)
		if err != nil {
			log.Warn("deliver: default time zone unknown; using UTC", "tz", name, "err", err)
			loc = time.UTC
		}
		p.def = loc
	}
	return p
}

// notBefore returns the unix second from which a row may be sent (0: now).
func (p *planner) notBefore(tz string) int64 {
	if p.l == nil {
		return 0
	}
	return localSendTime(p.start, p.location(tz), p.l).Unix()
}

func (p *planner) location(tz string) *time.Location {
	if tz == "" {
		return p.def
	}
	if loc, ok := p.cache[tz]; ok {
		return loc
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		p.log.Warn("deliver: unknown subscriber time zone; using the default", "tz", tz)
		loc = p.def
	}
	p.cache[tz] = loc
	return loc
}

// localSendTime is the first moment at or after start when it is
// l.Hour:l.Minute in loc, or start itself if that time passed less than
// l.Grace ago today.
func localSendTime(start time.Time, loc *time.Location, l *LocalDelivery) time.Time {
	grace := l.Grace
	if grace == 0 {
		grace = 3 * time.Hour
	}
	local := start.In(loc)
	target := time.Date(local.Year(), local.Month(), local.Day(), l.Hour, l.Minute, 0, 0, loc)
	switch {
	case !target.Before(start):
		return target
	case start.Sub(target) <= grace:
		return start
	default:
		return time.Date(local.Year(), local.Month(), local.Day()+1, l.Hour, l.Minute, 0, 0, loc)
	}
}

// Render returns the message exactly as Send would put it on the wire for
// this engine (DKIM-signed if configured), with a fresh Message-ID and
// Date: for previews and "view source".
func (e *Engine) Render(m *Message) ([]byte, error) {
	if m == nil {
		return nil, errors.New("deliver: nil message")
	}
	b, _, err := e.render(m, 0, 0)
	return b, err
}

// Render returns the message as an unsigned .eml (see Engine.Render).
func Render(m *Message) ([]byte, error) {
	return newEngine(nil, Config{}, nil).Render(m)
}
