package main

import (
	"bytes"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/wsloop/websocket"
)

// drainTimeout is how long the sockets wait, once sending has stopped, for
// the echoes still in flight before they close anyway; what has not come
// back by then is counted lost. A socket closes as soon as its own echoes
// are in, so a healthy server costs the run no wait.
const drainTimeout = 3 * time.Second

// benchPlan is what every loop is told to do, read-only once the run
// starts.
type benchPlan struct {
	url      string
	sockets  int
	loops    int
	size     int
	binary   bool
	rate     float64 // messages/s per socket; 0: the next when the last is echoed
	duration time.Duration
	drain    time.Duration    // the wait for the last echoes: drainTimeout, but in tests
	dialers  int              // handshakes in progress at most
	config   websocket.Config // each socket's, but for Loop
	text     string           // the message, for text runs
	payload  []byte           // the message, for binary runs
}

// errorCounts counts what went wrong, by kind.
type errorCounts struct {
	Connect  uint64 `json:"connect"`  // sockets that never opened
	Send     uint64 `json:"send"`     // sends refused (a full backlog, a closing socket)
	Closed   uint64 `json:"closed"`   // sockets closed or failed before bench closed them, or not cleanly
	Mismatch uint64 `json:"mismatch"` // echoes unlike the message sent, or with none in flight
	Lost     uint64 `json:"lost"`     // messages sent and never echoed
}

func (e *errorCounts) total() uint64 {
	return e.Connect + e.Send + e.Closed + e.Mismatch + e.Lost
}

func (e *errorCounts) add(o *errorCounts) {
	e.Connect += o.Connect
	e.Send += o.Send
	e.Closed += o.Closed
	e.Mismatch += o.Mismatch
	e.Lost += o.Lost
}

// benchTally is what the sockets measured: each loop's share, and the
// run's once they are added up.
type benchTally struct {
	latency, connect histogram
	sent, echoed     uint64
	echoedBytes      uint64
	wireIn, wireOut  uint64
	errs             errorCounts
	firstErr         string // the first error's message, of the first loop that had one
}

func (t *benchTally) add(o *benchTally) {
	t.latency.merge(&o.latency)
	t.connect.merge(&o.connect)
	t.sent += o.sent
	t.echoed += o.echoed
	t.echoedBytes += o.echoedBytes
	t.wireIn += o.wireIn
	t.wireOut += o.wireOut
	t.errs.add(&o.errs)
	if t.firstErr == "" {
		t.firstErr = o.firstErr
	}
}

// benchLoop is one event loop's share of the run: its sockets, and the
// counts and histograms they feed. Everything but live is touched only on
// the loop's goroutine (and read by the coordinator once the loop has
// returned), so the hot path takes no lock and shares no cache line.
type benchLoop struct {
	plan *benchPlan
	loop *websocket.EventLoop
	base time.Time // the origin of the in-flight time stamps

	conns    []*benchConn // every socket made on the loop
	open     []*benchConn // those open when sending began, in the order a rate run serves them
	assigned int          // how many sockets the loop gets; -1 until all are handed out
	finished int          // sockets whose close event has fired (or that were never made)
	outcome  func()       // called once for each socket when its dial has an outcome

	begun, stopping bool
	stopAt          time.Time
	ticker, stopper *websocket.Timer
	drainer         *websocket.Timer
	rateStart       time.Time
	rateSent        int64 // the rate's sends so far, all sockets together

	benchTally

	// live is read by the coordinator while the loop runs, for the
	// progress bar.
	live struct {
		settled, echoed, errors atomic.Int64
	}
}

func newBenchLoop(plan *benchPlan, outcome func()) *benchLoop {
	return &benchLoop{
		plan:     plan,
		loop:     websocket.NewEventLoop(),
		base:     time.Now(),
		assigned: -1,
		outcome:  outcome,
	}
}

// now is the time stamp of a send or an echo: the monotonic clock's
// reading since base, eight bytes in the in-flight queue.
func (lp *benchLoop) now() time.Duration { return time.Since(lp.base) }

// fail counts an error of a kind and keeps the run's first message.
func (lp *benchLoop) fail(kind *uint64, msg string) {
	*kind++
	lp.live.errors.Add(1)
	if lp.firstErr == "" {
		lp.firstErr = msg
	}
}

// benchConn is one socket of the run.
type benchConn struct {
	lp        *benchLoop
	ws        *websocket.WebSocket
	dialStart time.Time
	opened    bool
	closing   bool   // bench has closed it
	closed    bool   // its close event has fired
	settled   bool   // its dial's outcome is reported
	lastErr   string // its error event's, for the close that follows
	// inflight holds the send times of the messages not yet echoed:
	// an echo server answers in order, as TCP delivers, so the next echo
	// is of the oldest.
	inflight stampQueue
}

