// Package subscribers owns the readers: their address, name, language and
// theme choices, their status (pending, confirmed, unsubscribed, bounced),
// signed tokens for confirm / preferences / unsubscribe links, and CSV
// import/export. Tables: subscribers, subscriber_events.
package subscribers

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"time"

	"github.com/haiphong/hpdigest/store"
)

var errTODO = errors.New("subscribers: not implemented yet")

// Status of a subscriber.
const (
	Pending      = "pending"
	Confirmed    = "confirmed"
	Unsubscribed = "unsubscribed"
	Bounced      = "bounced"
)

// Subscriber is one reader.
type Subscriber struct {
	ID        int64
	Email     string // normalised (domain lower-cased, IDN to ASCII)
	Name      string
	Language  string   // "vi" | "en"
	Themes    []string // theme keys they chose; empty means all
	Status    string
	Timezone  string // IANA name; "" means the config default
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Migrations returns the schema of the subscribers tables.
func Migrations() store.Migration {
	return store.Migration{Component: "subscribers", Steps: []string{}}
}

// Store reads and writes subscribers.
type Store struct{ db *sql.DB }

// NewStore wraps an open database (migrations already applied).
func NewStore(db *sql.DB) *Store { return &Store{db: db} }

// Add inserts a subscriber (validating the address); an existing address is
// an error wrapping ErrExists.
func (s *Store) Add(ctx context.Context, sub Subscriber) (Subscriber, error) { return sub, errTODO }

// ErrExists is returned by Add for an address already on the list.
var ErrExists = errors.New("subscriber already exists")

// ErrNotFound is returned for an unknown subscriber.
var ErrNotFound = errors.New("subscriber not found")

// Get returns one subscriber by id.
func (s *Store) Get(ctx context.Context, id int64) (Subscriber, error) {
	return Subscriber{}, errTODO
}

// ByEmail returns one subscriber by address.
func (s *Store) ByEmail(ctx context.Context, email string) (Subscriber, error) {
	return Subscriber{}, errTODO
}

// List returns subscribers, optionally only those with a status ("" = all).
func (s *Store) List(ctx context.Context, status string) ([]Subscriber, error) { return nil, errTODO }

// Remove deletes a subscriber and their data (right to be forgotten).
func (s *Store) Remove(ctx context.Context, email string) error { return errTODO }

// ConfirmedAfter returns up to limit confirmed subscribers with id > afterID,
// in id order: the delivery engine streams recipients with it.
func (s *Store) ConfirmedAfter(ctx context.Context, afterID int64, limit int) ([]Subscriber, error) {
	return nil, errTODO
}

// Unsubscribe marks a subscriber unsubscribed (idempotent).
func (s *Store) Unsubscribe(ctx context.Context, id int64, reason string) error { return errTODO }

// RecordBounce counts a permanent failure; past the configured count the
// subscriber becomes Bounced and is never mailed again.
func (s *Store) RecordBounce(ctx context.Context, id int64, reason string) error { return errTODO }

// ImportReport says what an import did, line by line for problems.
type ImportReport struct {
	Added, Updated, Skipped int
	Problems                []LineError
}

// LineError is one rejected CSV line.
type LineError struct {
	Line int
	Err  error
}

// ImportCSV reads "email,name,language,themes" rows (header optional; themes
// separated by spaces or semicolons). Invalid rows are reported with their
// line number; every valid row is kept. Unsubscribed and bounced addresses
// are never resurrected. Imported subscribers are confirmed.
func (s *Store) ImportCSV(ctx context.Context, r io.Reader) (ImportReport, error) {
	return ImportReport{}, errTODO
}

// ExportCSV writes every subscriber as CSV with a header row.
func (s *Store) ExportCSV(ctx context.Context, w io.Writer) error { return errTODO }
