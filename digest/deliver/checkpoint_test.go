package deliver

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/haiphong/hpdigest/store"
)

// With ExternalCheckpoints (Litestream does them), a large send never
// checkpoints the WAL: every page it wrote is still in the -wal file for
// the replicator to copy. By default the WAL is checkpointed along the way
// and SQLite starts it over, so it stays a fraction of that size.
func TestSendLeavesCheckpointsToLitestream(t *testing.T) {
	const recipients = 5000
	walSize := func(external bool) int64 {
		path := filepath.Join(t.TempDir(), "outbox.db")
		db, err := store.OpenWith(path, store.Options{ExternalCheckpoints: external})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := store.Migrate(context.Background(), db, Migrations()); err != nil {
			t.Fatal(err)
		}
		if err := seedSubscribers(db, recipients); err != nil {
			t.Fatal(err)
		}
		e := NewDirEngine(db, t.TempDir(), nil)
		e.ExternalCheckpoints = external
		sum, err := e.Send(context.Background(), Job{IssueID: 1, Recipients: dbRecipients(db),
			Compose: func(_ context.Context, r Recipient) (*Message, error) {
				return &Message{FromAddress: "digest@example.org", To: r.Email, Subject: "x", Text: "x", HTML: "<p>x</p>", MessageIDDomain: "example.org"}, nil
			}})
		if err != nil || sum.Sent != recipients {
			t.Fatalf("send: %+v %v", sum, err)
		}
		st, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	own, external := walSize(false), walSize(true)
	t.Logf("WAL after the send: %d bytes checkpointing ourselves, %d leaving it to Litestream", own, external)
	if external < 2*own {
		t.Errorf("WAL %d bytes with external checkpoints, %d without: the send still checkpointed", external, own)
	}
}
