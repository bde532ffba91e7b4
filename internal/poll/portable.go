package poll

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

const (
	// portableReadSize is each portable connection's own read buffer: the
	// price of having no readiness API.
	portableReadSize = 16 << 10
	// portableSendBuffer plays the kernel's send buffer: Write accepts up to
	// this many bytes that the connection's writer goroutine has not yet
	// handed to the kernel.
	portableSendBuffer = 256 << 10
	// lingerTimeout bounds how long Close waits for accepted bytes to be
	// written to a peer that does not read.
	lingerTimeout = 2 * time.Second
)

type eventKind uint8

const (
	evRead eventKind = iota
	evWritable
	evHangup
)

type event struct {
	c    *portableConn
	kind eventKind
	data []byte
	err  error
}

// Portable is the Poller for platforms without a readiness API: a reader
// goroutine per connection hands each read to Wait and waits until the
// handler is done with it (so TCP flow control still pushes back on the
// peer), and a writer goroutine runs only while there is output to write.
type Portable struct {
	hub   hub
	sleep sleeper
}

// NewPortable returns a goroutine-based Poller that works wherever net.Conn
// does.
func NewPortable() *Portable {
	p := &Portable{sleep: newSleeper()}
	p.hub.init(p.Wake)
	return p
}

// Add implements Poller.
func (p *Portable) Add(nc net.Conn, h Handler) (Conn, error) {
	c, err := p.hub.add(nc, h)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Wake implements Poller.
func (p *Portable) Wake() { p.sleep.interrupt() }

// Wait implements Poller.
func (p *Portable) Wait(timeout time.Duration) error {
	evs := p.hub.take()
	if len(evs) == 0 && timeout != 0 {
		p.sleep.sleep(timeout)
		evs = p.hub.take()
	}
	p.hub.dispatch(evs)
	return nil
}

// Close implements Poller.
func (p *Portable) Close() error {
	p.hub.closeAll()
	return nil
}

// sleeper is a wait that Wake cuts short, for a Poller that has no
// descriptor to block on: the portable one, and a Native whose descriptors
// are closed but whose loop may still wait for its timers and tasks.
type sleeper struct {
	wake  chan struct{}
	timer *time.Timer
}

func newSleeper() sleeper { return sleeper{wake: make(chan struct{}, 1)} }

func (s *sleeper) interrupt() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// sleep blocks until interrupt or timeout (< 0: no limit). It is called on
// one goroutine at a time, which is what lets it keep its timer.
func (s *sleeper) sleep(timeout time.Duration) {
	if timeout == 0 {
		select {
		case <-s.wake:
		default:
		}
		return
	}
	var expired <-chan time.Time
	if timeout > 0 {
		if s.timer == nil {
			s.timer = time.NewTimer(timeout)
		} else {
			s.timer.Reset(timeout)
		}
		expired = s.timer.C
	}
	select {
	case <-s.wake:
	case <-expired:
	}
	if s.timer != nil {
		s.timer.Stop()
	}
}

// hub runs connections on goroutines and queues what they report for the
// Poller's Wait. It is all of Portable, and the part of Native that serves
// connections the kernel cannot be asked about (TLS, pipes), so both
// pollers share one implementation of the goroutine contract.
type hub struct {
	mu     sync.Mutex
	ready  []event
	spare  []event
	conns  map[*portableConn]struct{}
	closed bool
	// wake is the owning Poller's Wake: a queued event must end its Wait.
	wake func()
}

func (p *hub) init(wake func()) {
	p.wake = wake
	p.conns = make(map[*portableConn]struct{})
}

func (p *hub) add(nc net.Conn, h Handler) (*portableConn, error) {
	c := &portableConn{p: p, nc: nc, h: h, ack: make(chan struct{}, 1), done: make(chan struct{})}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, net.ErrClosed
	}
	p.conns[c] = struct{}{}
	p.mu.Unlock()
	go c.readLoop()
	return c, nil
}

func (p *hub) post(e event) {
	p.mu.Lock()
	p.ready = append(p.ready, e)
	p.mu.Unlock()
	p.wake()
}

func (p *hub) take() []event {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.ready) == 0 {
		return nil
	}
	evs := p.ready
	p.ready, p.spare = p.spare[:0], nil
	return evs
}

// dispatch calls the handlers for events taken from the queue and keeps
// the array for the next events.
func (p *hub) dispatch(evs []event) {
	for i := range evs {
		e := &evs[i]
		e.c.dispatch(e)
		*e = event{}
	}
	if evs != nil {
		p.mu.Lock()
		p.spare = evs[:0]
		p.mu.Unlock()
	}
}

func (p *hub) closeAll() {
	p.mu.Lock()
	p.closed = true
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for c := range conns {
		c.Close()
	}
}

