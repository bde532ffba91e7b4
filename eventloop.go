package websocket

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/wsloop/websocket/internal/poll"
	"github.com/wsloop/websocket/internal/protocol"
)

// ErrLoopRunning is returned by Run and RunContext when the loop is
// already running on another goroutine (a loop has exactly one goroutine
// at a time; the background loop runs itself), and by a blocking call
// (Dial, a receive that would wait) made on the goroutine of the loop it
// would wait for.
var ErrLoopRunning = errors.New("websocket: event loop is already running")

// EventLoop runs callbacks one at a time on the goroutine that calls Run,
// like a browser tab or Node: event handlers, posted tasks and timers never
// run concurrently with each other, so user code on the loop needs no locks.
// One loop multiplexes any number of sockets; a program that outgrows one
// core runs one loop per core, each Run on its own goroutine, and spreads
// its sockets across them (Config.Loop), as examples/multicore does. Loops
// share nothing, so only state shared across loops needs a lock.
//
// Post, SetTimeout, SetInterval, Timer.Stop and Stop are safe from any
// goroutine. Everything else a callback touches should be touched only on
// the loop's goroutine (or before Run starts).
type EventLoop struct {
	// OnPanic, when set, is called on the loop's goroutine with the value
	// and stack of a panic in a callback. Like a browser reporting an
	// exception in an event handler, the loop then goes on with the next
	// callback: one faulty handler does not take every other socket down.
	// When nil, the panic is printed to standard error. Set it before Run.
	OnPanic func(v any, stack []byte)

	poller  poll.Poller
	running atomic.Bool
	stop    atomic.Bool
	runner  atomic.Uint64 // goroutine running the loop's callbacks; 0 before its first (noteRunner)
	// parked is set while the loop waits in its poller (and just before),
	// so that a send from another goroutine wakes it only then; see
	// markDirty.
	parked   atomic.Bool
	hasDirty atomic.Bool // dirty is not empty

	// background marks the loop of dialed sockets (see backgroundLoop): it
	// runs on a goroutine of its own while it has work, never on the
	// program's.
	background bool

	mu         sync.Mutex
	free       chan struct{} // closed when the current run ends; made by a goroutine that waits for it
	tasks      []task
	spare      []task
	timers     timerHeap
	sockets    map[uint64]*WebSocket // not released yet, by ID (registry.go)
	dirty      []*WebSocket          // sockets with output to hand to the kernel
	dirtySpare []*WebSocket
	lowSpare   []bool        // flushBatch's, kept for the next
	kaHeap     []*WebSocket  // sockets with keepalive, by due; loop-only (keepalive.go)
	deflates   []*negotiated // permessage-deflate settlements shared by sockets; loop-only (compression.go)
	flatePool  protocol.FlatePool
	bgActive   bool // a background loop's goroutine is running or starting
	lending         // blocking calls that run the background loop themselves (lend.go)
}

var (
	defaultLoopOnce sync.Once
	defaultLoop     *EventLoop
)

// DefaultLoop returns the loop used by sockets whose Config names none, and
// run by the package-level Run.
func DefaultLoop() *EventLoop {
	defaultLoopOnce.Do(func() { defaultLoop = NewEventLoop() })
	return defaultLoop
}

// Run runs the default loop; see EventLoop.Run.
func Run() error { return DefaultLoop().Run() }

// NewEventLoop returns a loop that is not running yet. A loop holds no
// operating-system resource until it runs, and gives its poller back each
// time a Run ends with nothing left, so a finished loop can simply be
// dropped.
func NewEventLoop() *EventLoop {
	return &EventLoop{}
}

// wake interrupts the poller's wait, if the loop has one.
func (l *EventLoop) wake() {
	l.mu.Lock()
	p := l.poller
	l.mu.Unlock()
	if p != nil {
		p.Wake()
	}
}

// Run runs callbacks on the calling goroutine until no socket, timer or
// task is left, or until Stop is called. It returns ErrLoopRunning if the
// loop is already running elsewhere. After Stop, Run may be called again:
// sockets and timers are kept.
//
// Run returns as soon as nothing is left, even at its start: a program
// whose sockets are made later, by Post from other goroutines, uses
// RunContext instead.
func (l *EventLoop) Run() error {
	return l.run(context.Background(), false)
}

// RunContext runs callbacks on the calling goroutine, as Run, but does not
// return when nothing is left: it waits for work until ctx is done (it
// then returns ctx's error) or Stop is called (it then returns nil). This
// is the loop of a long-running program, such as a server that makes
// sockets when asked, from other goroutines, with Post. It returns
// ErrLoopRunning if the loop is already running elsewhere.
func (l *EventLoop) RunContext(ctx context.Context) error {
	return l.run(ctx, true)
}

// Stop makes the running Run return after the callback in progress, or,
// when the loop is not running, the next Run return at once. It is safe
// from any goroutine, including one that handles signals.
func (l *EventLoop) Stop() {
	l.stop.Store(true)
	l.wake()
}

// Post queues fn to run on the loop's goroutine, after the callbacks already
// queued. It is safe from any goroutine; a queued task keeps the loop alive.
func (l *EventLoop) Post(fn func()) { l.post(fn, true) }

// task is a queued callback; user marks the program's own (Post): see
// protect.
type task struct {
	fn   func()
	user bool
}

func (l *EventLoop) post(fn func(), user bool) {
	l.mu.Lock()
	l.tasks = append(l.tasks, task{fn, user})
	l.startLocked()
	p := l.poller
	l.mu.Unlock()
	if p != nil {
		p.Wake()
	}
}

