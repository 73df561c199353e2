package deliver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	_ "time/tzdata" // subscribers' time zones must resolve even without system tzdata

	"golang.org/x/time/rate"

	"github.com/haiphong/hpdigest/internal/clock"
	"github.com/haiphong/hpdigest/store"
)

// Send creates the outbox rows of the job (if not yet there) and delivers
// every row that is pending or due for retry. Rows already sent are never
// sent again, so running Send twice sends nothing the second time.
//
// All rows are created before the first message leaves. Cancelling ctx
// (SIGTERM) stops handing out new messages, lets the ones on the wire finish
// and be recorded, and returns the summary with ctx's error.
func (e *Engine) Send(ctx context.Context, job Job) (Summary, error) {
	if e.err != nil {
		return Summary{IssueID: job.IssueID}, e.err
	}
	if job.Recipients == nil || job.Compose == nil {
		return Summary{IssueID: job.IssueID}, errors.New("deliver: job needs Recipients and Compose")
	}
	start := e.now()
	if _, err := e.db.ExecContext(ctx, `INSERT OR IGNORE INTO delivery_jobs (issue_id, created_at) VALUES (?, ?)`, job.IssueID, start.Unix()); err != nil {
		return Summary{IssueID: job.IssueID}, fmt.Errorf("deliver: create job: %w", err)
	}
	owner := newLeaseOwner()
	if err := e.acquireLease(ctx, job.IssueID, owner); err != nil {
		return Summary{IssueID: job.IssueID}, err
	}
	release := e.holdLease(job.IssueID, owner)
	defer release()
	if err := e.createRows(ctx, job); err != nil {
		return Summary{IssueID: job.IssueID}, err
	}
	workers := 0
	for _, rl := range e.relays {
		workers += rl.workers
	}
	e.log.Info("deliver: sending", "issue", job.IssueID, "relays", len(e.relays), "workers", workers,
		"rate_limit_per_s", e.cfg.RatePerSec, "wait", job.Wait)
	total := &counters{}
	var stopProgress func()
	if e.Progress != nil {
		stopProgress = e.startProgress(job.IssueID, start, total)
	}
	var sum Summary
	var err error
	counted := false // sum counts the rows as the last pass left them
	for {
		if err = e.pass(ctx, job, total); err != nil {
			break
		}
		sum, err = e.summary(ctx, job.IssueID)
		if err != nil {
			break
		}
		if sum.Done || !job.Wait || ctx.Err() != nil {
			counted = true
			break
		}
		wait := sum.NextAt.Sub(e.now())
		if wait > 0 {
			e.log.Info("deliver: waiting for the next due row", "issue", job.IssueID, "until", sum.NextAt.Format(time.RFC3339), "remaining", sum.Remaining())
			_ = clock.Sleep(ctx, e.clock, wait)
		}
		if ctx.Err() != nil {
			break
		}
	}
	if !counted {
		if s2, err2 := e.summary(context.WithoutCancel(ctx), job.IssueID); err2 == nil {
			sum = s2
		} else if err == nil {
			err = err2
		}
	}
	if sum.Done {
		if err2 := e.markFinished(context.WithoutCancel(ctx), job.IssueID); err2 != nil && err == nil {
			err = err2
		}
	}
	sent, failed := total.now()
	sum.SentNow, sum.FailedNow = sent, failed
	sum.Elapsed = e.now().Sub(start)
	if sum.Elapsed > 0 {
		sum.Rate = float64(sum.SentNow) / sum.Elapsed.Seconds()
	}
	sum.RateLimit = e.cfg.RatePerSec
	sum.Final = true
	if stopProgress != nil {
		stopProgress()
		e.Progress(sum)
	}
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	e.log.Info("deliver: "+sum.String(), "elapsed", sum.Elapsed.Round(time.Millisecond), "outcome_commits", e.commits.Load())
	return sum, err
}

