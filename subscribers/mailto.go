package subscribers

import (
	"context"
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
// There is no inbox reader in the daemon: feed messages to it from the
// MTA, e.g. a Postfix alias `unsubscribe: "|hpdigest -config /etc/hpdigest.toml -unsubscribe-mail"`.
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
	reason := "mailto"
	// A spam complaint forwarded by a mailbox provider (ARF, RFC 5965)
	// carries the original message, whose List-Unsubscribe holds the token.
	if mt, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type")); mt == "multipart/report" && params["report-type"] == "feedback-report" {
		reason = "complaint (feedback report)"
	}
	candidates := append(tokenRe.FindAllString(subject, 5), tokenRe.FindAllString(string(body), 20)...)
	for _, c := range candidates {
		claims, err := t.Check(c, PurposeUnsubscribe)
		if err != nil {
			continue
		}
		sub, err := s.Get(ctx, claims.SubscriberID)
		if err != nil {
			continue
		}
		if err := s.Unsubscribe(ctx, sub.ID, reason); err != nil {
			return sub, err
		}
		return s.Get(ctx, sub.ID)
	}
	return Subscriber{}, fmt.Errorf("unsubscribe mail from %q: %w: no valid unsubscribe token", msg.Header.Get("From"), ErrInvalidToken)
}

// CLIUnsubscribeMail reads one message (an MTA pipe on stdin) and
// unsubscribes the reader whose token it holds (-unsubscribe-mail).
func (s *Store) CLIUnsubscribeMail(ctx context.Context, w io.Writer, t *Tokens, r io.Reader) error {
	sub, err := s.UnsubscribeByMail(ctx, t, r)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "unsubscribed %s (by mail)\n", sub.Email)
	return nil
}
