package main

import (
	"context"
	"sync"
	"time"
)

// benchRun is what a run measured, the loops' shares merged.
type benchRun struct {
	plan        *benchPlan
	connectTime time.Duration // from the first dial until every socket had opened or failed
	connected   int
	begun       bool // sending started (not when interrupted while connecting, or when no socket opened)
	interrupted bool
	elapsed     time.Duration // from the start of sending to its end

	benchTally
}

// runBench runs the plan: it makes the sockets over the loops,
// round-robin, no more than plan.dialers connecting at once; when every
// one has opened or failed it has them send for plan.duration; then they
// close, and it merges what each loop measured. ctx's end (SIGINT) cuts
// the run short: the sockets close as at the deadline, and what was
// measured so far is reported. It runs on the caller's goroutine, which
// alone draws the progress.
func runBench(ctx context.Context, plan *benchPlan, prog progress) *benchRun {
	run := &benchRun{plan: plan}
	slots := make(chan struct{}, plan.dialers)
	var dials sync.WaitGroup
	// outcome runs on a loop's goroutine, once for each socket made.
	outcome := func() {
		<-slots
		dials.Done()
	}
	loops := make([]*benchLoop, plan.loops)
	var running sync.WaitGroup
	for i := range loops {
		lp := newBenchLoop(plan, outcome)
		loops[i] = lp
		running.Add(1)
		go func() {
			defer running.Done()
			// RunContext, not Run: the loop has nothing to do until its
			// first socket is posted, and it stops itself (maybeDone)
			// once its sockets are all closed.
			lp.loop.RunContext(context.Background())
		}()
	}
	loopsDone := make(chan struct{})
	go func() {
		running.Wait()
		close(loopsDone)
	}()

	ticker := time.NewTicker(progressTick)
	defer ticker.Stop()
	settled := func() (n int) {
		for _, lp := range loops {
			n += int(lp.live.settled.Load())
		}
		return n
	}
	stopped := false
	stopAll := func() {
		if !stopped {
			stopped = true
			for _, lp := range loops {
				lp.loop.Post(lp.stop)
			}
		}
	}

	// Connect, a few at a time.
	connectStart := time.Now()
	made := 0
create:
	for made < plan.sockets {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			run.interrupted = true
			break create
		case <-ticker.C:
			prog.connecting(settled(), plan.sockets)
			continue
		}
		dials.Add(1)
		lp := loops[made%len(loops)]
		lp.loop.Post(lp.create)
		made++
	}
	for i, lp := range loops {
		// Posted after its last create, so the count is final.
		n := made / len(loops)
		if i < made%len(loops) {
			n++
		}
		lp.loop.Post(func() { lp.setAssigned(n) })
	}
	allSettled := make(chan struct{})
	go func() {
		dials.Wait()
		close(allSettled)
	}()
	if run.interrupted {
		stopAll()
	}
	interrupt := ctx.Done()
wait:
	for {
		select {
		case <-allSettled:
			break wait
		case <-interrupt:
			interrupt = nil
			run.interrupted = true
			stopAll()
		case <-ticker.C:
			prog.connecting(settled(), plan.sockets)
		}
	}
	run.connectTime = time.Since(connectStart)
	for _, lp := range loops {
		run.connected += int(lp.connect.n) // settled: no loop writes it any more
	}

	// Send until the deadline, or an interruption.
	var start time.Time
	if !run.interrupted && run.connected > 0 {
		run.begun = true
		start = time.Now()
		deadline := start.Add(plan.duration)
		for _, lp := range loops {
			lp.loop.Post(func() { lp.begin(deadline) })
		}
	} else {
		stopAll() // nothing to send: close what opened
	}
	var lastEchoed int64
	lastTick := time.Now()
	for {
		select {
		case <-loopsDone:
			prog.done()
			return run.merge(loops, start)
		case <-interrupt:
			interrupt = nil
			run.interrupted = true
			stopAll()
		case now := <-ticker.C:
			if !run.begun {
				continue
			}
			var echoed, errs int64
			for _, lp := range loops {
				echoed += lp.live.echoed.Load()
				errs += lp.live.errors.Load()
			}
			perSec := float64(echoed-lastEchoed) / now.Sub(lastTick).Seconds()
			lastEchoed, lastTick = echoed, now
			prog.running(now.Sub(start), plan.duration, perSec, errs)
		}
	}
}

// merge adds up the loops' shares, once they have all returned.
func (run *benchRun) merge(loops []*benchLoop, start time.Time) *benchRun {
	for _, lp := range loops {
		run.add(&lp.benchTally)
		if run.begun && lp.stopAt.Sub(start) > run.elapsed {
			run.elapsed = lp.stopAt.Sub(start)
		}
	}
	return run
}