// createRows writes one outbox row per recipient, once per issue. An
// interrupted creation resumes after the highest subscriber id written.
func (e *Engine) createRows(ctx context.Context, job Job) error {
	now := e.now().Unix()
	if _, err := e.db.ExecContext(ctx, `INSERT OR IGNORE INTO delivery_jobs (issue_id, created_at) VALUES (?, ?)`, job.IssueID, now); err != nil {
		return fmt.Errorf("deliver: create job: %w", err)
	}
	var createdAt, complete int64
	if err := e.db.QueryRowContext(ctx, `SELECT created_at, rows_complete_at FROM delivery_jobs WHERE issue_id = ?`, job.IssueID).Scan(&createdAt, &complete); err != nil {
		return fmt.Errorf("deliver: read job: %w", err)
	}
	if complete != 0 {
		return nil
	}
	var after int64
	if err := e.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(subscriber_id), 0) FROM deliveries WHERE issue_id = ?`, job.IssueID).Scan(&after); err != nil {
		return fmt.Errorf("deliver: resume outbox: %w", err)
	}
	planner := newPlanner(job.Local, store.Time(createdAt), e.log)
	n := 0
	for {
		rs, err := job.Recipients(ctx, after, e.BatchSize)
		if err != nil {
			return fmt.Errorf("deliver: list recipients after %d: %w", after, err)
		}
		if len(rs) == 0 {
			break
		}
		if err := e.insertRows(ctx, job.IssueID, rs, planner); err != nil {
			return err
		}
		n += len(rs)
		after = rs[len(rs)-1].SubscriberID
	}
	if _, err := e.db.ExecContext(ctx, `UPDATE delivery_jobs SET rows_complete_at = ? WHERE issue_id = ?`, e.now().Unix(), job.IssueID); err != nil {
		return fmt.Errorf("deliver: mark outbox complete: %w", err)
	}
	e.log.Info("deliver: outbox created", "issue", job.IssueID, "rows", n)
	return nil
}

// rowsPerInsert is how many outbox rows one INSERT statement creates.
const rowsPerInsert = 100

func insertRowsSQL(n int) string {
	return `INSERT OR IGNORE INTO deliveries
		(issue_id, subscriber_id, email, state, not_before_at, next_attempt_at, created_at, updated_at) VALUES ` +
		valueRows(n, "(?, ?, ?, 'pending', ?, ?, ?, ?)")
}

// valueRows is the rows of a VALUES list: n times row, comma-separated.
func valueRows(n int, row string) string {
	return row + strings.Repeat(", "+row, n-1)
}

func (e *Engine) insertRows(ctx context.Context, issueID int64, rs []Recipient, p *planner) error {
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("deliver: create outbox rows: %w", err)
	}
	defer tx.Rollback()
	now := e.now().Unix()
	var full *sql.Stmt // for the common case of rowsPerInsert rows
	args := make([]any, 0, 7*min(len(rs), rowsPerInsert))
	for len(rs) > 0 {
		n := min(len(rs), rowsPerInsert)
		args = args[:0]
		for _, r := range rs[:n] {
			nb := p.notBefore(r.Timezone)
			args = append(args, issueID, r.SubscriberID, r.Email, nb, nb, now, now)
		}
		if n == rowsPerInsert && full == nil {
			if full, err = tx.PrepareContext(ctx, insertRowsSQL(n)); err != nil {
				return fmt.Errorf("deliver: create outbox rows: %w", err)
			}
			defer full.Close()
		}
		if n == rowsPerInsert {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertRowsSQL(n), args...)
		}
		if err != nil {
			return fmt.Errorf("deliver: create outbox rows for subscribers %d to %d: %w", rs[0].SubscriberID, rs[n-1].SubscriberID, err)
		}
		rs = rs[n:]
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("deliver: create outbox rows: %w", err)
	}
	return nil
}

// summary counts the rows of an issue by state (a read: it writes nothing).
func (e *Engine) summary(ctx context.Context, issueID int64) (Summary, error) {
	t, err := countOutbox(ctx, e.db, issueID)
	s := Summary{IssueID: issueID, Total: t.Total, Sent: t.Sent, Failed: t.Failed, Retry: t.Retry, Skipped: t.Skipped, Pending: t.Pending}
	if err != nil {
		return s, err
	}
	var next sql.NullInt64
	if err := e.db.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM deliveries WHERE issue_id = ? AND state IN ('pending','retry')`, issueID).Scan(&next); err != nil {
		return s, err
	}
	if next.Valid {
		s.NextAt = store.Time(next.Int64)
		if now := e.now(); s.NextAt.Before(now) { // due already
			s.NextAt = now.UTC().Truncate(time.Second)
		}
	}
	s.Done = s.Remaining() == 0
	return s, nil
}

