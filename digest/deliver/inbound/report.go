// Package inbound understands the mail that comes back to the list: delivery
// status notifications (RFC 3464 and the common non-standard bounce texts),
// spam complaints (ARF, RFC 5965), auto-replies (RFC 3834 and vacation
// texts) and mailto unsubscribe requests. Parse turns one message into a
// Report; a Handler acts on it. Mail comes in three ways, all feeding the
// same Processor: a built-in SMTP listener (Listener), an IMAP mailbox
// polled on a schedule (Poller), and one message on standard input from an
// MTA pipe (Processor.Pipe).
//
// The package reads and classifies; it keeps no state of its own and never
// touches the tables of the delivery engine or the subscribers: recording
// what a report means is the Handler's job.
package inbound

// Kind is what an inbound message is, as far as the list is concerned.
type Kind string

const (
	// KindBounce: a delivery failed for at least one recipient (see
	// Recipient.Class for hard or soft).
	KindBounce Kind = "bounce"
	// KindDelay: a warning that delivery is delayed; the MTA still tries.
	KindDelay Kind = "delay"
	// KindComplaint: a spam complaint (feedback report) from a mailbox
	// provider.
	KindComplaint Kind = "complaint"
	// KindAutoReply: a vacation / out-of-office / other automatic answer.
	// Ignored: never counted as a bounce.
	KindAutoReply Kind = "auto-reply"
	// KindUnsubscribe: a mail to the List-Unsubscribe mailto: address,
	// carrying one or more candidate tokens.
	KindUnsubscribe Kind = "unsubscribe"
	// KindOther: anything else (a human reply, a success notification, a
	// not-spam or authentication-failure report): nothing to do.
	KindOther Kind = "other"
)

// Class says how a recipient's delivery ended.
type Class string

const (
	// Hard: a permanent failure (5.x.x) that says the address is bad.
	Hard Class = "hard"
	// Soft: a failure that may go away: any 4.x.x, and a full mailbox
	// (5.2.2 or a quota text), which common practice counts as soft
	// although its status class is 5.
	Soft Class = "soft"
	// Delayed: the MTA has not given up yet (Action: delayed).
	Delayed Class = "delayed"
	// Delivered: delivered, relayed or expanded: not a failure.
	Delivered Class = "delivered"
)

// Recipient is the outcome for one recipient of the original message.
type Recipient struct {
	Address         string // the final recipient, as reported
	OriginalAddress string // Original-Recipient, when reported
	Action          string // failed, delayed, delivered, relayed, expanded (lower case); "failed" for text bounces
	Status          string // enhanced status code, "5.1.1"; "" when none could be found
	Class           Class
	Diagnostic      string // the remote server's words ("smtp; 550 5.1.1 user unknown")
	ReportingMTA    string // the MTA that wrote the report
	RemoteMTA       string // the MTA that refused, when reported
}

// Complaint is the machine-readable part of a feedback report.
type Complaint struct {
	FeedbackType     string   // abuse, fraud, virus, other (lower case)
	UserAgent        string   // the reporting system ("Yahoo!-Mail-Feedback/2.0")
	OriginalRcptTo   []string // the complaining recipients, when not redacted
	OriginalMailFrom string
	ArrivalDate      string
	SourceIP         string
	ReportedDomain   string
	ReportingMTA     string // the provider's MTA that wrote the report, when given
}

// Report is what one inbound message means.
type Report struct {
	Kind Kind
	// Reason says why the message was classified so: "RFC 3464 delivery
	// status", "qmail-style bounce text", "Auto-Submitted: auto-replied".
	Reason string

	// EnvelopeFrom and EnvelopeTo are the SMTP envelope of the inbound
	// message when known (listener, MTA pipe); EnvelopeTo falls back to
	// the Delivered-To, X-Original-To, Envelope-To and To headers.
	EnvelopeFrom string
	EnvelopeTo   string
	// VERPToken is the tag of the bounce address the message arrived for
	// ("TOKEN" in bounces+TOKEN@domain), else of the Return-Path of a
	// returned original that was delivered (a complaint's); "" when there
	// is none. It is not verified here.
	VERPToken string

	// MessageID is the Message-ID of the original message the report is
	// about (from the returned message or headers), with angle brackets.
	MessageID string
	// ListUnsubscribe is the List-Unsubscribe header of the original
	// message, when it was returned.
	ListUnsubscribe string
	// Tokens are the strings shaped like an unsubscribe token found in the
	// subject, the text, the returned headers (List-Unsubscribe) and the
	// returned message, in that order, without duplicates. They are
	// candidates: the handler verifies their signatures.
	Tokens []string

	// The inbound message itself.
	InboundMessageID string // its own Message-ID: a handler can use it to ignore a message seen before
	Fingerprint      string // a hash of its bytes, for one without a Message-ID
	From             string
	Subject          string

	ReportingMTA string
	Recipients   []Recipient
	Complaint    *Complaint // set for KindComplaint
}
