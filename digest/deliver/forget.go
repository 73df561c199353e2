package deliver

import (
	"context"
	"database/sql"
	"fmt"
)

// Forget erases a reader's address and the relay's replies and the
// bounce reports' words about it from the outbox, inside the transaction that removes the reader (see
// subscribers.Store.SetRemoveHook). The rows stay, keyed by subscriber id,
// so an issue's counts and "nobody gets it twice" still hold.
func Forget(ctx context.Context, tx *sql.Tx, subscriberID int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET email = '', smtp_text = '', last_error = '' WHERE subscriber_id = ?`, subscriberID); err != nil {
		return fmt.Errorf("deliver: forget subscriber %d: %w", subscriberID, err)
	}
	// A bounce's diagnostic often quotes the address.
	if _, err := tx.ExecContext(ctx, `UPDATE delivery_events SET reason = '' WHERE subscriber_id = ?`, subscriberID); err != nil {
		return fmt.Errorf("deliver: forget subscriber %d: %w", subscriberID, err)
	}
	return nil
}