// markFinished records that no row of the issue is left to send, with the
// issue's final counts (which the history reads from then on).
func (e *Engine) markFinished(ctx context.Context, issueID int64) error {
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("deliver: mark issue %d finished: %w", issueID, err)
	}
	defer tx.Rollback()
	now := e.now().Unix()
	res, err := tx.ExecContext(ctx, `UPDATE delivery_jobs SET finished_at = ? WHERE issue_id = ? AND finished_at = 0`, now, issueID)
	if err != nil {
		return fmt.Errorf("deliver: mark issue %d finished: %w", issueID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // marked already
	}
	t, err := countOutbox(ctx, tx, issueID)
	if err != nil {
		return err
	}
	if err := storeTotals(ctx, tx, issueID, now, t, OutcomeCounts{}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("deliver: mark issue %d finished: %w", issueID, err)
	}
	return nil
}

// Status returns the outbox counts of an issue without sending anything;
// it only reads.
func (e *Engine) Status(ctx context.Context, issueID int64) (Summary, error) {
	t, _, ok, err := storedTotals(ctx, e.db, issueID)
	if err != nil {
		return Summary{}, err
	}
	if ok && !t.Folded.IsZero() {
		return Summary{IssueID: issueID, Total: t.Total, Sent: t.Sent, Failed: t.Failed, Retry: t.Retry,
			Skipped: t.Skipped, Pending: t.Pending, Done: true, Folded: t.Folded}, nil
	}
	return e.summary(ctx, issueID)
}

// Unfinished lists the issues whose outbox still has pending or retry rows
// (or whose outbox creation was interrupted): the daemon calls Send for each
// at start-up to resume after a crash.
func (e *Engine) Unfinished(ctx context.Context) ([]int64, error) { return Unfinished(ctx, e.db) }

// Unfinished is Engine.Unfinished on a database of its own (-vacuum).
func Unfinished(ctx context.Context, db *sql.DB) ([]int64, error) {
	ids, err := store.IDs(ctx, db, `SELECT issue_id FROM delivery_jobs WHERE finished_at = 0 ORDER BY issue_id`)
	if err != nil {
		return nil, fmt.Errorf("deliver: list unfinished: %w", err)
	}
	return ids, nil
}

