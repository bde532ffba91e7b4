package websocket

import (
	"context"
	"time"
)

// A blocking call that waits on a socket of the background loop runs the
// loop itself when nobody else does, instead of sleeping until the
// background goroutine hands it the result: a round trip is then one
// goroutine waking once, as in a goroutine-per-connection library, not
// two goroutines handing it over twice (docs/PERFORMANCE.md, issue 10).
//
// Who runs the background loop:
//   - the background goroutine, while nobody waits, or several calls do,
//     or the loop has a socket whose handlers alone take what it receives
//     (a server's, from Upgrader.Handler): those must not wait for a call;
//   - a blocking call (await) that found it run by nobody, until its
//     wait is over;
//   - nobody, between the calls of a program that waits on one socket at
//     a time: the goroutine left the loop to that call (lendable), or the
//     call's run ended. The guard then looks every lendTick whether a call
//     ran the loop since its last look, and starts the background
//     goroutine when none did. Work that comes in between (a ping to
//     answer, a timer, a send from a goroutine that does not wait next)
//     waits for the next call, or two ticks at most.

// lendTick is how often the guard looks; see above.
const lendTick = 500 * time.Microsecond

// lending is the background loop's state for the blocking calls that run
// it; l.mu guards it.
type lending struct {
	blocked int           // calls waiting on a socket of the loop while another goroutine runs it
	lendCh  chan struct{} // closed when the loop is left to them; made by one of them
	epoch   uint32        // times the loop was left to the calls so far
	seen    uint32        // epoch at the guard's last look
	guard   *time.Timer
	guardOn bool
	failed  bool // the background goroutine ended on an error: the next Dial or Post starts it
	// handled counts the loop's sockets that have no inbox (those of
	// Upgrader.Handler): only their handlers take what they receive, so
	// the loop is never left to nobody while it has one.
	handled int
}

// lendable is the background goroutine's until: it leaves the loop to the
// blocking call that waits, when exactly one does, nothing is queued and
// every socket of the loop keeps what it receives for blocking calls. With
// more calls waiting, or a socket served by handlers alone, the goroutine
// goes on running the loop for all of them.
func (l *EventLoop) lendable() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.blocked == 1 && !l.keepsGoroutineLocked() && len(l.dirty) == 0
}

// keepsGoroutineLocked reports what keeps the background loop with its
// goroutine whatever the blocking calls do: a socket served by handlers
// alone, or queued tasks; l.mu is held.
func (l *EventLoop) keepsGoroutineLocked() bool {
	return l.handled > 0 || len(l.tasks) > 0
}

// handOnLocked decides, when a run of the background loop has ended, who
// runs it next; l.mu is held.
func (l *EventLoop) handOnLocked() {
	if l.failed {
		l.failed = false
		return
	}
	if l.bgActive || !l.aliveLocked() {
		return // the goroutine waits to run it, or nothing is left
	}
	if l.blocked > 1 || l.keepsGoroutineLocked() {
		l.startLocked()
		return
	}
	l.epoch++
	if l.lendCh != nil {
		close(l.lendCh) // the one waiting call runs it
		l.lendCh = nil
	}
	if !l.guardOn {
		l.guardOn = true
		l.seen = l.epoch
		if l.guard == nil {
			l.guard = time.AfterFunc(lendTick, l.guardTick)
		} else {
			l.guard.Reset(lendTick)
		}
	}
}

// guardTick is the guard's look; see above.
func (l *EventLoop) guardTick() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.epoch != l.seen {
		l.seen = l.epoch
		l.guard.Reset(lendTick)
		return
	}
	// No call has ended a run for a whole tick. If one is running the
	// loop now, startLocked leaves it, and the run's end arms the guard
	// again.
	l.guardOn = false
	if l.aliveLocked() {
		l.startLocked()
	}
}

// ensureRun starts the background goroutine when nobody runs the
// background loop, for a wait that does not run the loop itself (a writer
// waiting for room in the backlog).
func (l *EventLoop) ensureRun() {
	if !l.background || l.running.Load() {
		return
	}
	l.mu.Lock()
	l.startLocked()
	l.mu.Unlock()
}

// tryDrive takes the background loop for a blocking call, when nobody
// runs it and its goroutine is not about to.
func (l *EventLoop) tryDrive() bool {
	if !l.background || l.running.Load() {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.bgActive && l.acquireLocked()
}

// drive runs the background loop, taken by tryDrive, until ready (called
// with ws.mu held) reports true or ctx ends.
func (l *EventLoop) drive(ctx context.Context, ws *WebSocket, ready func() bool) error {
	err := l.turns(ctx, false, func() bool {
		ws.mu.Lock()
		defer ws.mu.Unlock()
		return ready()
	})
	l.releaseRun(false)
	return err
}

// block counts a blocking call that is about to wait while another
// goroutine runs the loop, and returns the channel closed when the loop is
// left to it; ok is false when the loop is free to take after all.
func (l *EventLoop) block() (lend chan struct{}, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.bgActive && !l.running.Load() {
		return nil, false
	}
	l.blocked++
	if l.lendCh == nil {
		l.lendCh = make(chan struct{})
	}
	return l.lendCh, true
}

func (l *EventLoop) unblock() {
	l.mu.Lock()
	l.blocked--
	l.mu.Unlock()
}
