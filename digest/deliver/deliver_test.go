package deliver

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// testClock is a settable time source for retry and local-time tests.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func useClock(e *Engine, start time.Time) *testClock {
	c := &testClock{t: start}
	e.now = c.now
	return c
}

func wantEachOnce(t *testing.T, ts *testServer, n int) {
	t.Helper()
	got := ts.counts()
	for id := int64(1); id <= int64(n); id++ {
		if got[addr(id)] != 1 {
			t.Errorf("%s received %d copies, want 1", addr(id), got[addr(id)])
		}
	}
	if len(got) != n {
		t.Errorf("server saw %d recipients, want %d", len(got), n)
	}
}

func TestSendEveryoneOnceReusingConnectionsAndSecondRunSendsNothing(t *testing.T) {
	ts := newTestServer(t)
	_, mk := openDB(t)
	cfg := relayCfg(ts, 3)
	cfg.PerConn = 7
	e := mk(cfg)
	e.BatchSize = 16
	p := newPeople(60)
	sum, err := e.Send(context.Background(), job(1, p))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sent != 60 || sum.SentNow != 60 || sum.Total != 60 || !sum.Done || sum.Remaining() != 0 {
		t.Fatalf("summary %+v", sum)
	}
	wantEachOnce(t, ts, 60)
	ts.mu.Lock()
	conns := append([]int(nil), ts.conns...)
	ts.mu.Unlock()
	if len(conns) < 60/7 || len(conns) > 20 {
		t.Errorf("%d connections for 60 messages with 7 per connection and 3 workers", len(conns))
	}
	reused := false
	for _, n := range conns {
		if n > 7 {
			t.Errorf("a connection carried %d messages, cap is 7", n)
		}
		reused = reused || n > 1
	}
	if !reused {
		t.Error("no connection carried more than one message")
	}
	for id, r := range outbox(t, e, 1) {
		if r.state != StateSent || r.code != 250 || !strings.Contains(r.text, "queued") || r.attempts != 1 || !strings.HasSuffix(r.msgID, "@haiphong.example>") || r.email != addr(id) {
			t.Errorf("row %d: %+v", id, r)
		}
	}
	if p.maxLim > 16 {
		t.Errorf("recipients read %d at a time, batch size is 16", p.maxLim)
	}

	sum, err = e.Send(context.Background(), job(1, p))
	if err != nil {
		t.Fatal(err)
	}
	if sum.SentNow != 0 || sum.Sent != 60 {
		t.Fatalf("second run: %+v", sum)
	}
	wantEachOnce(t, ts, 60)
}

func TestMessageHeadersAndParts(t *testing.T) {
	ts := newTestServer(t)
	_, mk := openDB(t)
	e := mk(relayCfg(ts, 1))
	if _, err := e.Send(context.Background(), job(7, newPeople(1))); err != nil {
		t.Fatal(err)
	}
	raw := ts.message(addr(1))
	m, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	from, err := m.Header.AddressList("From")
	if err != nil || from[0].Name != "Bản tin Hải Phòng" || from[0].Address != "digest@haiphong.example" {
		t.Errorf("From = %v (%v)", from, err)
	}
	to, err := m.Header.AddressList("To")
	if err != nil || to[0].Name != "Người đọc 1" || to[0].Address != addr(1) {
		t.Errorf("To = %v (%v)", to, err)
	}
	dec := new(mime.WordDecoder)
	if s, _ := dec.DecodeHeader(m.Header.Get("Subject")); s != "Bản tin tuần — Hải Phòng" {
		t.Errorf("Subject = %q", s)
	}
	if id := m.Header.Get("Message-ID"); !strings.HasPrefix(id, "<hpd.7.1.") || !strings.HasSuffix(id, "@haiphong.example>") {
		t.Errorf("Message-ID = %q", id)
	}
	if _, err := m.Header.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	if got := m.Header.Get("List-Unsubscribe"); got != "<https://haiphong.example/unsubscribe/tok-1?one_click=1&issue=1>, <mailto:unsubscribe@haiphong.example?subject=unsubscribe-tok-1>" {
		t.Errorf("List-Unsubscribe = %q", got)
	}
	if got := m.Header.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post = %q", got)
	}
	if got := m.Header.Get("List-Id"); got != "Hai Phong Digest <digest.haiphong.example>" {
		t.Errorf("List-Id = %q", got)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v)", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var types []string
	var texts []string
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		types = append(types, ct)
		b, _ := io.ReadAll(part) // multipart decodes quoted-printable
		texts = append(texts, string(b))
	}
	if strings.Join(types, ",") != "text/plain,text/html" {
		t.Fatalf("parts %v, want text/plain then text/html", types)
	}
	if !strings.Contains(texts[0], "Xin chào Người đọc 1") || !strings.Contains(texts[1], "<p>Xin chào Người đọc 1</p>") {
		t.Errorf("bodies %q", texts)
	}
}

