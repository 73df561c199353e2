package staff

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/subscribers"
	"github.com/haiphong/hpdigest/templates"
)

// builtIn is the staff catalogue shipped in the binary.
var builtIn = func() *templates.Catalog {
	c, err := templates.LoadCatalog(templates.Embedded(), catalogFile)
	if err != nil {
		panic(err)
	}
	return c
}()

var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

// tr is message key as the pages show it with the built-in catalogue and
// the default digest name. args fill the other parameters in the order they
// appear in the message; a parameter without a value is left as %s, where
// tests cut a message to match its fixed start.
func tr(lang, key string, args ...any) string {
	s := strings.ReplaceAll(builtIn.Msg(lang, key), "{digest}", digest.DefaultTitle(lang))
	return placeholder.ReplaceAllStringFunc(s, func(string) string {
		if len(args) == 0 {
			return "%s"
		}
		v := fmt.Sprint(args[0])
		args = args[1:]
		return v
	})
}

// Every action the audit log records and every event of a reader's history
// is shown in words in both languages, not as the code's name for it.
func TestRecordedActionsHaveWords(t *testing.T) {
	actions := []string{"include", "exclude", "move up", "move down"} // chosen in code, not written in the call
	files, _ := filepath.Glob("*.go")
	auditRE := regexp.MustCompile(`h\.audit\([^,]+, [^,]+, "([^"]+)",`) // "move "+dir is listed above
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range auditRE.FindAllStringSubmatch(string(src), -1) {
			actions = append(actions, m[1])
		}
	}
	if len(actions) < 15 {
		t.Fatalf("found only %d actions: the scan is broken", len(actions))
	}
	events := []string{subscribers.EventSubscribed, subscribers.EventConfirmationSent, subscribers.EventConfirmed,
		subscribers.EventChanged, subscribers.EventPaused, subscribers.EventResumed, subscribers.EventUnsubscribed,
		subscribers.EventBounce, subscribers.EventBounced, subscribers.EventResubscribe, subscribers.EventComplained,
		subscribers.EventSoftBounce}
	for group, keys := range map[string][]string{"audit": actions, "event": events} {
		for _, k := range keys {
			key := group + "." + strings.ReplaceAll(k, " ", "_")
			if !builtIn.Has(key) {
				t.Errorf("%q has no words: add %s to %s", k, key, catalogFile)
			}
		}
	}
}
