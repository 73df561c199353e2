package deliver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/haiphong/hpdigest/store"
)

// What the mail that comes back says about a delivery the relay accepted:
// a bounce (hard or soft), a delay, a spam complaint. Each report is an
// event on its outbox row; the row's own state stays what the relay said
// (sent), so resends and the send's counts are not disturbed.
const (
	OutcomeHardBounce = "hard_bounce"
	OutcomeSoftBounce = "soft_bounce"
	OutcomeDelayed    = "delayed"
	OutcomeComplaint  = "complaint"
)

// How a report found its delivery.
const (
	FoundByVERP      = "verp"       // the signed token of the envelope sender it came back to
	FoundByMessageID = "message-id" // the Message-ID of the returned original
	FoundByRecipient = "recipient"  // the failed address: its newest delivery
)

// outcomesMigration: the events reported on outbox rows. A report (one
// inbound message, by its Message-ID) is recorded once per row and kind.
const outcomesMigration = `CREATE TABLE delivery_events (
	id            INTEGER PRIMARY KEY,
	issue_id      INTEGER NOT NULL,
	subscriber_id INTEGER NOT NULL,
	kind          TEXT NOT NULL CHECK (kind IN ('hard_bounce', 'soft_bounce', 'delayed', 'complaint')),
	status        TEXT NOT NULL DEFAULT '', -- enhanced status code, 5.1.1
	reason        TEXT NOT NULL DEFAULT '', -- the remote server's words, or the complaint's type
	reporting_mta TEXT NOT NULL DEFAULT '',
	remote_mta    TEXT NOT NULL DEFAULT '',
	found_by      TEXT NOT NULL,
	report_id     TEXT NOT NULL,
	at            INTEGER NOT NULL,
	UNIQUE (issue_id, subscriber_id, kind, report_id)
);
CREATE INDEX delivery_events_subscriber ON delivery_events (subscriber_id);`

// Delivery is one outbox row, as a report about it needs it.
type Delivery struct {
	IssueID, SubscriberID int64
	Email                 string // "" once the reader is forgotten
	State                 string
	MessageID             string // with angle brackets; "" until sent
	SentAt                time.Time
}

// Ref names the delivery in other components' records: "issue 12 to 345".
func (d Delivery) Ref() string { return fmt.Sprintf("issue %d to %d", d.IssueID, d.SubscriberID) }

// ErrNoDelivery is returned when no outbox row matches.
var ErrNoDelivery = errors.New("no such delivery")

const deliveryCols = `issue_id, subscriber_id, email, state, message_id, sent_at`

func scanDelivery(row *sql.Row) (Delivery, error) {
	var d Delivery
	var sentAt int64
	err := row.Scan(&d.IssueID, &d.SubscriberID, &d.Email, &d.State, &d.MessageID, &sentAt)
	if errors.Is(err, sql.ErrNoRows) {
		return d, ErrNoDelivery
	}
	if err != nil {
		return d, fmt.Errorf("deliver: read delivery: %w", err)
	}
	d.SentAt = store.Time(sentAt)
	return d, nil
}

// Delivery returns the outbox row of one issue and subscriber.
func (e *Engine) Delivery(ctx context.Context, issueID, subscriberID int64) (Delivery, error) {
	return scanDelivery(e.db.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE issue_id = ? AND subscriber_id = ?`, issueID, subscriberID))
}

// NewestSent returns the subscriber's most recent delivery the relay
// accepted.
func (e *Engine) NewestSent(ctx context.Context, subscriberID int64) (Delivery, error) {
	return scanDelivery(e.db.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM deliveries
		WHERE subscriber_id = ? AND state = 'sent' ORDER BY issue_id DESC LIMIT 1`, subscriberID))
}

// FindDelivery finds the delivery a report is about from what is signed
// or unguessable in it: the VERP token of the address it came back to,
// else the Message-ID of the returned original (hpd.ISSUE.SUBSCRIBER.RANDOM@,
// compared whole with the row's). It returns an error wrapping ErrForged
// for a token that does not verify or a Message-ID that is not the row's,
// and ErrNoDelivery when there is no row (or no token and no Message-ID
// of the engine's). A token is never passed over for the Message-ID.
func (e *Engine) FindDelivery(ctx context.Context, verpToken, messageID string) (Delivery, string, error) {
	if verpToken != "" {
		if e.verp == nil {
			return Delivery{}, "", fmt.Errorf("VERP token %q: %w (no VERP key)", verpToken, ErrForged)
		}
		iss, sid, err := e.verp.Check(verpToken)
		if err != nil {
			return Delivery{}, "", fmt.Errorf("VERP token %q: %w", verpToken, err)
		}
		d, err := e.Delivery(ctx, iss, sid)
		return d, FoundByVERP, err
	}
	iss, sid, ok := parseMessageID(messageID)
	if !ok {
		return Delivery{}, "", ErrNoDelivery
	}
	d, err := e.Delivery(ctx, iss, sid)
	if err != nil {
		return d, "", err
	}
	if d.MessageID == "" || d.MessageID != strings.TrimSpace(messageID) {
		return Delivery{}, "", fmt.Errorf("Message-ID %s: %w: issue %d went to subscriber %d with another", messageID, ErrForged, iss, sid)
	}
	return d, FoundByMessageID, nil
}