type portableConn struct {
	p    *hub
	nc   net.Conn
	h    Handler
	ack  chan struct{}
	done chan struct{}

	// closed is touched only on the Wait goroutine (Close is called there
	// too): it stops handler calls after Close.
	closed bool
	// paused and ackOwed, also the Wait goroutine's: a paused connection
	// keeps its reader waiting for the ack of the last read.
	paused  bool
	ackOwed bool

	wmu          sync.Mutex
	inflight     int // bytes the writer is handing to the kernel now
	pending      []byte
	spare        []byte
	writing      bool
	wantWritable bool
	shutdown     bool // CloseWrite asked for
	finish       bool // Close asked for
	werr         error
}

func (c *portableConn) readLoop() {
	buf := make([]byte, portableReadSize)
	for {
		n, err := c.nc.Read(buf)
		if n > 0 {
			c.p.post(event{c: c, kind: evRead, data: buf[:n]})
			select {
			case <-c.ack:
			case <-c.done:
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			select {
			case <-c.done:
			default:
				c.p.post(event{c: c, kind: evHangup, err: err})
			}
			return
		}
	}
}

func (c *portableConn) dispatch(e *event) {
	if e.kind == evRead {
		// The reader waits for this ack before it reuses the buffer and
		// reads again; a paused connection owes it until it resumes.
		defer func() {
			if c.paused && !c.closed {
				c.ackOwed = true
			} else {
				c.ack <- struct{}{}
			}
		}()
	}
	if c.closed {
		return
	}
	switch e.kind {
	case evRead:
		c.h.OnRead(e.data)
	case evWritable:
		c.h.OnWritable()
	case evHangup:
		c.h.OnHangup(e.err)
	}
}

// SetPaused implements Conn. The reader is held back by the ack of its
// last read, so at most one read's bytes (already delivered) precede the
// pause.
func (c *portableConn) SetPaused(paused bool) {
	c.paused = paused
	if !paused && c.ackOwed {
		c.ackOwed = false
		c.ack <- struct{}{}
	}
}

// Unsent implements Conn: what the writer has not yet handed on, and the
// kernel's queue under it when the connection is TCP and the system tells.
func (c *portableConn) Unsent() int {
	// Under wmu, inflight cannot drop to 0 between the kernel's answer
	// and the sum, which would lose the bytes in between; at worst the
	// writer's buffer is counted in both.
	c.wmu.Lock()
	defer c.wmu.Unlock()
	k := kernelUnsent(c.nc)
	if k < 0 {
		return -1
	}
	return k + c.inflight + len(c.pending)
}

func (c *portableConn) Write(b []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.werr != nil {
		return 0, c.werr
	}
	if c.shutdown || c.finish {
		return 0, net.ErrClosed
	}
	n := min(portableSendBuffer-len(c.pending), len(b))
	if n < len(b) {
		c.wantWritable = true
	}
	if n <= 0 {
		return 0, nil
	}
	if c.pending == nil && c.spare != nil {
		c.pending = c.spare[:0]
		c.spare = nil
	}
	c.pending = append(c.pending, b[:n]...)
	if !c.writing {
		c.writing = true
		go c.writeLoop()
	}
	return n, nil
}

// writeLoop runs only while there is output, so an idle connection has no
// writer goroutine.
func (c *portableConn) writeLoop() {
	for {
		c.wmu.Lock()
		if len(c.pending) == 0 || c.werr != nil {
			c.writing = false
			notify := c.wantWritable && c.werr == nil && !c.finish
			c.wantWritable = false
			shutdown, finish := c.shutdown, c.finish
			c.wmu.Unlock()
			switch {
			case finish:
				c.nc.Close()
			case shutdown:
				closeWrite(c.nc)
			case notify:
				c.p.post(event{c: c, kind: evWritable})
			}
			return
		}
		buf := c.pending
		c.pending = nil
		c.inflight = len(buf)
		c.wmu.Unlock()

		_, err := c.nc.Write(buf)

		c.wmu.Lock()
		c.inflight = 0
		if err != nil {
			c.werr = err
		}
		if cap(buf) <= portableReadSize {
			c.spare = buf[:0]
		}
		c.wmu.Unlock()
	}
}

func closeWrite(nc net.Conn) {
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
		return
	}
	nc.Close()
}

func (c *portableConn) CloseWrite() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.shutdown || c.finish {
		return nil
	}
	c.shutdown = true
	if !c.writing {
		closeWrite(c.nc)
	}
	return nil
}

func (c *portableConn) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	close(c.done)
	c.p.mu.Lock()
	delete(c.p.conns, c)
	c.p.mu.Unlock()

	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.finish = true
	if c.writing {
		// The writer closes the connection when it is done; the deadline
		// keeps a peer that never reads from holding it open.
		c.nc.SetWriteDeadline(time.Now().Add(lingerTimeout))
		return nil
	}
	return c.nc.Close()
}
