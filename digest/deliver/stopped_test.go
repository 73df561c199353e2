package deliver

import (
	"context"
	"strings"
	"sync"
	"testing"
)

// A reader who unsubscribes while the send runs, after the outbox and the
// batch of recipients were read, does not get the message.
func TestRecipientStoppedDuringTheSendIsSkipped(t *testing.T) {
	ts := newTestServer(t)
	_, mk := openDB(t)
	e := mk(relayCfg(ts, 1)) // one worker: messages leave in subscriber order
	p := newPeople(40)       // one batch of recipients (500)
	var mu sync.Mutex
	stopped := map[int64]bool{}
	j := job(1, p)
	j.Compose = func(ctx context.Context, r Recipient) (*Message, error) {
		if r.SubscriberID == 5 { // readers 10 to 20 unsubscribe while 5 is being sent
			mu.Lock()
			for id := int64(10); id <= 20; id++ {
				stopped[id] = true
			}
			mu.Unlock()
		}
		return compose(ctx, r)
	}
	j.Stopped = func(id int64) bool {
		mu.Lock()
		defer mu.Unlock()
		return stopped[id]
	}
	sum, err := e.Send(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sent != 29 || sum.Skipped != 11 || !sum.Done {
		t.Errorf("summary %+v, want 29 sent and 11 skipped", sum)
	}
	got := ts.counts()
	rows := outbox(t, e, 1)
	for id := int64(1); id <= 40; id++ {
		want := 1
		if id >= 10 && id <= 20 {
			want = 0
			if r := rows[id]; r.state != StateSkipped || !strings.Contains(r.lastErr, "unsubscribed") {
				t.Errorf("row %d: %+v, want skipped with the reason", id, r)
			}
		}
		if got[addr(id)] != want {
			t.Errorf("%s got %d messages, want %d", addr(id), got[addr(id)], want)
		}
	}
}
