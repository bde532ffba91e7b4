package websocket

import (
	"container/heap"
	"time"
)

// Timer is a callback scheduled on a loop by SetTimeout or SetInterval.
type Timer struct {
	l      *EventLoop
	fn     func()
	when   time.Time
	period time.Duration // > 0 for SetInterval
	index  int           // position in the loop's heap; -1 when not scheduled
	user   bool          // the program's (SetTimeout, SetInterval); see protect
}

// SetTimeout runs fn once on the loop's goroutine after d (at once, in the
// loop's next turn, when d <= 0), like JavaScript's setTimeout. A pending
// timer keeps the loop alive. It is safe from any goroutine.
func (l *EventLoop) SetTimeout(fn func(), d time.Duration) *Timer {
	return l.schedule(fn, d, 0, true)
}

// timeout is SetTimeout for the library's own timers.
func (l *EventLoop) timeout(fn func(), d time.Duration) *Timer {
	return l.schedule(fn, d, 0, false)
}

// SetInterval runs fn on the loop's goroutine every d until the returned
// Timer is stopped, like JavaScript's setInterval. d is at least one
// millisecond, as in browsers, so that an interval cannot spin the loop. An
// interval keeps the loop alive until it is stopped.
func (l *EventLoop) SetInterval(fn func(), d time.Duration) *Timer {
	d = max(d, time.Millisecond)
	return l.schedule(fn, d, d, true)
}

func (l *EventLoop) schedule(fn func(), d, period time.Duration, user bool) *Timer {
	t := &Timer{l: l, fn: fn, when: time.Now().Add(max(d, 0)), period: period, index: -1, user: user}
	l.mu.Lock()
	heap.Push(&l.timers, t)
	l.startLocked()
	p := l.poller
	l.mu.Unlock()
	if p != nil {
		p.Wake()
	}
	return t
}

// Stop cancels the timer, like clearTimeout and clearInterval. It reports
// whether the timer was still pending; a timeout whose callback already ran
// is not. It is safe from any goroutine, including from the timer's own
// callback. A loop waiting for the stopped timer wakes, so that Run returns
// at once when that timer was all it had left.
func (t *Timer) Stop() bool {
	l := t.l
	l.mu.Lock()
	if t.index < 0 {
		t.period = 0 // an interval stopped from its own callback is not rescheduled
		l.mu.Unlock()
		return false
	}
	first := t.index == 0
	heap.Remove(&l.timers, t.index)
	p := l.poller
	l.mu.Unlock()
	// Only the first timer sets the loop's wait; one that waits (parked)
	// must recompute it. A loop running callbacks does so anyway.
	if first && p != nil && l.parked.Load() {
		p.Wake()
	}
	return true
}

// runTimers runs the timers that are due and returns how long the loop may
// wait for the next one (-1: no timer).
func (l *EventLoop) runTimers() time.Duration {
	now := time.Now()
	for {
		l.mu.Lock()
		if len(l.timers) == 0 {
			l.mu.Unlock()
			return -1
		}
		t := l.timers[0]
		if wait := t.when.Sub(now); wait > 0 {
			l.mu.Unlock()
			return wait
		}
		heap.Pop(&l.timers)
		l.mu.Unlock()

		l.protect(t.fn, t.user)
		l.flushDirty()

		l.mu.Lock()
		if t.period > 0 && t.index < 0 {
			// Catch up without bursts when the loop fell behind.
			t.when = t.when.Add(t.period)
			if t.when.Before(now) {
				t.when = now.Add(t.period)
			}
			heap.Push(&l.timers, t)
		}
		l.mu.Unlock()
	}
}

// timerHeap orders timers by due time; it implements heap.Interface.
type timerHeap []*Timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].when.Before(h[j].when) }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*Timer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}
