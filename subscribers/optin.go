package subscribers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/haiphong/hpdigest/store"
)

// SubscribeRequest is what the public form sends. It carries no free
// text: whatever a visitor could type would go out in the confirmation
// mail, under the office's name, to an address of their choosing.
type SubscribeRequest struct {
	Email    string
	Language string
	Themes   []string
}

// SubscribeResult tells the web layer what to do next. It must show the
// same page whatever the result, so that nobody learns whether an address
// was already on the list.
type SubscribeResult struct {
	Subscriber Subscriber
	// New is true when the address was not on the list.
	New bool
	// SendConfirmation is false when a confirmation went to this mailbox
	// (under this address or another of its plus-addresses) less than
	// confirm_resend_interval ago.
	SendConfirmation bool
}

// ValidateRequest normalises the fields of a subscribe request without
// touching the database; errors are meant for the reader.
func (s *Store) ValidateRequest(req SubscribeRequest) (SubscribeRequest, error) {
	var err error
	if req.Email, err = NormalizeEmail(req.Email); err != nil {
		return req, err
	}
	if req.Language, err = NormalizeLanguage(req.Language, s.Config().DefaultLanguage); err != nil {
		return req, err
	}
	if req.Themes, err = ParseThemes(strings.Join(req.Themes, " "), s.Themes()); err != nil {
		return req, err
	}
	return req, nil
}

// Mailbox names the mailbox an address delivers to, for limits on mail
// sent to it: lower-cased, without a "+tag" in the local part (user+a@ and
// user+b@ reach user@), and for Gmail without dots in the local part.
func Mailbox(email string) string {
	email = strings.ToLower(email)
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return email
	}
	local, domain := email[:at], email[at+1:]
	if i := strings.IndexByte(local, '+'); i > 0 {
		local = local[:i]
	}
	if domain == "gmail.com" || domain == "googlemail.com" {
		local, domain = strings.ReplaceAll(local, ".", ""), "gmail.com"
	}
	return local + "@" + domain
}

// Subscribe handles the web form: a new address becomes Pending; an address
// already on the list is left as it is except that a not-yet-confirmed
// (pending, unsubscribed, bounced) row takes the new language and themes,
// to apply once the reader confirms. A confirmed reader's choices never
// change from this anonymous form. At most one confirmation per mailbox
// (see Mailbox) per confirm_resend_interval is allowed: the slot is taken
// here, atomically; call ConfirmationSent afterwards with the outcome.
func (s *Store) Subscribe(ctx context.Context, req SubscribeRequest) (SubscribeResult, error) {
	req, err := s.ValidateRequest(req)
	if err != nil {
		return SubscribeResult{}, err
	}
	var res SubscribeResult
	err = store.RetryBusy(ctx, func() error {
		res, err = s.subscribe(ctx, req)
		return err
	})
	return res, err
}

func (s *Store) subscribe(ctx context.Context, req SubscribeRequest) (SubscribeResult, error) {
	now := s.now()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return SubscribeResult{}, err
	}
	defer tx.Rollback()
	var res SubscribeResult
	cur, err := scanSub(tx.QueryRowContext(ctx, `SELECT `+cols+` FROM subscribers WHERE email = ?`, req.Email))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		cur, err = insertSub(ctx, tx, Subscriber{Email: req.Email, Language: req.Language, Themes: req.Themes, Status: Pending}, now, "web form")
		if err != nil {
			return res, err
		}
		res.New = true
	case err != nil:
		return res, err
	default:
		if err := addEvent(ctx, tx, cur.ID, EventResubscribe, "web form while "+cur.Status, now); err != nil {
			return res, err
		}
		if cur.Status != Confirmed {
			if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET language = ?, themes = ?, updated_at = ? WHERE id = ?`,
				req.Language, strings.Join(req.Themes, " "), now.Unix(), cur.ID); err != nil {
				return res, err
			}
			cur.Language, cur.Themes = req.Language, req.Themes
		}
	}
	// Take the mailbox's confirmation slot if its last one is old enough.
	r, err := tx.ExecContext(ctx, `INSERT INTO subscriber_confirm_slots (mailbox, sent_at) VALUES (?, ?)
		ON CONFLICT (mailbox) DO UPDATE SET sent_at = excluded.sent_at WHERE sent_at <= ?`,
		Mailbox(cur.Email), now.Unix(), now.Add(-s.Config().ConfirmResendInterval).Unix())
	if err != nil {
		return res, err
	}
	n, _ := r.RowsAffected()
	if res.SendConfirmation = n == 1; res.SendConfirmation {
		if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET confirm_sent_at = ? WHERE id = ?`, now.Unix(), cur.ID); err != nil {
			return res, err
		}
	}
	res.Subscriber = cur
	return res, tx.Commit()
}

