package app

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/haiphong/hpdigest/internal/clock"
)

// job is one of the daemon's schedules. robfig/cron parses the spec; the
// daemon's own loop (below) waits for each next time on the App's clock,
// so that tests can run weeks of schedules on a simulated one.
type job struct {
	name string // also its identity across reloads
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
}

func parseJobs(jobs []job) ([]scheduledJob, error) {
	out := make([]scheduledJob, 0, len(jobs))
	for _, j := range jobs {
		s, err := cron.ParseStandard(j.spec)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", j.name, err)
		}
		out = append(out, scheduledJob{job: j, sched: s})
	}
	return out, nil
}

// scheduler runs one loop per job and replaces the set of jobs when the
// configuration changes (see apply). Each tick's run gets its own
// goroutine under the daemon's context, counted in wg: a loop that ends
// (its job removed or rescheduled) never interrupts a run in progress, so
// a send started by the old schedule finishes. Ticks missed while the
// process was not running are not replayed.
type scheduler struct {
	a   *App
	ctx context.Context // the daemon's: the runs use it
	wg  *sync.WaitGroup

	mu    sync.Mutex
	loops map[string]*loop // by job name
	// busy marks the exclusive jobs running now, by name; it outlives
	// their loops, so a job rescheduled by a reload does not start while
	// the run of its old schedule is still going.
	busy map[string]bool
}

type loop struct {
	spec string
	stop context.CancelFunc
}

func newScheduler(ctx context.Context, a *App, wg *sync.WaitGroup) *scheduler {
	return &scheduler{a: a, ctx: ctx, wg: wg, loops: map[string]*loop{}, busy: map[string]bool{}}
}

// scheduleChange is one job started, stopped or given a new spec by apply.
type scheduleChange struct {
	Job      string
	Old, New string    // specs; "" for a job added or removed
	Next     time.Time // the job's next run (zero for one removed)
}

// apply makes the running loops those of jobs: a job whose spec is
// unchanged keeps its loop, one with a new spec or a new name gets a new
// loop, and the loops of jobs no longer listed end.
func (s *scheduler) apply(jobs []scheduledJob) []scheduleChange {
	s.mu.Lock()
	defer s.mu.Unlock()
	var changes []scheduleChange
	want := map[string]bool{}
	now := s.a.clock.Now()
	for _, j := range jobs {
		want[j.name] = true
		old, ok := s.loops[j.name]
		if ok && old.spec == j.spec {
			continue
		}
		c := scheduleChange{Job: j.name, New: j.spec, Next: j.sched.Next(now)}
		if ok {
			c.Old = old.spec
			old.stop()
		}
		changes = append(changes, c)
		s.start(j)
	}
	for name, l := range s.loops {
		if !want[name] {
			l.stop()
			delete(s.loops, name)
			changes = append(changes, scheduleChange{Job: name, Old: l.spec})
		}
	}
	sort.Slice(changes, func(i, k int) bool { return changes[i].Job < changes[k].Job })
	return changes
}

// start runs j's loop until the daemon stops or apply replaces it; s.mu
// is held.
func (s *scheduler) start(j scheduledJob) {
	ctx, stop := context.WithCancel(s.ctx)
	s.loops[j.name] = &loop{spec: j.spec, stop: stop}
	a := s.a
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
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
			if j.exclusive && !s.claim(j.name) {
				a.Log.Debug("previous run still going; tick skipped", "job", j.name, "tick", tick)
				continue
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				if j.exclusive {
					defer s.release(j.name)
				}
				j.run(s.ctx, tick)
			}()
		}
	}()
}

func (s *scheduler) claim(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy[name] {
		return false
	}
	s.busy[name] = true
	return true
}

func (s *scheduler) release(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.busy, name)
}