func TestTemporaryFailureRetriedWithBackoffThenSent(t *testing.T) {
	for _, pipe := range []bool{true, false} {
		t.Run(map[bool]string{true: "pipelining", false: "one-by-one"}[pipe], func(t *testing.T) { testTemporaryFailureRetriedWithBackoffThenSent(t, pipe) })
	}
}

func testTemporaryFailureRetriedWithBackoffThenSent(t *testing.T, pipelining bool) {
	ts := newTestServer(t)
	_, mk := openDB(t)
	cfg := relayCfg(ts, 2)
	cfg.NoPipelining = !pipelining
	e := mk(cfg)
	clk := useClock(e, time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))
	ts.set(func() {
		ts.onRcpt = func(_ *testSession, to string, n int) error {
			if to == addr(3) && n <= 2 {
				return smtpErrReply(451, smtp.EnhancedCode{4, 7, 1}, "greylisted, try later")
			}
			return nil
		}
	})
	p := newPeople(5)
	sum, err := e.Send(context.Background(), job(1, p))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sent != 4 || sum.Retry != 1 || sum.Done {
		t.Fatalf("first pass %+v", sum)
	}
	r := outbox(t, e, 1)[3]
	if r.state != StateRetry || r.code != 451 || r.attempts != 1 || r.next != clk.now().Add(time.Minute).Unix() || !strings.Contains(r.text, "greylisted") {
		t.Fatalf("row after 451: %+v", r)
	}
	if !sum.NextAt.Equal(time.Unix(r.next, 0)) {
		t.Errorf("NextAt %v, row due %v", sum.NextAt, time.Unix(r.next, 0))
	}
	// Not due yet: nothing happens.
	if sum, _ = e.Send(context.Background(), job(1, p)); sum.SentNow != 0 || ts.counts()[addr(3)] != 0 {
		t.Fatalf("sent before the retry time: %+v", sum)
	}
	clk.add(time.Minute)
	e.Send(context.Background(), job(1, p))
	r = outbox(t, e, 1)[3]
	if r.state != StateRetry || r.attempts != 2 || r.next != clk.now().Add(2*time.Minute).Unix() {
		t.Fatalf("second 451 should double the back-off: %+v", r)
	}
	clk.add(2 * time.Minute)
	sum, err = e.Send(context.Background(), job(1, p))
	if err != nil || !sum.Done || sum.Sent != 5 {
		t.Fatalf("after retry: %+v %v", sum, err)
	}
	if r = outbox(t, e, 1)[3]; r.state != StateSent || r.attempts != 3 {
		t.Fatalf("row %+v", r)
	}
	wantEachOnce(t, ts, 5)
}

func TestTemporaryFailureGivesUpAtDeadline(t *testing.T) {
	ts := newTestServer(t)
	_, mk := openDB(t)
	cfg := relayCfg(ts, 1)
	cfg.RetryFor = 10 * time.Minute
	cfg.RetryBackoff = 4 * time.Minute
	e := mk(cfg)
	clk := useClock(e, time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))
	ts.set(func() {
		ts.onRcpt = func(_ *testSession, to string, n int) error {
			return smtpErrReply(452, smtp.EnhancedCode{4, 2, 2}, "mailbox full")
		}
	})
	bounces := 0
	j := job(1, newPeople(1))
	j.OnPermanentFailure = func(context.Context, int64, string) error { bounces++; return nil }
	var sum Summary
	for i := 0; i < 10 && !sum.Done; i++ {
		var err error
		if sum, err = e.Send(context.Background(), j); err != nil {
			t.Fatal(err)
		}
		if !sum.Done {
			clk.t = sum.NextAt
		}
	}
	r := outbox(t, e, 1)[1]
	// attempts at 0, +4m, +10m (capped at the deadline): then failed.
	if r.state != StateFailed || r.attempts != 3 || r.code != 452 || !strings.Contains(r.lastErr, "gave up after 3 attempts") {
		t.Fatalf("row %+v", r)
	}
	if bounces != 0 {
		t.Errorf("a 4xx that timed out was counted as %d bounces", bounces)
	}
	ts.mu.Lock()
	if ts.rcpt[addr(1)] != 3 {
		t.Errorf("server saw %d attempts, want 3", ts.rcpt[addr(1)])
	}
	ts.mu.Unlock()
}

