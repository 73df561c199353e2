package subscribers

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"regexp"
)

// tokenRe finds a token in free text (subject line or body).
var tokenRe = regexp.MustCompile(`[A-Za-z0-9_-]{1,32}\.[0-9a-z]{1,13}\.[0-9a-z]{1,13}\.[A-Za-z0-9_-]{22}`)

// maxUnsubscribeMail bounds how much of a message is read.
const maxUnsubscribeMail = 256 << 10

// FindTokens returns the strings of text shaped like a token (at most
// 20), for a caller that verifies them with Tokens.Check: the inbound mail
// classifier looks for unsubscribe tokens with it. Percent-escapes are
// undone first, so the token of "subject=unsubscribe%20TOKEN" in a mailto:
// URL is found whole.
func FindTokens(text string) []string {
	return tokenRe.FindAllString(percentRe.ReplaceAllStringFunc(text, unescapePercent), 20)
}

var percentRe = regexp.MustCompile(`%[0-9A-Fa-f]{2}`)

func unescapePercent(s string) string {
	b, err := hex.DecodeString(s[1:])
	if err != nil {
		return s
	}
	return string(b)
}

// UnsubscribeByMail handles one message sent to the List-Unsubscribe mailto:
// address (whose subject the digest sets to "unsubscribe <token>"). The
// first valid unsubscribe token found in the subject, or else in the body,
// unsubscribes its subscriber; the sender's address does not matter (the
// token is the proof, and forwarding services rewrite From). It returns
// the subscriber, or an error wrapping ErrInvalidToken when the message
// holds no valid token.
//
// Spam complaints in the Abuse Reporting Format sent to the same address
// work too (the original message inside carries the token) and are
// recorded as complaints.
//
// The daemon's own way in is the inbound mail classifier
// (digest/deliver/inbound), which tells bounces, auto-replies, complaints
// and unsubscribe requests apart and calls UnsubscribeByToken; this reads
// a message that is known to be a request or a complaint.
func (s *Store) UnsubscribeByMail(ctx context.Context, t *Tokens, r io.Reader) (Subscriber, error) {
	msg, err := mail.ReadMessage(io.LimitReader(r, maxUnsubscribeMail))
	if err != nil {
		return Subscriber{}, fmt.Errorf("unsubscribe mail: %w", err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		subject = msg.Header.Get("Subject")
	}
	body, _ := io.ReadAll(msg.Body)
	reason := ReasonMailto
	// A spam complaint forwarded by a mailbox provider (ARF, RFC 5965)
	// carries the original message, whose List-Unsubscribe holds the token.
	if mt, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type")); mt == "multipart/report" && params["report-type"] == "feedback-report" {
		reason = ReasonComplaint
	}
	candidates := append(FindTokens(subject), FindTokens(string(body))...)
	sub, err := s.UnsubscribeByToken(ctx, t, candidates, reason)
	if errors.Is(err, ErrInvalidToken) {
		return sub, fmt.Errorf("unsubscribe mail from %q: %w", msg.Header.Get("From"), err)
	}
	return sub, err
}

// Reasons recorded on the unsubscribe event of a mail.
const (
	ReasonMailto    = "mailto"
	ReasonComplaint = "complaint (feedback report)"
)

// UnsubscribeByToken unsubscribes the reader of the first valid
// unsubscribe token among candidates (in order), recording reason on the
// event, and returns the reader as it is now. A token that does not
// verify, or whose reader no longer exists, is skipped; when none is left
// the error wraps ErrInvalidToken. Other errors come from the database.
func (s *Store) UnsubscribeByToken(ctx context.Context, t *Tokens, candidates []string, reason string) (Subscriber, error) {
	for _, c := range candidates {
		claims, err := t.Check(c, PurposeUnsubscribe)
		if err != nil {
			continue
		}
		sub, err := s.Get(ctx, claims.SubscriberID)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return Subscriber{}, err
		}
		if err := s.Unsubscribe(ctx, sub.ID, reason); err != nil {
			return sub, err
		}
		return s.Get(ctx, sub.ID)
	}
	return Subscriber{}, fmt.Errorf("%w: no valid unsubscribe token", ErrInvalidToken)
}
