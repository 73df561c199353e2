package staff

import (
	"context"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/digest"
)

// Staff see the scheduled sends that made no new issue, with the reason,
// and on a draft which items correct a story already mailed and which
// were carried over for lack of room.
func TestHistoryShowsSkippedSendsAndDraftShowsUpdates(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	tick := time.Date(2026, 3, 6, 1, 0, 0, 0, time.UTC) // 08:00 in Hai Phong
	if err := e.a.Digests.RecordSkippedSend(ctx, digest.SkippedSend{Digest: "weekly", TickAt: tick, Issue: 7, Reason: digest.SkipRunning}); err != nil {
		t.Fatal(err)
	}
	c := e.client()
	c.login(aliceEmail, password)
	hist := c.get("/staff/history").body
	row := between(hist, `class="skipped-send"`, "</tr>")
	if !strings.Contains(row, "weekly") || !strings.Contains(html.UnescapeString(row), tr("vi", "skip.running", 7)) || !strings.Contains(row, "06/03/2026") {
		t.Errorf("history does not show the skipped send:\n%s", row)
	}

	// Two items of the draft as the assembly marks them (see the digest
	// package's tests for how they come about).
	iss := e.issue()
	if len(iss.Items) < 2 {
		t.Fatalf("draft has %d items", len(iss.Items))
	}
	upd, carried := iss.Items[0].ItemID, iss.Items[1].ItemID
	for _, q := range []struct {
		sql  string
		item int64
	}{
		{`UPDATE issue_items SET included = 0, excluded_by = 'update', update_of = 1, update_in = 4 WHERE issue_id = ? AND item_id = ?`, upd},
		{`UPDATE issue_items SET carried_from = 4 WHERE issue_id = ? AND item_id = ?`, carried},
	} {
		if _, err := e.a.DB.Exec(q.sql, iss.ID, q.item); err != nil {
			t.Fatal(err)
		}
	}
	page := html.UnescapeString(c.get(issuePath(iss, "")).body)
	if item := between(page, itemAnchor(upd), "</li>"); !strings.Contains(item, tr("vi", "item.update", 4)) {
		t.Errorf("the correction is not marked as an update of issue 4:\n%s", item)
	}
	if item := between(page, itemAnchor(carried), "</li>"); !strings.Contains(item, tr("vi", "item.carried", 4)) {
		t.Errorf("the carried-over item is not marked:\n%s", item)
	}
}
