package app_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/haiphong/hpdigest/app"
	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/feeds"
	"github.com/haiphong/hpdigest/internal/smtptest"
)

// stopDuringReload is a part of the daemon whose reload sees the daemon
// begin to stop (SIGTERM right after SIGHUP), then fails with the stop's
// error or not.
type stopDuringReload struct {
	stop func()
	fail bool
}

func (p stopDuringReload) PrepareReload(ctx context.Context, _ *config.Config) (func() error, error) {
	p.stop()
	if p.fail {
		return nil, ctx.Err()
	}
	return func() error { return nil }, nil
}

// A stop that comes while a reload is being checked is no error: the
// reload is logged at INFO as not done. One that comes once it is being
// applied lets it finish, feeds table included, so that no half-applied
// configuration is left behind.
func TestStopDuringReload(t *testing.T) {
	for _, fail := range []bool{false, true} {
		dir := t.TempDir()
		s := newSim(t, dir, smtptest.Start(t), &mailbox{}, newPortal("cong", "wvr", "slow", "flash"), func(s *sim) string { return soakTOML(s, phase{}) })
		defer s.close()
		file := filepath.Join(dir, "hpdigest.toml")
		if err := os.WriteFile(file, []byte(soakTOML(s, phase{})), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		logs := &syncBuffer{}
		a, err := app.New(context.Background(), cfg, app.Options{Log: slog.New(slog.NewTextHandler(logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		more := soakTOML(s, phase{}) + "\n[[feeds]]\nname = \"Added\"\nurl = \"http://feeds.test/added.rss\"\nlanguage = \"en\"\n"
		if err := os.WriteFile(file, []byte(more), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(context.Background())
		a.OnReload(stopDuringReload{stop: stop, fail: fail})
		err = a.Reload(ctx)
		log := logs.String()
		if strings.Contains(log, "level=ERROR") {
			t.Errorf("fail=%v: a stop during a reload logged an error:\n%s", fail, log)
		}
		health, herr := a.Feeds.Health(context.Background())
		if herr != nil {
			t.Fatal(herr)
		}
		added := slices.ContainsFunc(health, func(h feeds.FeedHealth) bool { return h.Name == "Added" })
		if fail {
			if !errors.Is(err, context.Canceled) || !strings.Contains(log, "the daemon is stopping") || added {
				t.Errorf("a reload cut short by the stop: err %v, feed added %v, log:\n%s", err, added, log)
			}
			continue
		}
		if err != nil || !strings.Contains(log, "configuration reloaded") || !added {
			t.Errorf("a reload the stop came during: err %v, feed added %v, log:\n%s", err, added, log)
		}
	}
}
