package torture_test

// The client side: a socket on an event loop of its own, run on the test
// goroutine under a watchdog, recording every event with the readyState it
// fired in, and the heap it took.

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
)

// runBound bounds loop.Run: a client that does not let its loop end after
// the server's worst is a hang, which is a failure. It is a bound, never
// a wait.
const runBound = 30 * time.Second

// client is a socket under test and the trace of its events.
type client struct {
	t    *testing.T
	loop *websocket.EventLoop
	ws   *websocket.WebSocket

	trace    []string
	messages []websocket.MessageEvent
	pings    [][]byte
	errs     []error
	// quietPings keeps pings out of the trace, for floods.
	quietPings bool

	// Hooks, called on the loop after the event is recorded.
	onOpen    func()
	onMessage func(websocket.MessageEvent)
	onPing    func(websocket.PingEvent)
	onError   func(websocket.ErrorEvent)

	heap    heapWatch
	elapsed time.Duration
}

// newClient connects to url with cfg (nil: the defaults) on a loop of its
// own. Its heap watch starts now: the test builds its server's input
// before.
func newClient(t *testing.T, url string, cfg *websocket.Config) *client {
	t.Helper()
	c := &client{t: t, loop: websocket.NewEventLoop()}
	c.heap.start()
	c.loop.OnPanic = func(v any, stack []byte) {
		t.Errorf("panic in a callback: %v\n%s", v, stack)
	}
	var conf websocket.Config
	if cfg != nil {
		conf = *cfg
	}
	conf.Loop = c.loop
	ws, err := websocket.NewWithConfig(url, &conf)
	if err != nil {
		t.Fatalf("NewWithConfig(%q): %v", url, err)
	}
	c.ws = ws
	ws.OnOpen = func(e websocket.OpenEvent) {
		c.record(e)
		if c.onOpen != nil {
			c.onOpen()
		}
	}
	ws.OnMessage = func(m websocket.MessageEvent) {
		c.record(m)
		c.messages = append(c.messages, m)
		if c.onMessage != nil {
			c.onMessage(m)
		}
	}
	ws.OnPing = func(p websocket.PingEvent) {
		c.pings = append(c.pings, p.Data)
		if !c.quietPings {
			c.record(p)
		}
		if c.onPing != nil {
			c.onPing(p)
		}
	}
	ws.OnPong = func(p websocket.PongEvent) { c.record(p) }
	ws.OnError = func(e websocket.ErrorEvent) {
		c.record(e)
		c.errs = append(c.errs, e.Err)
		if c.onError != nil {
			c.onError(e)
		}
	}
	ws.OnClose = func(e websocket.CloseEvent) { c.record(e) }
	return c
}

func (c *client) record(e websocket.Event) {
	c.trace = append(c.trace, describe(e, c.ws.ReadyState()))
}

// run runs the loop until it returns by itself, as it must once the socket
// is closed, within runBound; then it reads the heap again.
func (c *client) run() {
	c.t.Helper()
	var fired atomic.Bool
	watchdog := time.AfterFunc(runBound, func() {
		fired.Store(true)
		c.loop.Stop()
	})
	start := time.Now()
	err := c.loop.Run()
	c.elapsed = time.Since(start)
	watchdog.Stop()
	if fired.Load() {
		c.t.Fatalf("loop.Run did not return within %v: the client hangs (readyState %v); trace:\n\t%s",
			runBound, c.ws.ReadyState(), strings.Join(c.trace, "\n\t"))
	}
	if err != nil {
		c.t.Fatalf("loop.Run: %v", err)
	}
}