// run runs the loop on the calling goroutine; forever keeps it running
// with nothing left, until ctx ends or Stop.
func (l *EventLoop) run(ctx context.Context, forever bool) error {
	if l.background {
		return ErrLoopRunning // it runs itself
	}
	if !l.acquire() {
		return ErrLoopRunning
	}
	defer l.releaseRun(false)
	return l.turns(ctx, forever, nil)
}

// onLoop reports whether the calling goroutine is the one running the
// loop's callbacks: a blocking call made there would wait for the loop it
// stops. A loop that is not running, waits in its poller, or has run no
// callback since its runner took it (runner 0: see noteRunner) is not
// running the caller: those cases, the common ones for a blocking call,
// skip goroutineID, which costs microseconds.
func (l *EventLoop) onLoop() bool {
	r := l.runner.Load()
	return r != 0 && !l.parked.Load() && r == goroutineID()
}

// noteRunner records the goroutine running the loop before it calls the
// program's code (a handler, a posted task, a timer, an Upgrader's
// function): only from there can a blocking call come on the loop's
// goroutine. A run records it once, when the first such call comes: the
// background loop mostly runs none (its sockets' messages go to inboxes),
// and until it does, the blocking calls of other goroutines skip
// goroutineID (onLoop).
func (l *EventLoop) noteRunner() {
	if l.runner.Load() == 0 {
		l.runner.Store(goroutineID())
	}
}

// acquire makes the calling goroutine the loop's runner.
func (l *EventLoop) acquire() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.acquireLocked()
}

func (l *EventLoop) acquireLocked() bool {
	if l.running.Load() {
		return false
	}
	l.running.Store(true)
	if l.poller == nil {
		p, err := poll.New()
		if err != nil {
			// poll.New fails only when the system refuses a readiness
			// API; the portable poller needs nothing from it.
			p = poll.NewPortable()
		}
		l.poller = p
	}
	return true
}

// releaseRun ends a run; bg is set when the run was the background
// goroutine's, which then ends.
func (l *EventLoop) releaseRun(bg bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.runner.Store(0)
	l.running.Store(false)
	if l.free != nil {
		close(l.free)
		l.free = nil
	}
	if bg {
		l.bgActive = false
	}
	if l.background {
		l.handOnLocked()
	}
	if l.poller != nil && !l.aliveLocked() {
		// Nothing is left that could use the poller: give its file
		// descriptors back. The next Run opens a new one.
		l.poller.Close()
		l.poller = nil
	}
}

// aliveLocked reports whether the loop has anything left to do.
func (l *EventLoop) aliveLocked() bool {
	return len(l.tasks) > 0 || len(l.timers) > 0 || len(l.sockets) > 0 || len(l.dirty) > 0
}

// turns is the loop itself, on a goroutine that holds the loop: Run's,
// the background goroutine's or a blocking call's (lend.go). until, when
// set, is asked before each wait whether the run should end there.
func (l *EventLoop) turns(ctx context.Context, forever bool, until func() bool) error {
	if ctx.Done() != nil {
		defer context.AfterFunc(ctx, l.wake)()
	}
	// Sends queued while nobody ran the loop (lend.go) go out first.
	l.flushDirty()
	for {
		if l.stop.Swap(false) && !l.background {
			return nil
		}
		l.runTasks()
		wait := l.runKeepalive(l.runTimers())
		if until != nil && until() {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		// Parked before the check: a sender that queues output after it
		// sees parked set and wakes the poller (see markDirty).
		l.parked.Store(true)
		l.mu.Lock()
		alive := l.aliveLocked()
		if len(l.tasks) > 0 || len(l.dirty) > 0 {
			wait = 0
		}
		l.mu.Unlock()
		if !alive && !forever {
			// A background goroutine ends here; releaseRun, under the
			// lock that the next add or Post takes, lets another start.
			l.parked.Store(false)
			return nil
		}
		err := l.poller.Wait(wait)
		l.parked.Store(false)
		l.flushDirty()
		if err != nil {
			return err
		}
	}
}

// runTasks runs the tasks queued before it started; tasks they post run in
// the next turn, so a task that reposts itself cannot starve I/O.
func (l *EventLoop) runTasks() {
	l.mu.Lock()
	tasks := l.tasks
	l.tasks = l.spare[:0]
	l.spare = nil
	l.mu.Unlock()
	for i, t := range tasks {
		tasks[i] = task{}
		l.protect(t.fn, t.user)
		l.flushDirty()
	}
	l.mu.Lock()
	if l.spare == nil {
		l.spare = tasks[:0]
	}
	l.mu.Unlock()
}

// protect runs a callback; a panic is reported and does not unwind the
// loop. user marks the program's own code, before which the loop notes its
// goroutine (noteRunner); the library's own tasks and timers call the
// program only through handlers, which note it themselves (call).
func (l *EventLoop) protect(fn func(), user bool) {
	if user {
		l.noteRunner()
	}
	defer l.recoverPanic()
	fn()
}

func (l *EventLoop) recoverPanic() {
	v := recover()
	if v == nil {
		return
	}
	stack := debug.Stack()
	if h := l.OnPanic; h != nil {
		defer func() {
			if v2 := recover(); v2 != nil {
				fmt.Fprintf(os.Stderr, "websocket: panic in OnPanic: %v\n", v2)
			}
		}()
		h(v, stack)
		return
	}
	fmt.Fprintf(os.Stderr, "websocket: panic in callback: %v\n%s", v, stack)
}

// call runs a typed user callback under protect without allocating a
// closure.
func call[E any](l *EventLoop, fn func(E), e E) {
	if fn == nil {
		return
	}
	l.noteRunner()
	defer l.recoverPanic()
	fn(e)
}
