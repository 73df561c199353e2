package app

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/haiphong/hpdigest/internal/clock"
)

// job is one of the daemon's schedules. robfig/cron parses the spec; the
// daemon's own loop (below) waits for each next time on the App's clock,
// so that tests can run weeks of schedules on a simulated one.
type job struct {
	name string
	spec string // cron spec, with CRON_TZ= for the digest's zone
	run  func(ctx context.Context, tick time.Time)
	// exclusive jobs skip a tick while their previous run is still going
	// (logged at debug). Sends are not exclusive here: the send gate
	// decides, and records the skip for staff.
	exclusive bool
}

type scheduledJob struct {
	job
	sched cron.Schedule
	busy  chan struct{}
}

func parseJobs(jobs []job) ([]scheduledJob, error) {
	out := make([]scheduledJob, 0, len(jobs))
	for _, j := range jobs {
		s, err := cron.ParseStandard(j.spec)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", j.name, err)
		}
		out = append(out, scheduledJob{job: j, sched: s, busy: make(chan struct{}, 1)})
	}
	return out, nil
}

// runSchedules starts one loop per job; each tick's run gets its own
// goroutine (counted in wg) so that a long send never delays another
// schedule. Ticks missed while the process was not running are not
// replayed.
func (a *App) runSchedules(ctx context.Context, wg *sync.WaitGroup, jobs []scheduledJob) {
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := j.sched.Next(a.clock.Now())
			a.Log.Debug("scheduled", "job", j.name, "next", next)
			for {
				if err := clock.Sleep(ctx, a.clock, next.Sub(a.clock.Now())); err != nil {
					return
				}
				tick := next
				if now := a.clock.Now(); now.After(tick) {
					next = j.sched.Next(now)
				} else {
					next = j.sched.Next(tick)
				}
				if j.exclusive {
					select {
					case j.busy <- struct{}{}:
					default:
						a.Log.Debug("previous run still going; tick skipped", "job", j.name, "tick", tick)
						continue
					}
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					if j.exclusive {
						defer func() { <-j.busy }()
					}
					j.run(ctx, tick)
				}()
			}
		}()
	}
}