// RequeueFailed puts an issue's failed rows back to pending ("resend to
// failed only"). Rows rejected with a 5xx on RCPT (bounces) are left alone
// unless includeBounces is set. It returns the number of rows requeued.
func (e *Engine) RequeueFailed(ctx context.Context, issueID int64, includeBounces bool) (int, error) {
	q := `UPDATE deliveries SET state = 'pending', next_attempt_at = 0, retry_until_at = 0, updated_at = ?
		WHERE issue_id = ? AND state = 'failed'`
	if !includeBounces {
		q += ` AND NOT (smtp_code >= 500 AND last_error LIKE 'RCPT%')`
	}
	// The rows of a folded issue are being deleted, or gone: left alone.
	q += ` AND NOT EXISTS (SELECT 1 FROM delivery_totals WHERE issue_id = deliveries.issue_id AND folded_at <> 0)`
	// The rows and the job reopen together, so retention never sees the
	// send finished with rows pending.
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("deliver: requeue failed: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, q, e.now().Unix(), issueID)
	if err != nil {
		return 0, fmt.Errorf("deliver: requeue failed: %w", err)
	}
	n, _ := res.RowsAffected()
	if n == 0 {
		return 0, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE delivery_jobs SET finished_at = 0 WHERE issue_id = ?`, issueID); err != nil {
		return 0, fmt.Errorf("deliver: requeue failed: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("deliver: requeue failed: %w", err)
	}
	return int(n), nil
}

// dueRow is an outbox row ready to be sent.
type dueRow struct {
	sid        int64
	attempts   int
	retryUntil int64
}

// task is one message handed to a worker.
type task struct {
	issueID   int64
	rcpt      Recipient
	row       dueRow
	buf       *msgBuf // rendered message (kept across reconnects; pooled)
	msgID     string
	from      string
	connFails int
}

// result is one row transition, written by the recorder.
type result struct {
	issueID, sid int64
	state        string
	attempts     int
	code         int
	text, errMsg string
	relay, msgID string
	next, until  int64
	sentAt       int64
	ack          chan error
	task         bool // a worker's task: mark it done once recorded
}

// run is the state of one pass.
type run struct {
	e        *Engine
	job      Job
	ctx      context.Context
	tasks    chan *task
	refill   chan struct{} // tells the dispatcher that tasks is half empty
	orphans  chan *task    // tasks whose connection failed, for any worker to take
	results  chan result
	inflight sync.WaitGroup
	allDone  chan struct{}
	global   *rate.Limiter
	counters *counters
	waiting  atomic.Int32  // workers waiting for an outcome to be recorded
	quorum   int           // waiting workers that make the recorder commit
	wake     chan struct{} // tells the recorder that a quorum is waiting
	fatal    error
	fatalMu  sync.Mutex
	cancel   context.CancelFunc
}

func (r *run) setFatal(err error) {
	r.fatalMu.Lock()
	if r.fatal == nil {
		r.fatal = err
	}
	r.fatalMu.Unlock()
	r.cancel()
}

// pass sends every row due now, then returns.
func (e *Engine) pass(parent context.Context, job Job, c *counters) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	nworkers := 0
	for _, rl := range e.relays {
		nworkers += rl.workers
	}
	r := &run{e: e, job: job, ctx: ctx, cancel: cancel, counters: c,
		tasks:   make(chan *task, 4*nworkers), // see send
		refill:  make(chan struct{}, 1),
		orphans: make(chan *task, nworkers+1),
		results: make(chan result, 2*nworkers),
		allDone: make(chan struct{}),
		wake:    make(chan struct{}, 1),
	}
	if e.cfg.RatePerSec > 0 {
		r.global = rate.NewLimiter(rate.Limit(e.cfg.RatePerSec), 1)
	}
	r.quorum = max(1, nworkers/2)
	recDone := make(chan struct{})
	go func() { r.record(); close(recDone) }()
	var workers sync.WaitGroup
	for _, rl := range e.relays {
		for i := 0; i < rl.workers; i++ {
			workers.Add(1)
			go func() { defer workers.Done(); r.work(rl) }()
		}
	}
	derr := r.dispatch()
	close(r.tasks)
	go func() { r.inflight.Wait(); close(r.allDone) }()
	workers.Wait()
	for t := range r.tasks { // left when the send stopped: their rows stay due
		r.drop(t)
	}
	for len(r.orphans) > 0 {
		r.drop(<-r.orphans)
	}
	close(r.results)
	<-recDone
	if r.fatal != nil {
		return r.fatal
	}
	if derr != nil && parent.Err() == nil {
		return derr
	}
	return nil
}

// dispatch walks the due rows in subscriber order, pairs them with the
// current recipient data and hands them to the workers.
func (r *run) dispatch() error {
	e, job := r.e, r.job
	var after int64
	for {
		if r.ctx.Err() != nil {
			return r.ctx.Err()
		}
		rows, err := e.dueRows(r.ctx, job.IssueID, after, e.BatchSize)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		rs, err := job.Recipients(r.ctx, rows[0].sid-1, e.BatchSize)
		if err != nil {
			return fmt.Errorf("deliver: list recipients: %w", err)
		}
		covered := int64(math.MaxInt64)
		if len(rs) >= e.BatchSize {
			covered = rs[len(rs)-1].SubscriberID
		}
		byID := make(map[int64]Recipient, len(rs))
		for _, x := range rs {
			byID[x.SubscriberID] = x
		}
		for _, row := range rows {
			if row.sid > covered {
				break
			}
			after = row.sid
			rc, ok := byID[row.sid]
			if !ok {
				// Unsubscribed (or unconfirmed) since the outbox was made.
				r.results <- result{issueID: job.IssueID, sid: row.sid, state: StateSkipped, attempts: row.attempts, errMsg: "no longer a confirmed subscriber"}
				continue
			}
			t := &task{issueID: job.IssueID, rcpt: rc, row: row}
			r.inflight.Add(1)
			if err := r.send(t); err != nil {
				r.inflight.Done()
				return err
			}
		}
	}
}

// send hands a task to the workers. When tasks is full it waits until a
// worker finds it half empty, then fills it again: blocked on a full
// channel, the dispatcher would be woken for every task a worker takes,
// a goroutine switch per message.
func (r *run) send(t *task) error {
	for {
		select {
		case r.tasks <- t:
			return nil
		default:
		}
		select {
		case <-r.refill: // maybe left from before it was full: try again
		case <-r.ctx.Done():
			return r.ctx.Err()
		}
	}
}

func (e *Engine) dueRows(ctx context.Context, issueID, after int64, limit int) ([]dueRow, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT subscriber_id, attempts, retry_until_at FROM deliveries
		WHERE issue_id = ? AND subscriber_id > ? AND +state IN ('pending','retry') AND +next_attempt_at <= ?
		ORDER BY subscriber_id LIMIT ?`, issueID, after, e.now().Unix(), limit)
	if err != nil {
		return nil, fmt.Errorf("deliver: read outbox: %w", err)
	}
	defer rows.Close()
	var out []dueRow
	for rows.Next() {
		var d dueRow
		if err := rows.Scan(&d.sid, &d.attempts, &d.retryUntil); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// record writes row transitions in batches and acknowledges each to its
// worker once it is durable: a worker completes its next message only
// after the previous one is recorded, so at most one message per worker
// can be sent but unrecorded when the process dies.
//
// Group commit: a batch is whatever arrived until half the workers wait
// for an outcome (a worker goes on with its next message's envelope
// meanwhile, and the others keep the server busy while it waits),
// maxLinger passed since its first outcome, or maxBatch outcomes are
// there; one UPDATE writes 32 rows. A commit has a fixed cost about that
// of eight rows, so a few outcomes per commit halve the recorder's work.
//
// The WAL is checkpointed beside the recorder, in the background, every
// checkpointEvery batches: left to SQLite, the automatic checkpoint (at
// 1000 pages) runs inside a commit and every worker waits for it.
func (r *run) record() {
	const maxBatch = 256
	batch := make([]result, 0, maxBatch)
	var ckpt sync.WaitGroup
	var ckptRunning atomic.Bool
	defer ckpt.Wait()
	linger := time.NewTimer(maxLinger)
	defer linger.Stop()
	w, err := r.e.newOutcomeWriter()
	if err != nil {
		r.e.log.Error("deliver: cannot record results; stopping", "err", err)
		r.setFatal(err)
		for x := range r.results { // nothing more is sent; the rows stay due
			if x.ack != nil {
				x.ack <- err
			}
			if x.task {
				r.inflight.Done()
			}
		}
		return
	}
	defer w.close()
	sinceCkpt := 0
	for {
		first, ok := <-r.results
		if !ok {
			return
		}
		if sinceCkpt++; sinceCkpt >= checkpointEvery && !r.e.ExternalCheckpoints && ckptRunning.CompareAndSwap(false, true) {
			sinceCkpt = 0
			ckpt.Add(1)
			go func() {
				defer ckpt.Done()
				defer ckptRunning.Store(false)
				if _, err := r.e.db.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
					r.e.log.Warn("deliver: WAL checkpoint", "err", err)
				}
			}()
		}
		batch = append(batch[:0], first)
		batch = r.drain(batch, maxBatch)
		// Gather more while too few workers wait, woken when the last of
		// a quorum starts to (not for each outcome, nor each waiting
		// worker: every wake-up is a switch of goroutines).
		deadline := time.Now().Add(maxLinger)
		for int(r.waiting.Load()) < r.quorum && len(batch) < maxBatch {
			d := time.Until(deadline)
			if d <= 0 {
				break
			}
			linger.Reset(d)
			select {
			case <-r.wake:
			case <-linger.C:
			}
			batch = r.drain(batch, maxBatch)
		}
		err := w.write(batch)
		if err != nil {
			r.e.log.Error("deliver: cannot record results; stopping", "err", err)
			r.setFatal(err)
		} else {
			for _, x := range batch {
				r.counters.add(x.state)
			}
		}
		for _, x := range batch {
			if x.ack != nil {
				x.ack <- err
			}
			if x.task {
				r.inflight.Done()
			}
		}
	}
}

// drain adds the outcomes that are there, up to max.
func (r *run) drain(batch []result, max int) []result {
	for len(batch) < max {
		select {
		case x, ok := <-r.results:
			if !ok {
				return batch
			}
			batch = append(batch, x)
		default:
			return batch
		}
	}
	return batch
}

// maxLinger is how long the recorder gathers outcomes, from the first of
// a batch, while fewer than a quorum of workers wait for theirs: long
// enough for a few more to come, short enough that an outcome is usually
// durable before its worker's next message needs it.
const maxLinger = 500 * time.Microsecond

// checkpointEvery is how many outcome batches go by between background
// WAL checkpoints (a batch writes two or three pages; SQLite's automatic
// checkpoint comes at 1000).
const checkpointEvery = 100

// maxRowsPerUpdate is how many outcomes one UPDATE statement records.
const maxRowsPerUpdate = 32

// sentRowsSQL records n messages of one issue sent through one relay on
// their first try (see sentPlainly), the values joined to the rows by
// subscriber id.
func sentRowsSQL(n int) string {
	return `UPDATE deliveries SET state = 'sent', attempts = v.column2, smtp_code = 250, smtp_text = v.column3,
		last_error = '', relay = ?, message_id = v.column4, next_attempt_at = 0, retry_until_at = 0, sent_at = v.column5, updated_at = ?
		FROM ` + valuesByRow(n, 5)
}

// updateRowsSQL records n outcomes of one issue in one statement, the
// values joined to the rows by subscriber id.
func updateRowsSQL(n int) string {
	return `UPDATE deliveries SET state = v.column2, attempts = v.column3, smtp_code = v.column4, smtp_text = v.column5,
		last_error = v.column6, relay = CASE WHEN v.column7 = '' THEN deliveries.relay ELSE v.column7 END,
		message_id = CASE WHEN v.column8 = '' THEN deliveries.message_id ELSE v.column8 END,
		next_attempt_at = v.column9, retry_until_at = v.column10, sent_at = v.column11, updated_at = v.column12
		FROM ` + valuesByRow(n, 12)
}

// valuesByRow is the end of an UPDATE ... FROM of n rows of an issue: a
// VALUES list of n rows of cols parameters each (the subscriber id first)
// joined to the rows, then the issue id's parameter.
func valuesByRow(n, cols int) string {
	return "(VALUES " + valueRows(n, "(?"+strings.Repeat(", ?", cols-1)+")") +
		") AS v WHERE deliveries.issue_id = ? AND deliveries.subscriber_id = v.column1"
}

// outcomeWriter records outcomes on a connection of its own for the
// whole pass, so that the connection's page cache stays valid from one
// commit to the next (a pooled connection that another one wrote behind
// reloads it), with a statement per kind and number of rows prepared on
// it once.
type outcomeWriter struct {
	e           *Engine
	conn        *sql.Conn
	stmts       map[stmtKey]*sql.Stmt
	args        []any
	sent, other []result
}

func (e *Engine) newOutcomeWriter() (*outcomeWriter, error) {
	conn, err := e.db.Conn(context.Background())
	if err != nil {
		return nil, fmt.Errorf("deliver: connection for outcomes: %w", err)
	}
	return &outcomeWriter{e: e, conn: conn, stmts: map[stmtKey]*sql.Stmt{}}, nil
}

// stmtKey names a prepared statement of an outcomeWriter: which statement
// (sentRowsSQL or updateRowsSQL) for how many rows.
type stmtKey struct {
	sent bool
	n    int
}

func (w *outcomeWriter) close() {
	for _, st := range w.stmts {
		st.Close()
	}
	w.conn.Close()
}

// write records a batch of outcomes: up to maxRowsPerUpdate rows per
// UPDATE statement, each in autocommit mode (no BEGIN and COMMIT round
// trips; the statement's rows change together or not at all). Messages
// sent on their first try, nearly all of them, go by a statement that
// binds only what differs per row.
func (w *outcomeWriter) write(batch []result) error {
	sent, other := w.sent[:0], w.other[:0]
	for _, x := range batch {
		if sentPlainly(x) {
			sent = append(sent, x)
		} else {
			other = append(other, x)
		}
	}
	w.sent, w.other = sent, other
	now := w.e.now().Unix()
	sameIssue := func(a, b result) bool { return a.issueID == b.issueID }
	sameRelay := func(a, b result) bool { return a.issueID == b.issueID && a.relay == b.relay }
	err := w.exec(sent, sameRelay, true, sentRowsSQL,
		func(args []any, x result) []any { return append(args, x.relay, now) },
		func(args []any, x result) []any { return append(args, x.sid, x.attempts, x.text, x.msgID, x.sentAt) },
		func(args []any, x result) []any { return append(args, x.issueID) })
	if err != nil {
		return err
	}
	return w.exec(other, sameIssue, false, updateRowsSQL,
		func(args []any, x result) []any { return args },
		func(args []any, x result) []any {
			return append(args, x.sid, x.state, x.attempts, x.code, x.text, x.errMsg, x.relay, x.msgID, x.next, x.until, x.sentAt, now)
		},
		func(args []any, x result) []any { return append(args, x.issueID) })
}

// sentPlainly reports an outcome sentRowsSQL records as it is.
func sentPlainly(x result) bool {
	return x.state == StateSent && x.code == 250 && x.errMsg == "" && x.next == 0 && x.until == 0 && x.relay != "" && x.msgID != ""
}

// exec writes rows in statements of up to maxRowsPerUpdate rows that
// together says may share one; sql makes the statement for n rows (once
// for each n: it is prepared and kept under sent and n), whose parameters
// are head's, each row's, then tail's.
func (w *outcomeWriter) exec(rows []result, together func(a, b result) bool, sent bool, sql func(n int) string,
	head, row, tail func([]any, result) []any) error {
	ctx := context.Background() // recording must finish even when the send is being stopped
	for len(rows) > 0 {
		n := 1
		for n < len(rows) && n < maxRowsPerUpdate && together(rows[n], rows[0]) {
			n++
		}
		key := stmtKey{sent, n}
		st := w.stmts[key]
		if st == nil {
			var err error
			if st, err = w.conn.PrepareContext(ctx, sql(n)); err != nil {
				return err
			}
			w.stmts[key] = st
		}
		args := head(w.args[:0], rows[0])
		for _, x := range rows[:n] {
			args = row(args, x)
		}
		args = tail(args, rows[0])
		w.args = args
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return err
		}
		w.e.commits.Add(1)
		rows = rows[n:]
	}
	return nil
}

// counters are the live counts of one Send call.
type counters struct {
	mu                           sync.Mutex
	sent, failed, retry, skipped int
}

func (c *counters) add(state string) {
	c.mu.Lock()
	switch state {
	case StateSent:
		c.sent++
	case StateFailed:
		c.failed++
	case StateRetry:
		c.retry++
	case StateSkipped:
		c.skipped++
	}
	c.mu.Unlock()
}

func (c *counters) now() (sent, failed int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent, c.failed
}

// startProgress calls e.Progress periodically until the returned func is called.
func (e *Engine) startProgress(issueID int64, start time.Time, c *counters) func() {
	stop := make(chan struct{})
	done := make(chan struct{})
	base, _ := e.summary(context.Background(), issueID)
	go func() {
		defer close(done)
		t := time.NewTicker(e.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			c.mu.Lock()
			s := base
			s.SentNow, s.FailedNow = c.sent, c.failed
			s.Sent += c.sent
			s.Failed += c.failed
			s.Skipped += c.skipped
			s.Pending -= c.sent + c.failed + c.skipped + c.retry
			s.Retry += c.retry
			c.mu.Unlock()
			if s.Pending < 0 { // rows that were in retry at the start
				s.Retry += s.Pending
				s.Pending = 0
			}
			s.Elapsed = e.now().Sub(start)
			if s.Elapsed > 0 {
				s.Rate = float64(s.SentNow) / s.Elapsed.Seconds()
			}
			s.RateLimit = e.cfg.RatePerSec
			e.Progress(s)
		}
	}()
	return func() { close(stop); <-done }
}