// ConfirmationSent records the outcome of sending the confirmation mail:
// on success an event, on failure the slot is given back so that the reader
// can try again at once.
func (s *Store) ConfirmationSent(ctx context.Context, id int64, sendErr error) error {
	return store.RetryBusy(ctx, func() error {
		if sendErr != nil {
			var email string
			if err := s.db.QueryRowContext(ctx, `SELECT email FROM subscribers WHERE id = ?`, id).Scan(&email); err != nil {
				return err
			}
			if _, err := s.db.ExecContext(ctx, `DELETE FROM subscriber_confirm_slots WHERE mailbox = ?`, Mailbox(email)); err != nil {
				return err
			}
			_, err := s.db.ExecContext(ctx, `UPDATE subscribers SET confirm_sent_at = 0 WHERE id = ?`, id)
			return err
		}
		return addEvent(ctx, s.db, id, EventConfirmationSent, "", s.now())
	})
}

// ErrStaleToken is returned by Confirm for a confirmation link older than
// the reader's last unsubscribe or bounce.
var ErrStaleToken = errors.New("link older than the subscriber's last change")

// Confirm completes double opt-in for the subscriber of a verified confirm
// token. Confirming twice is harmless. A link issued before the reader
// unsubscribed (or bounced) does not bring them back.
func (s *Store) Confirm(ctx context.Context, c Claims) (Subscriber, error) {
	var sub Subscriber
	err := store.RetryBusy(ctx, func() (err error) {
		sub, err = s.confirm(ctx, c)
		return err
	})
	return sub, err
}

func (s *Store) confirm(ctx context.Context, c Claims) (Subscriber, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Subscriber{}, err
	}
	defer tx.Rollback()
	cur, err := scanSub(tx.QueryRowContext(ctx, `SELECT `+cols+` FROM subscribers WHERE id = ?`, c.SubscriberID))
	if errors.Is(err, sql.ErrNoRows) {
		return cur, fmt.Errorf("subscriber %d: %w", c.SubscriberID, ErrNotFound)
	}
	if err != nil {
		return cur, err
	}
	switch cur.Status {
	case Confirmed:
		return cur, nil
	case Unsubscribed, Bounced:
		if c.IssuedAt.Before(cur.StatusAt) {
			return cur, ErrStaleToken
		}
	}
	now := s.now()
	if _, err := setStatus(ctx, tx, cur.ID, Confirmed, "double opt-in", now); err != nil {
		return cur, err
	}
	// The reader asked again themselves: an earlier deletion no longer applies.
	if _, err := tx.ExecContext(ctx, `DELETE FROM subscriber_suppressions WHERE email_sha256 = ?`, suppressionKey(cur.Email)); err != nil {
		return cur, err
	}
	if err := tx.Commit(); err != nil {
		return cur, err
	}
	return s.Get(ctx, cur.ID)
}

// Links are the personal URLs of one subscriber.
type Links struct {
	Confirm, Preferences, Unsubscribe string
}

// LinksFor returns the personal URLs of subscriber id under base (the
// public base URL, e.g. "https://tin.haiphong.gov.vn/digest"). The email
// renderer uses Unsubscribe for List-Unsubscribe and Preferences in the
// footer.
func LinksFor(base string, t *Tokens, id int64) Links {
	base = strings.TrimRight(base, "/")
	return Links{
		Confirm:     base + "/confirm/" + t.Sign(PurposeConfirm, id),
		Preferences: base + "/preferences/" + t.Sign(PurposePreferences, id),
		Unsubscribe: base + "/unsubscribe/" + t.Sign(PurposeUnsubscribe, id),
	}
}

// PurgePending deletes sign-ups never confirmed within pending_expiry
// (data minimisation; their confirmation links have long expired) and
// returns how many went. Only rows that were never confirmed are touched.
func (s *Store) PurgePending(ctx context.Context) (int, error) {
	cutoff := s.now().Add(-s.Config().PendingExpiry).Unix()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	const which = `SELECT id FROM subscribers WHERE status = 'pending' AND confirmed_at = 0 AND created_at < ? AND confirm_sent_at < ?`
	if _, err := tx.ExecContext(ctx, `DELETE FROM subscriber_events WHERE subscriber_id IN (`+which+`)`, cutoff, cutoff); err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM subscribers WHERE id IN (`+which+`)`, cutoff, cutoff)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	if _, err := tx.ExecContext(ctx, `DELETE FROM subscriber_confirm_slots WHERE sent_at < ?`, s.now().Add(-s.Config().ConfirmResendInterval).Unix()); err != nil {
		return 0, err
	}
	return int(n), tx.Commit()
}