// wantTrace checks the events, in order.
func (c *client) wantTrace(want ...string) {
	c.t.Helper()
	if strings.Join(c.trace, "\n") != strings.Join(want, "\n") {
		c.t.Errorf("events:\n\t%s\nwant:\n\t%s", strings.Join(c.trace, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// retainBound is what a closed connection may leave on the heap: noise.
const retainBound = 2 * MiB

// Trace lines.
const (
	traceOpen     = "open OPEN"
	traceAbnormal = `close CLOSED 1006 "" clean=false`
)

// failed is the trace's end after the client failed the connection with
// code: error, then close 1006, both while CLOSED.
func failed(code int) []string {
	return []string{fmt.Sprintf("error CLOSED ProtocolError(%d)", code), traceAbnormal}
}

// openThenFailed is the whole trace of a connection that opened and that
// the client then failed with code.
func openThenFailed(code int) []string {
	return append([]string{traceOpen}, failed(code)...)
}

func describe(e websocket.Event, st websocket.ReadyState) string {
	switch e := e.(type) {
	case websocket.OpenEvent:
		return "open " + st.String()
	case websocket.MessageEvent:
		kind := "text"
		if e.Binary {
			kind = "binary"
		}
		return fmt.Sprintf("message %s %s %s", st, kind, payload(e.Data))
	case websocket.PingEvent:
		return fmt.Sprintf("ping %s %s", st, payload(e.Data))
	case websocket.PongEvent:
		return fmt.Sprintf("pong %s %s", st, payload(e.Data))
	case websocket.ErrorEvent:
		var pe *websocket.ProtocolError
		if errors.As(e.Err, &pe) {
			return fmt.Sprintf("error %s ProtocolError(%d)", st, pe.Code)
		}
		return fmt.Sprintf("error %s %T: %v", st, e.Err, e.Err)
	case websocket.CloseEvent:
		return fmt.Sprintf("close %s %d %q clean=%t", st, e.Code, e.Reason, e.WasClean)
	}
	return fmt.Sprintf("%s %s", e.Type(), st)
}

// payload shows a short payload whole and a long one by its length.
func payload(p []byte) string {
	if len(p) > 48 {
		return fmt.Sprintf("len=%d", len(p))
	}
	return fmt.Sprintf("%q", p)
}

// heapWatch measures the heap around a connection: how many bytes were
// allocated from the client's start to the end of its loop (which shows an
// allocation of an announced size even when it was freed at once), and how
// much more is live once the loop returned (which shows a leak). Both count
// the test's own allocations too, which are small: inputs are built before
// the watch starts.
type heapWatch struct {
	liveBefore, liveAfter   uint64
	totalBefore, totalAfter uint64
}

func readHeap() (live, total uint64) {
	// Two collections: message buffers given back to wsloop's pool (a
	// sync.Pool) are freed by the second collection after their release.
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, m.TotalAlloc
}

func (h *heapWatch) start()  { h.liveBefore, h.totalBefore = readHeap() }
func (h *heapWatch) finish() { h.liveAfter, h.totalAfter = readHeap() }

// MiB is a mebibyte, for heap bounds.
const MiB = 1 << 20

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/MiB) }

// wantHeap checks that the connection allocated at most allocBound bytes
// in all, and that at most retainBound more are live once the loop
// returned: a closed socket holds nothing. The bounds are generous: they
// tell a leak, or an allocation of an announced size, from noise.
func (c *client) wantHeap(allocBound, retainBound int64) {
	c.t.Helper()
	// Measured once the server's script and its readers are done (the
	// caller waited for them): under load they can outlive the client's
	// loop, and their buffers are not the client's.
	c.heap.finish()
	h := c.heap
	alloc := int64(h.totalAfter - h.totalBefore)
	retained := int64(h.liveAfter) - int64(h.liveBefore)
	if alloc > allocBound {
		c.t.Errorf("the connection allocated %s; bound %s", mib(alloc), mib(allocBound))
	}
	if retained > retainBound {
		c.t.Errorf("the live heap grew by %s once the loop returned; bound %s", mib(retained), mib(retainBound))
	}
}

// wantProtocolError checks the error event's cause: a *ProtocolError with
// code.
func (c *client) wantProtocolError(code int) {
	c.t.Helper()
	if len(c.errs) != 1 {
		c.t.Fatalf("%d error events; want 1", len(c.errs))
	}
	var pe *websocket.ProtocolError
	if !errors.As(c.errs[0], &pe) || pe.Code != code {
		c.t.Errorf("error event carries %v (%T); want a *websocket.ProtocolError with code %d", c.errs[0], c.errs[0], code)
	}
}

// violation is the common shape of a torture case the client must fail:
// the server completes the handshake, writes input (built by the test
// before the client starts), and then expects the client's close frame
// with code, and the end of its output. The events must be open, error,
// close 1006; the loop must return; the connection must allocate at most
// allocBound bytes and retain none.
func violation(t *testing.T, cfg *websocket.Config, code int, allocBound int64, input ...[]byte) *client {
	t.Helper()
	srv := serve(t, func(c *rawConn) {
		c.write(input...)
		c.failedWith(code)
	})
	cl := newClient(t, srv.URL, cfg)
	cl.run()
	srv.wait(t)
	cl.wantTrace(openThenFailed(code)...)
	cl.wantProtocolError(code)
	cl.wantHeap(allocBound, retainBound)
	return cl
}
