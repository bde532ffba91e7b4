package websocket

import (
	"context"
	"fmt"
	"os"
	"sync"
)

// The background loop is where sockets made by Dial live when their Config
// names no loop: one loop for the whole process, on a goroutine of its own
// that runs while the loop has sockets, timers or tasks and ends when it
// has none, so that a program which closed its sockets leaves no goroutine
// and no descriptor behind. The next Dial starts it again.

var (
	backgroundOnce sync.Once
	background     *EventLoop
)

func backgroundLoop() *EventLoop {
	backgroundOnce.Do(func() { background = &EventLoop{background: true} })
	return background
}

// startLocked starts the goroutine of a background loop that nobody
// runs; l.mu is held by the caller, which has just given the loop work. A
// blocking call running the loop (lend.go) does that work itself.
func (l *EventLoop) startLocked() {
	if l.background && !l.bgActive && !l.running.Load() {
		l.bgActive = true
		go l.runBackground()
	}
}

func (l *EventLoop) runBackground() {
	// The goroutine that has just ended, or a blocking call running the
	// loop, may not have let go of it yet.
	for !l.acquire() {
		l.mu.Lock()
		if l.running.Load() {
			if l.free == nil {
				l.free = make(chan struct{})
			}
			free := l.free
			l.mu.Unlock()
			<-free
			continue
		}
		l.mu.Unlock()
	}
	if err := l.turns(context.Background(), false, l.lendable); err != nil {
		// Only the poller can fail a turn, and it does not in practice;
		// the next Dial or Post starts the loop again.
		fmt.Fprintf(os.Stderr, "websocket: background loop: %v\n", err)
		l.mu.Lock()
		l.failed = true
		l.mu.Unlock()
	}
	l.releaseRun(true)
}
