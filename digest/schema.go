// Package digest owns the issues of each digest: which items are placed in
// which issue and section, the staff's edits, and the life cycle
// (draft → approved → sending → sent). It also keeps the theme
// classification of every item, and the staff's decisions about items'
// themes as labels to measure and improve the rules with. Tables:
// item_themes, issues, issue_items, item_labels, skipped_sends, and for
// stories (see stories.go) item_signals, story_decisions, issue_versions.
//
// An item is "new" for a digest when it was published inside the digest's
// window and no sent issue of that digest holds it: ingestion, placement in
// an issue and delivery are three separate states, so a failed fetch or a
// re-run never mails old news again.
package digest

import "github.com/haiphong/hpdigest/store"

// Why an item of an issue is excluded (IssueItem.ExcludedBy).
const (
	ExcludedByLimit  = "limit"  // over max_per_section: offered again in the next issue
	ExcludedByStaff  = "staff"  // a curator's choice: never offered again
	ExcludedByUpdate = "update" // a correction of a story already mailed
)

// Issue states.
const (
	StatusDraft    = "draft"
	StatusApproved = "approved"
	StatusSending  = "sending"
	StatusSent     = "sent"
)

// Migrations returns the schema of the digest tables.
func Migrations() store.Migration {
	return store.Migration{Component: "digest", Steps: []string{
		`CREATE TABLE item_themes (
			item_id       INTEGER PRIMARY KEY,
			themes        TEXT NOT NULL,   -- matched theme keys, comma-separated, "" = other
			primary_theme TEXT NOT NULL,   -- highest-scoring theme or "other"
			explanation   TEXT NOT NULL,
			classified_at INTEGER NOT NULL
		);
		CREATE TABLE issues (
			id              INTEGER PRIMARY KEY,
			digest          TEXT NOT NULL,
			number          INTEGER NOT NULL,
			status          TEXT NOT NULL DEFAULT 'draft',
			period_start_at INTEGER NOT NULL,
			period_end_at   INTEGER NOT NULL,
			created_at      INTEGER NOT NULL,
			updated_at      INTEGER NOT NULL,
			approved_at     INTEGER NOT NULL DEFAULT 0,
			approved_by     TEXT NOT NULL DEFAULT '',
			scheduled_at    INTEGER NOT NULL DEFAULT 0, -- 0 = at the digest's next scheduled send
			sending_at      INTEGER NOT NULL DEFAULT 0,
			sent_at         INTEGER NOT NULL DEFAULT 0,
			note_vi         TEXT NOT NULL DEFAULT '',
			note_en         TEXT NOT NULL DEFAULT '',
			version         INTEGER NOT NULL DEFAULT 1, -- bumped by every edit: optimistic locking
			UNIQUE (digest, number)
		);
		CREATE INDEX issues_digest_status ON issues (digest, status);
		CREATE TABLE issue_items (
			issue_id   INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
			item_id    INTEGER NOT NULL,
			theme      TEXT NOT NULL,
			position   INTEGER NOT NULL,
			included   INTEGER NOT NULL DEFAULT 1,
			title_vi   TEXT NOT NULL DEFAULT '',
			title_en   TEXT NOT NULL DEFAULT '',
			summary_vi TEXT NOT NULL DEFAULT '',
			summary_en TEXT NOT NULL DEFAULT '',
			PRIMARY KEY (issue_id, item_id)
		);
		CREATE INDEX issue_items_item ON issue_items (item_id);`,
		// Every include, exclude, move and add by staff: the item's theme as
		// staff decided it (see Labels).
		`CREATE TABLE item_labels (
			id         INTEGER PRIMARY KEY,
			item_id    INTEGER NOT NULL,
			issue_id   INTEGER NOT NULL,
			action     TEXT NOT NULL,            -- include, exclude, move, add
			theme      TEXT NOT NULL,            -- the item's section after the action
			from_theme TEXT NOT NULL DEFAULT '', -- a move's section before
			at         INTEGER NOT NULL
		);
		CREATE INDEX item_labels_item ON item_labels (item_id, id);`,
		// Why an item is excluded, where it was carried over from, which
		// mailed story it updates; and the scheduled sends that were skipped.
		`ALTER TABLE issue_items ADD COLUMN excluded_by TEXT NOT NULL DEFAULT ''; -- '' | 'limit' | 'staff' | 'update'
		ALTER TABLE issue_items ADD COLUMN carried_from INTEGER NOT NULL DEFAULT 0; -- number of the issue it was left out of
		ALTER TABLE issue_items ADD COLUMN update_of INTEGER NOT NULL DEFAULT 0;    -- item id of the mailed story it updates
		ALTER TABLE issue_items ADD COLUMN update_in INTEGER NOT NULL DEFAULT 0;    -- number of the issue that mailed it
		ALTER TABLE issue_items ADD COLUMN sent_title TEXT NOT NULL DEFAULT '';     -- the item's title and summary as mailed
		ALTER TABLE issue_items ADD COLUMN sent_summary TEXT NOT NULL DEFAULT '';
		CREATE TABLE skipped_sends (
			id           INTEGER PRIMARY KEY,
			digest       TEXT NOT NULL,
			tick_at      INTEGER NOT NULL, -- the scheduled time that was skipped
			issue_number INTEGER NOT NULL DEFAULT 0, -- the issue whose send was running
			reason       TEXT NOT NULL,
			created_at   INTEGER NOT NULL
		);
		CREATE INDEX skipped_sends_digest ON skipped_sends (digest, tick_at);`,
		// Stories: the signals of each item for same-story detection, the
		// staff's decisions about pairs of items, and the other versions of
		// each story placed in an issue (an issue item is the story's entry;
		// items never paired stay one-version stories).
		`CREATE TABLE item_signals (
			item_id INTEGER PRIMARY KEY,
			version TEXT NOT NULL, -- the detector's PreparedVersion when prepared
			data    BLOB NOT NULL
		);
		CREATE TABLE story_decisions (
			item_a     INTEGER NOT NULL, -- item_a < item_b
			item_b     INTEGER NOT NULL,
			same       INTEGER NOT NULL, -- 1: one story (confirmed, merged); 0: never one story (split, kept apart)
			decided_by TEXT NOT NULL,
			decided_at INTEGER NOT NULL,
			PRIMARY KEY (item_a, item_b)
		);
		CREATE TABLE issue_versions (
			issue_id     INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
			item_id      INTEGER NOT NULL,            -- the version
			lead_id      INTEGER NOT NULL,            -- the issue item (the story's entry) it belongs to
			how          TEXT NOT NULL,               -- 'rules' | 'text' | 'staff'
			reason       TEXT NOT NULL DEFAULT '',    -- the pairing decision's explanation
			score        REAL NOT NULL DEFAULT 0,
			confirmed_by TEXT NOT NULL DEFAULT '',
			PRIMARY KEY (issue_id, item_id)
		);
		CREATE INDEX issue_versions_lead ON issue_versions (issue_id, lead_id);
		CREATE INDEX issue_versions_item ON issue_versions (item_id);`,
	}}
}