func TestPermanentFailureIsRecordedAndCountedAsBounce(t *testing.T) {
	for _, pipe := range []bool{true, false} {
		t.Run(map[bool]string{true: "pipelining", false: "one-by-one"}[pipe], func(t *testing.T) { testPermanentFailureIsRecordedAndCountedAsBounce(t, pipe) })
	}
}

func testPermanentFailureIsRecordedAndCountedAsBounce(t *testing.T, pipelining bool) {
	ts := newTestServer(t)
	_, mk := openDB(t)
	cfg := relayCfg(ts, 2)
	cfg.NoPipelining = !pipelining
	e := mk(cfg)
	ts.set(func() {
		ts.onRcpt = func(_ *testSession, to string, n int) error {
			if to == addr(2) || to == addr(4) {
				return smtpErrReply(550, smtp.EnhancedCode{5, 1, 1}, "no such user")
			}
			return nil
		}
	})
	var mu sync.Mutex
	bounced := map[int64]string{}
	j := job(1, newPeople(6))
	j.OnPermanentFailure = func(_ context.Context, id int64, reason string) error {
		mu.Lock()
		bounced[id] = reason
		mu.Unlock()
		return nil
	}
	sum, err := e.Send(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sent != 4 || sum.Failed != 2 || sum.FailedNow != 2 || !sum.Done {
		t.Fatalf("%+v", sum)
	}
	rows := outbox(t, e, 1)
	for _, id := range []int64{2, 4} {
		if r := rows[id]; r.state != StateFailed || r.code != 550 || !strings.Contains(r.text, "no such user") {
			t.Errorf("row %d %+v", id, r)
		}
		if !strings.Contains(bounced[id], "550") {
			t.Errorf("bounce of %d reported as %q", id, bounced[id])
		}
	}
	if len(bounced) != 2 {
		t.Errorf("bounces %v", bounced)
	}
	// The connection survived the refusals: later messages still went out on it.
	got := ts.counts()
	if got[addr(2)] != 0 || got[addr(6)] != 1 {
		t.Errorf("received %v", got)
	}
	// A second run does not retry permanent failures.
	ts.set(func() { ts.onRcpt = nil })
	if sum, _ = e.Send(context.Background(), j); sum.SentNow != 0 || ts.counts()[addr(2)] != 0 {
		t.Errorf("second run resent a bounced row: %+v", sum)
	}
	// Unless asked to: a bounce stays, other failures would be requeued.
	if n, err := e.RequeueFailed(context.Background(), 1, false); err != nil || n != 0 {
		t.Errorf("RequeueFailed without bounces requeued %d (%v)", n, err)
	}
}

func TestReconnectOn421AndDroppedConnections(t *testing.T) {
	for _, pipe := range []bool{true, false} {
		t.Run(map[bool]string{true: "pipelining", false: "one-by-one"}[pipe], func(t *testing.T) { testReconnectOn421AndDroppedConnections(t, pipe) })
	}
}

func testReconnectOn421AndDroppedConnections(t *testing.T, pipelining bool) {
	ts := newTestServer(t)
	_, mk := openDB(t)
	cfg := relayCfg(ts, 2)
	cfg.NoPipelining = !pipelining
	e := mk(cfg)
	c, err := e.relays[0].transport.Dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.(*smtpConn).pipelining != pipelining {
		t.Fatalf("pipelining %v, want %v", c.(*smtpConn).pipelining, pipelining)
	}
	c.Close()
	var dropped, closed atomic.Int32
	ts.set(func() {
		ts.onMail = func(s *testSession, n int) error {
			if n == 4 { // every connection is closed by the server after 3 messages
				closed.Add(1)
				return smtpErrReply(421, smtp.EnhancedCode{4, 3, 2}, "closing connection")
			}
			return nil
		}
		ts.onRcpt = func(s *testSession, to string, n int) error {
			if n == 1 && (to == addr(5) || to == addr(17)) {
				dropped.Add(1)
				return s.drop()
			}
			return nil
		}
	})
	sum, err := e.Send(context.Background(), job(1, newPeople(30)))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sent != 30 || !sum.Done {
		t.Fatalf("%+v", sum)
	}
	wantEachOnce(t, ts, 30)
	if closed.Load() == 0 || dropped.Load() != 2 {
		t.Errorf("421s %d, drops %d: the server script did not run", closed.Load(), dropped.Load())
	}
	for id, r := range outbox(t, e, 1) {
		if r.state != StateSent || r.attempts != 1 {
			t.Errorf("row %d %+v: a connection problem must not count as an attempt", id, r)
		}
	}
}

func TestStalledServerTimesOutAndMessageGoesOnANewConnection(t *testing.T) {
	for _, pipe := range []bool{true, false} {
		t.Run(map[bool]string{true: "pipelining", false: "one-by-one"}[pipe], func(t *testing.T) { testStalledServerTimesOutAndMessageGoesOnANewConnection(t, pipe) })
	}
}

func testStalledServerTimesOutAndMessageGoesOnANewConnection(t *testing.T, pipelining bool) {
	ts := newTestServer(t)
	_, mk := openDB(t)
	cfg := relayCfg(ts, 1)
	cfg.Timeout = time.Second // the stall never ends; a short timeout keeps the test quick
	cfg.NoPipelining = !pipelining
	e := mk(cfg)
	release := make(chan struct{})
	defer close(release)
	var stalls atomic.Int32
	ts.set(func() {
		ts.onRcpt = func(s *testSession, to string, n int) error {
			if to == addr(2) && n == 1 {
				stalls.Add(1)
				<-release // never answers while the client waits
				return errors.New("late")
			}
			return nil
		}
	})
	sum, err := e.Send(context.Background(), job(1, newPeople(4)))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sent != 4 || stalls.Load() != 1 {
		t.Fatalf("%+v stalls=%d", sum, stalls.Load())
	}
	wantEachOnce(t, ts, 4)
}

func TestRelayDownPausesAndResumesWithoutLosingAnything(t *testing.T) {
	ts := newTestServer(t)
	_, mk := openDB(t)
	e := mk(relayCfg(ts, 2))
	ts.stop()
	paused := make(chan struct{})
	var once sync.Once
	h := &watchHandler{match: "relay unavailable", fn: func() { once.Do(func() { close(paused) }) }}
	e.log = newTeeLogger(e.log, h)
	done := make(chan struct{})
	var sum Summary
	var err error
	go func() {
		defer close(done)
		j := job(1, newPeople(20))
		j.Wait = true
		sum, err = e.Send(context.Background(), j)
	}()
	<-paused
	select {
	case <-done:
		t.Fatal("Send returned while the relay was down")
	default:
	}
	ts.restart()
	<-done
	if err != nil || sum.Sent != 20 || !sum.Done {
		t.Fatalf("%+v %v", sum, err)
	}
	wantEachOnce(t, ts, 20)
}

func TestRelayPoolRoutesAroundADeadRelay(t *testing.T) {
	a, b := newTestServer(t), newTestServer(t)
	b.stop()
	_, mk := openDB(t)
	cfg := Config{TLS: "none", Timeout: 5 * time.Second, RetryFor: time.Hour, Relays: []Relay{
		{Name: "a", Host: "127.0.0.1", Port: a.port, TLS: "none", Workers: 2, RatePerSec: 1000},
		{Name: "b", Host: "127.0.0.1", Port: b.port, TLS: "none", Workers: 2},
	}}
	e := mk(cfg)
	sum, err := e.Send(context.Background(), job(1, newPeople(25)))
	if err != nil || sum.Sent != 25 {
		t.Fatalf("%+v %v", sum, err)
	}
	wantEachOnce(t, a, 25)
	for id, r := range outbox(t, e, 1) {
		if r.relay != "a" {
			t.Errorf("row %d sent via %q", id, r.relay)
		}
	}
}

func TestCancelDrainsInFlightAndResumeCompletes(t *testing.T) {
	ts := newTestServer(t)
	_, mk := openDB(t)
	e := mk(relayCfg(ts, 3))
	ctx, cancel := context.WithCancel(context.Background())
	ts.set(func() {
		ts.onData = func(_ string, total int) {
			if total == 25 {
				cancel()
			}
		}
	})
	p := newPeople(200)
	sum, err := e.Send(ctx, job(1, p))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	received := 0
	for _, n := range ts.counts() {
		received += n
	}
	// Drained: every message the server took is recorded as sent, no more.
	if sum.Sent != received || sum.Total != 200 || sum.Done {
		t.Fatalf("server has %d, outbox %+v", received, sum)
	}
	if received >= 200 {
		t.Fatal("cancel did not stop the send")
	}
	sum, err = e.Send(context.Background(), job(1, p))
	if err != nil || !sum.Done || sum.Sent != 200 {
		t.Fatalf("resume %+v %v", sum, err)
	}
	wantEachOnce(t, ts, 200)
}

func TestSkippedRows(t *testing.T) {
	ts := newTestServer(t)
	_, mk := openDB(t)
	e := mk(relayCfg(ts, 2))
	clk := useClock(e, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) // 07:00 in Hanoi
	p := newPeople(6)
	j := job(1, p)
	j.Local = &LocalDelivery{Hour: 8, DefaultTimezone: "Asia/Ho_Chi_Minh"}
	j.Compose = func(ctx context.Context, r Recipient) (*Message, error) {
		if r.SubscriberID == 1 {
			return nil, nil // nothing for their themes
		}
		return compose(ctx, r)
	}
	sum, err := e.Send(context.Background(), j)
	if err != nil || sum.SentNow != 0 || sum.Pending != 6 {
		t.Fatalf("before 08:00 local: %+v %v", sum, err)
	}
	p.mu.Lock()
	p.removed[4] = true // unsubscribes before it goes out
	p.mu.Unlock()
	clk.add(time.Hour)
	sum, err = e.Send(context.Background(), j)
	if err != nil || sum.Sent != 4 || sum.Skipped != 2 || !sum.Done {
		t.Fatalf("%+v %v", sum, err)
	}
	rows := outbox(t, e, 1)
	if rows[1].state != StateSkipped || rows[4].state != StateSkipped || !strings.Contains(rows[4].lastErr, "no longer") {
		t.Errorf("rows %+v", rows)
	}
	got := ts.counts()
	if got[addr(1)] != 0 || got[addr(4)] != 0 || got[addr(2)] != 1 {
		t.Errorf("received %v", got)
	}
}

func TestLocalMorningDeliveryAcrossTimeZones(t *testing.T) {
	ts := newTestServer(t)
	_, mk := openDB(t)
	e := mk(relayCfg(ts, 2))
	start := time.Date(2026, 3, 2, 0, 30, 0, 0, time.UTC) // Mon 07:30 Hanoi, 01:30 Paris, Sun 19:30 New York, 13:30 Auckland
	clk := useClock(e, start)
	zones := map[int64]string{1: "Asia/Ho_Chi_Minh", 2: "Europe/Paris", 3: "America/New_York", 4: "", 5: "Pacific/Auckland", 6: "Not/AZone"}
	p := newPeople(6)
	p.tz = func(id int64) string { return zones[id] }
	j := job(1, p)
	j.Local = &LocalDelivery{Hour: 8, DefaultTimezone: "Asia/Ho_Chi_Minh", Grace: 3 * time.Hour}
	sum, err := e.Send(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]time.Time{
		1: time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC),  // 08:00 +07
		2: time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC),  // 08:00 +01
		3: time.Date(2026, 3, 2, 13, 0, 0, 0, time.UTC), // Mon 08:00 -05
		4: time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC),  // default zone
		5: time.Date(2026, 3, 2, 19, 0, 0, 0, time.UTC), // Tue 08:00 +13 (13:30 is past the 3h grace)
		6: time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC),  // unknown zone: default
	}
	rows := outbox(t, e, 1)
	for id, w := range want {
		if got := time.Unix(rows[id].notBefore, 0).UTC(); !got.Equal(w) {
			t.Errorf("subscriber %d (%q): not before %v, want %v", id, zones[id], got, w)
		}
	}
	if sum.SentNow != 0 || !sum.NextAt.Equal(want[1]) {
		t.Fatalf("%+v", sum)
	}
	clk.t = want[2]
	sum, _ = e.Send(context.Background(), j)
	if sum.Sent != 4 || !sum.NextAt.Equal(want[3]) {
		t.Fatalf("at %v: %+v", clk.t, sum)
	}
	clk.t = want[5]
	sum, _ = e.Send(context.Background(), j)
	if sum.Sent != 6 || !sum.Done {
		t.Fatalf("%+v", sum)
	}
	wantEachOnce(t, ts, 6)
	// Grace: a recipient whose 08:00 passed an hour ago gets it at once.
	if got := localSendTime(time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC), time.FixedZone("x", 7*3600), &LocalDelivery{Hour: 8, Grace: 3 * time.Hour}); !got.Equal(time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)) {
		t.Errorf("within grace: %v", got)
	}
}

