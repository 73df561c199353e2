package subscribers

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Plus-addresses (and Gmail's dotted forms) of one mailbox share one
// confirmation slot: the form cannot be used to flood one inbox with
// official mail by varying the tag.
func TestConfirmationsPerMailboxNotPerAddress(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	c := &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	s.SetClock(c.now)
	sends := 0
	for _, addr := range []string{"victim@example.org", "victim+1@example.org", "Victim+prize@example.org", "victim+2@EXAMPLE.org"} {
		res, err := s.Subscribe(ctx, SubscribeRequest{Email: addr})
		if err != nil {
			t.Fatal(err)
		}
		if res.SendConfirmation {
			sends++
		}
	}
	if sends != 1 {
		t.Errorf("%d confirmation mails to one mailbox within the hour, want 1", sends)
	}
	gmail := 0
	for _, addr := range []string{"an.nguyen@gmail.com", "annguyen@gmail.com", "a.n.nguyen+x@googlemail.com"} {
		if res, _ := s.Subscribe(ctx, SubscribeRequest{Email: addr}); res.SendConfirmation {
			gmail++
		}
	}
	if gmail != 1 {
		t.Errorf("%d confirmation mails to one Gmail mailbox, want 1", gmail)
	}
	// Another mailbox is not held back.
	if res, _ := s.Subscribe(ctx, SubscribeRequest{Email: "other@example.org"}); !res.SendConfirmation {
		t.Error("a different mailbox got no confirmation")
	}
	// A failed send gives the slot back at once; after the interval the
	// mailbox may get one again.
	res, _ := s.Subscribe(ctx, SubscribeRequest{Email: "failing@example.org"})
	if err := s.ConfirmationSent(ctx, res.Subscriber.ID, errors.New("relay down")); err != nil {
		t.Fatal(err)
	}
	if res, _ := s.Subscribe(ctx, SubscribeRequest{Email: "failing+again@example.org"}); !res.SendConfirmation {
		t.Error("the slot of a failed confirmation was not given back")
	}
	c.advance(61 * time.Minute)
	if res, _ := s.Subscribe(ctx, SubscribeRequest{Email: "victim+3@example.org"}); !res.SendConfirmation {
		t.Error("no confirmation after the interval")
	}
}

func TestMailbox(t *testing.T) {
	for in, want := range map[string]string{
		"User+tag@Example.ORG":       "user@example.org",
		"a.b@example.org":            "a.b@example.org",
		"A.B+x@gmail.com":            "ab@gmail.com",
		"ab@googlemail.com":          "ab@gmail.com",
		"+only@example.org":          "+only@example.org",
		"first.last+a+b@example.org": "first.last@example.org",
	} {
		if got := Mailbox(in); got != want {
			t.Errorf("Mailbox(%q) = %q, want %q", in, got, want)
		}
	}
}