// parseMessageID reads the issue and subscriber of a Message-ID the
// engine made: <hpd.ISSUE.SUBSCRIBER.RANDOM@domain>.
func parseMessageID(id string) (issueID, subscriberID int64, ok bool) {
	id = strings.TrimSpace(id)
	rest, found := strings.CutPrefix(id, "<hpd.")
	if !found {
		return 0, 0, false
	}
	f := strings.SplitN(rest, ".", 3)
	if len(f) != 3 {
		return 0, 0, false
	}
	iss, err1 := strconv.ParseInt(f[0], 10, 64)
	sid, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil || iss <= 0 || sid <= 0 {
		return 0, 0, false
	}
	return iss, sid, true
}

// Outcome is one report about a delivery.
type Outcome struct {
	Kind         string // OutcomeHardBounce, ...
	Status       string // enhanced status code
	Reason       string // diagnostic, or the complaint's feedback type and reporter
	ReportingMTA string
	RemoteMTA    string
	FoundBy      string // FoundByVERP, ...
	// ReportID identifies the report (the inbound message's Message-ID):
	// the same report is recorded once per delivery and kind.
	ReportID string
	At       time.Time
}

// RecordOutcome records a report on a delivery's row. It returns false
// when this report was recorded before (the same message offered again).
func (e *Engine) RecordOutcome(ctx context.Context, d Delivery, o Outcome) (bool, error) {
	switch o.Kind {
	case OutcomeHardBounce, OutcomeSoftBounce, OutcomeDelayed, OutcomeComplaint:
	default:
		return false, fmt.Errorf("deliver: unknown outcome %q", o.Kind)
	}
	if o.ReportID == "" {
		return false, errors.New("deliver: an outcome needs the report's id")
	}
	if o.At.IsZero() {
		o.At = e.now()
	}
	res, err := e.db.ExecContext(ctx, `INSERT INTO delivery_events (issue_id, subscriber_id, kind, status, reason, reporting_mta, remote_mta, found_by, report_id, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (issue_id, subscriber_id, kind, report_id) DO NOTHING`,
		d.IssueID, d.SubscriberID, o.Kind, clip(o.Status, 32), clip(o.Reason, 500), clip(o.ReportingMTA, 255), clip(o.RemoteMTA, 255),
		o.FoundBy, clip(o.ReportID, 255), o.At.Unix())
	if err != nil {
		return false, fmt.Errorf("deliver: record %s of issue %d to %d: %w", o.Kind, d.IssueID, d.SubscriberID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Outcomes returns the reports recorded on one delivery, oldest first.
func (e *Engine) Outcomes(ctx context.Context, issueID, subscriberID int64) ([]Outcome, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT kind, status, reason, reporting_mta, remote_mta, found_by, report_id, at
		FROM delivery_events WHERE issue_id = ? AND subscriber_id = ? ORDER BY id`, issueID, subscriberID)
	if err != nil {
		return nil, fmt.Errorf("deliver: read outcomes: %w", err)
	}
	defer rows.Close()
	var out []Outcome
	for rows.Next() {
		var o Outcome
		var at int64
		if err := rows.Scan(&o.Kind, &o.Status, &o.Reason, &o.ReportingMTA, &o.RemoteMTA, &o.FoundBy, &o.ReportID, &at); err != nil {
			return nil, err
		}
		o.At = store.Time(at)
		out = append(out, o)
	}
	return out, rows.Err()
}

// OutcomeCounts are the deliveries of an issue that reports came back
// about, each delivery counted once per kind.
type OutcomeCounts struct {
	HardBounces, SoftBounces, Delayed, Complaints int
}

// IssueOutcomes counts the reported outcomes of these issues (issues
// without any are missing); for an issue folded by retention, the counts
// kept with it.
func (e *Engine) IssueOutcomes(ctx context.Context, issueIDs []int64) (map[int64]OutcomeCounts, error) {
	out := make(map[int64]OutcomeCounts, len(issueIDs))
	for _, id := range issueIDs {
		c, err := ReportCounts(ctx, e.db, id)
		if err != nil {
			return nil, err
		}
		if c != (OutcomeCounts{}) {
			out[id] = c
		}
	}
	return out, nil
}

// ReportCounts counts the deliveries of an issue that reports came back
// about (each once per kind), or returns the counts kept with it once
// retention folded it: for the history, -delivery-status and monitoring.
func ReportCounts(ctx context.Context, db *sql.DB, issueID int64) (OutcomeCounts, error) {
	t, o, ok, err := storedTotals(ctx, db, issueID)
	if err != nil || (ok && !t.Folded.IsZero()) {
		return o, err
	}
	return countOutcomes(ctx, db, issueID)
}

// countOutcomes counts the deliveries of an issue that reports came back
// about, each once per kind.
func countOutcomes(ctx context.Context, q store.Querier, issueID int64) (OutcomeCounts, error) {
	var c OutcomeCounts
	rows, err := q.QueryContext(ctx, `SELECT kind, COUNT(DISTINCT subscriber_id) FROM delivery_events WHERE issue_id = ? GROUP BY kind`, issueID)
	if err != nil {
		return c, fmt.Errorf("deliver: count outcomes of issue %d: %w", issueID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind string
		var n int
		if err := rows.Scan(&kind, &n); err != nil {
			return c, err
		}
		switch kind {
		case OutcomeHardBounce:
			c.HardBounces = n
		case OutcomeSoftBounce:
			c.SoftBounces = n
		case OutcomeDelayed:
			c.Delayed = n
		case OutcomeComplaint:
			c.Complaints = n
		}
	}
	return c, rows.Err()
}