// stampQueue is a FIFO of time stamps that reuses its array: at a rate,
// a socket may never be without a message in flight, and a queue that
// only appended would grow with every message of the run.
type stampQueue struct {
	s    []time.Duration
	head int
}

func (q *stampQueue) len() int { return len(q.s) - q.head }

func (q *stampQueue) push(d time.Duration) {
	// Once the taken half is the larger, move the rest to the front:
	// each stamp is moved at most once on average.
	if q.head > 0 && 2*q.head >= len(q.s) {
		n := copy(q.s, q.s[q.head:])
		q.s, q.head = q.s[:n], 0
	}
	q.s = append(q.s, d)
}

// pop takes the oldest stamp; the queue must not be empty.
func (q *stampQueue) pop() time.Duration {
	d := q.s[q.head]
	q.head++
	return d
}

// clear empties the queue and returns how many stamps it held.
func (q *stampQueue) clear() int {
	n := q.len()
	q.s, q.head = q.s[:0], 0
	return n
}

// create makes a socket on the loop: a task posted by the coordinator,
// so that its handlers are set before any of its events can run.
func (lp *benchLoop) create() {
	c := &benchConn{lp: lp, dialStart: time.Now()}
	lp.conns = append(lp.conns, c)
	if lp.stopping { // interrupted before its turn: never made
		c.settle()
		c.closed = true
		lp.finished++
		lp.maybeDone()
		return
	}
	cfg := lp.plan.config
	cfg.Loop = lp.loop
	ws, err := websocket.NewWithConfig(lp.plan.url, &cfg)
	if err != nil {
		lp.fail(&lp.errs.Connect, err.Error())
		c.settle()
		c.closed = true
		lp.finished++
		lp.maybeDone()
		return
	}
	c.ws = ws
	ws.OnOpen = c.onOpen
	ws.OnMessage = c.onMessage
	ws.OnError = func(e websocket.ErrorEvent) { c.lastErr = e.Err.Error() }
	ws.OnClose = c.onClose
}

// settle reports the dial's outcome once: it frees a place for the next
// handshake, and the run starts when every socket has settled.
func (c *benchConn) settle() {
	if c.settled {
		return
	}
	c.settled = true
	c.lp.live.settled.Add(1)
	c.lp.outcome()
}

func (c *benchConn) onOpen(websocket.OpenEvent) {
	c.opened = true
	c.lp.connect.record(time.Since(c.dialStart))
	c.settle()
	if c.lp.stopping && !c.closing { // interrupted while it connected
		c.close()
	}
}

// send sends the run's message and stamps it in flight.
func (c *benchConn) send() {
	lp := c.lp
	stamp := lp.now()
	var err error
	if lp.plan.binary {
		err = c.ws.Send(lp.plan.payload)
	} else {
		err = c.ws.SendText(lp.plan.text)
	}
	if err != nil {
		lp.fail(&lp.errs.Send, fmt.Sprintf("send: %v", err))
		return
	}
	c.inflight.push(stamp)
	lp.sent++
}

func (c *benchConn) onMessage(m websocket.MessageEvent) {
	lp := c.lp
	at := lp.now()
	defer m.Release() // nothing of the message is kept
	if c.inflight.len() == 0 {
		lp.fail(&lp.errs.Mismatch, fmt.Sprintf("socket %d: a message of %d bytes with none in flight", c.ws.ID(), len(m.Data)))
		return
	}
	sentAt := c.inflight.pop()
	if !lp.isEcho(m) {
		lp.fail(&lp.errs.Mismatch, fmt.Sprintf("socket %d: an echo of %d bytes (binary %t) unlike the %d-byte message sent", c.ws.ID(), len(m.Data), m.Binary, lp.plan.size))
	} else {
		lp.latency.record(at - sentAt)
		lp.echoed++
		lp.echoedBytes += uint64(len(m.Data))
		lp.live.echoed.Add(1)
	}
	switch {
	case lp.stopping:
		if c.inflight.len() == 0 && !c.closing {
			c.close()
		}
	case lp.plan.rate == 0:
		c.send() // one in flight: the next goes as this one is back
	}
}

// isEcho tells whether m is the run's message, byte for byte.
func (lp *benchLoop) isEcho(m websocket.MessageEvent) bool {
	if m.Binary != lp.plan.binary {
		return false
	}
	if m.Binary {
		return bytes.Equal(m.Data, lp.plan.payload)
	}
	return string(m.Data) == lp.plan.text
}

