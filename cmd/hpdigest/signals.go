package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/haiphong/hpdigest/app"
)

// onHangup keeps SIGHUP from stopping the daemon (also under nohup, which
// would have it ignored silently): each one makes the app read its
// configuration file again and apply it (app.Reload logs what changed, or
// why the file was rejected). stop ends the handling.
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
				a.Log.Info("SIGHUP received: reading the configuration again", "file", a.Cfg().File())
				_ = a.Reload(ctx) // logged there: what changed, or why the file was rejected
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(quit)
		<-done
	}
}
