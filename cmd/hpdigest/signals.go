package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/haiphong/hpdigest/app"
)

// onHangup keeps SIGHUP from stopping the daemon (also under nohup, which
// would have it ignored silently): each one asks the app to reload its
// configuration, and the answer is logged. stop ends the handling.
func onHangup(ctx context.Context, a *app.App) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case <-hup:
				if err := a.Reload(ctx); err != nil {
					a.Log.Warn("SIGHUP received: the configuration was not reloaded; the daemon keeps running with the one read at start", "reason", err)
				} else {
					a.Log.Info("SIGHUP received: configuration reloaded")
				}
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(quit)
		<-done
	}
}