func (c *benchConn) onClose(e websocket.CloseEvent) {
	lp := c.lp
	c.closed = true
	why := c.lastErr
	if why == "" {
		why = fmt.Sprintf("closed with %d %q", e.Code, e.Reason)
	}
	switch {
	case !c.opened:
		if !lp.stopping { // not one that an interruption cut short
			lp.fail(&lp.errs.Connect, "connect: "+why)
		}
		c.settle()
	case !c.closing:
		lp.fail(&lp.errs.Closed, fmt.Sprintf("socket %d closed during the run: %s", c.ws.ID(), why))
	case !e.WasClean:
		lp.fail(&lp.errs.Closed, fmt.Sprintf("socket %d: the closing handshake did not complete: %s", c.ws.ID(), why))
	}
	if n := c.inflight.clear(); n > 0 {
		lp.errs.Lost += uint64(n)
		lp.live.errors.Add(int64(n))
		if lp.firstErr == "" {
			lp.firstErr = fmt.Sprintf("socket %d closed with %d messages not echoed", c.ws.ID(), n)
		}
	}
	st := c.ws.Stats()
	lp.wireIn += st.BytesIn
	lp.wireOut += st.BytesOut
	lp.finished++
	lp.maybeDone()
}

// close ends a socket normally.
func (c *benchConn) close() {
	c.closing = true
	c.ws.CloseWith(websocket.CloseNormal, "")
}

// setAssigned is the coordinator's last task for the loop: no more
// sockets will come.
func (lp *benchLoop) setAssigned(n int) {
	lp.assigned = n
	lp.maybeDone()
}

// maybeDone stops the loop once every socket it was given has closed.
func (lp *benchLoop) maybeDone() {
	if lp.assigned < 0 || lp.finished < lp.assigned {
		return
	}
	for _, t := range []*websocket.Timer{lp.ticker, lp.stopper, lp.drainer} {
		if t != nil {
			t.Stop()
		}
	}
	lp.loop.Stop()
}

// begin starts sending, until deadline: a task the coordinator posts
// once every socket of the run has opened or failed.
func (lp *benchLoop) begin(deadline time.Time) {
	if lp.stopping {
		return
	}
	lp.begun = true
	for _, c := range lp.conns {
		if c.opened && !c.closed {
			lp.open = append(lp.open, c)
		}
	}
	lp.stopper = lp.loop.SetTimeout(lp.stop, time.Until(deadline))
	if lp.plan.rate == 0 {
		for _, c := range lp.open {
			c.send()
		}
		return
	}
	if len(lp.open) == 0 {
		return
	}
	// The loop's sockets take turns: the g-th send of the loop is socket
	// g mod k's, due at g / (rate*k) seconds. So each socket sends at the
	// rate asked, its sends spread evenly among the others', and a tick
	// sends whatever has come due, catching up after a late one.
	perSec := lp.plan.rate * float64(len(lp.open))
	tick := max(time.Millisecond, time.Duration(float64(time.Second)/perSec))
	lp.rateStart = time.Now()
	lp.tick()
	lp.ticker = lp.loop.SetInterval(lp.tick, tick)
}

func (lp *benchLoop) tick() {
	perSec := lp.plan.rate * float64(len(lp.open))
	due := int64(time.Since(lp.rateStart).Seconds()*perSec) + 1
	for ; lp.rateSent < due; lp.rateSent++ {
		c := lp.open[lp.rateSent%int64(len(lp.open))]
		if !c.closed && !c.closing {
			c.send()
		}
	}
}

// stop ends the sending (at the deadline, or when interrupted): each
// socket closes once its echoes are in, and every one after plan.drain.
// A socket still connecting (an interruption) is closed at once.
func (lp *benchLoop) stop() {
	if lp.stopping {
		return
	}
	lp.stopping = true
	lp.stopAt = time.Now()
	if lp.ticker != nil {
		lp.ticker.Stop()
	}
	for _, c := range lp.conns {
		switch {
		case c.closed || c.closing:
		case !c.opened:
			c.closing = true
			c.ws.Close() // fails the dial, as in a browser
		case c.inflight.len() == 0:
			c.close()
		}
	}
	lp.drainer = lp.loop.SetTimeout(lp.closeAll, lp.plan.drain)
	lp.maybeDone()
}

// closeAll closes the sockets still waiting for echoes: what has not
// come back by now counts as lost.
func (lp *benchLoop) closeAll() {
	for _, c := range lp.conns {
		if !c.closed && !c.closing {
			c.close()
		}
	}
}