func TestSendOne(t *testing.T) {
	ts := newTestServer(t)
	_, mk := openDB(t)
	e := mk(relayCfg(ts, 1))
	m, _ := compose(context.Background(), Recipient{SubscriberID: 9, Email: "new@example.org", Name: "Lan"})
	if err := e.SendOne(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if ts.counts()["new@example.org"] != 1 {
		t.Fatalf("got %v", ts.counts())
	}
	ts.set(func() {
		ts.onRcpt = func(*testSession, string, int) error {
			return smtpErrReply(550, smtp.EnhancedCode{5, 1, 1}, "no such user")
		}
	})
	err := e.SendOne(context.Background(), m)
	var se *SendError
	if !errors.As(err, &se) || se.Code != 550 || se.Temporary() || se.Stage != "RCPT" {
		t.Fatalf("err %v", err)
	}
	var n int
	e.db.QueryRow(`SELECT COUNT(*) FROM deliveries`).Scan(&n)
	if n != 0 {
		t.Errorf("SendOne wrote %d outbox rows", n)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "smtp.host: is empty"},
		{Config{Host: "x", TLS: "ssl"}, "smtp.tls: "},
		{Config{Host: "x", Port: 70000}, "smtp.port: 70000"},
		{Config{Relays: []Relay{{Host: "a"}, {Port: 25}}}, "smtp.relays[1].host: is empty"},
		{Config{Relays: []Relay{{Host: "a", Workers: -1}}}, "smtp.relays[0].workers"},
		{Config{Host: "x", PasswordEnv: "HPD_TEST_SURELY_UNSET"}, "smtp.password_env: environment variable HPD_TEST_SURELY_UNSET"},
		{Config{Host: "x", RetryFor: -time.Second}, "smtp.retry_for"},
		{Config{Host: "x", EnvelopeFrom: "bounces+list@d.example"}, "smtp.envelope_from: \"bounces+list@d.example\": the local part must not hold '+'"},
		{Config{Host: "x", DKIM: DKIMConfig{Domain: "d"}}, "smtp.dkim.selector"},
		{Config{Host: "x", DKIM: DKIMConfig{Selector: "s"}}, "smtp.dkim.domain"},
		{Config{Host: "x", DKIM: DKIMConfig{Domain: "d", Selector: "s", PrivateKeyFile: "/nonexistent/key.pem"}}, "smtp.dkim.private_key_file"},
		{Config{Host: "x", DKIM: DKIMConfig{Domain: "d", Selector: "s", PrivateKeyEnv: "HPD_TEST_SURELY_UNSET"}}, "smtp.dkim.private_key_env"},
	} {
		err := c.cfg.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want %q", c.cfg, err, c.want)
		}
	}
	if err := (Config{Host: "smtp.example.org", Port: 587}).Validate(); err != nil {
		t.Error(err)
	}
	if err := (Config{Host: "smtp.example.org", EnvelopeFrom: "bounces+list@d.example", NoVERP: true}).Validate(); err != nil {
		t.Errorf("a '+' without VERP: %v", err)
	}
}
