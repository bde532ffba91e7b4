package main

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lxzan/gws"
)

// lxzan/gws is event-driven too: gws.NewClient dials, then the
// connection's ReadLoop goroutine (one per connection, started with `go`
// as its README does) calls the handler's OnMessage, which may write.

var gwsLib = library{name: "gws", echo: gwsEcho, recv: gwsRecv, fan: gwsFan, idle: gwsIdle, burst: gwsBurst}

func gwsOption(url string) *gws.ClientOption {
	return &gws.ClientOption{
		Addr:                url,
		HandshakeTimeout:    handshakeTimeout,
		ReadMaxPayloadSize:  64 << 20,
		WriteMaxPayloadSize: 64 << 20,
	}
}

// gwsRoundsHandler writes k copies of msg in a row, and the next k from
// OnMessage once their k echoes are back, until end.
type gwsRoundsHandler struct {
	gws.BuiltinEventHandler
	msg    []byte
	op     gws.Opcode
	k      int64
	end    time.Time
	m      meter
	n      int64
	res    sample
	fail   error
	closed chan struct{}
}

// round writes k messages in a row.
func (h *gwsRoundsHandler) round(c *gws.Conn) error {
	for range h.k {
		if err := c.WriteMessage(h.op, h.msg); err != nil {
			return err
		}
	}
	return nil
}

func (h *gwsRoundsHandler) OnMessage(c *gws.Conn, msg *gws.Message) {
	size := msg.Data.Len()
	msg.Close()
	h.n++
	if size != len(h.msg) {
		h.fail = fmt.Errorf("echo of %d bytes, want %d", size, len(h.msg))
		c.WriteClose(1000, nil)
		return
	}
	if h.n%h.k != 0 {
		return
	}
	if time.Now().Before(h.end) {
		if err := h.round(c); err != nil {
			h.fail = err
		}
		return
	}
	h.res = h.m.stop(h.n)
	c.WriteClose(1000, nil)
}

func (h *gwsRoundsHandler) OnClose(c *gws.Conn, err error) { close(h.closed) }

func gwsEcho(url string, msg []byte, binary bool, d time.Duration) (sample, error) {
	op := gws.OpcodeText
	if binary {
		op = gws.OpcodeBinary
	}
	return gwsRounds(gwsOption(url), msg, op, 1, d, "echo")
}

func gwsBurst(url string, msg []byte, k int, d time.Duration) (sample, error) {
	return gwsRounds(gwsOption(url), msg, gws.OpcodeText, k, d, "burst")
}

// gwsRounds writes the first round from the dialing goroutine and every
// later one from OnMessage, for d; what names the scenario in a timeout.
func gwsRounds(opt *gws.ClientOption, msg []byte, op gws.Opcode, k int, d time.Duration, what string) (sample, error) {
	h := &gwsRoundsHandler{msg: msg, op: op, k: int64(k), closed: make(chan struct{})}
	c, resp, err := gws.NewClient(h, opt)
	if err != nil {
		return sample{}, err
	}
	h.m = startMeter()
	h.end = time.Now().Add(d)
	if err := h.round(c); err != nil {
		c.NetConn().Close()
		return sample{}, err
	}
	go c.ReadLoop()
	if !waitClosed(h.closed, d+phaseTimeout, c) {
		return sample{}, timeoutErr(what, d+phaseTimeout)
	}
	if h.fail == nil && h.res.ops == 0 {
		h.fail = errors.New("closed before the run ended")
	}
	h.res.bytes = h.res.ops * int64(len(msg))
	h.res.ext = resp.Header.Get("Sec-WebSocket-Extensions")
	return h.res, h.fail
}

// waitClosed waits for closed at most d; on time-out it closes TCP, waits
// for the read loop to end and reports false.
func waitClosed(closed chan struct{}, d time.Duration, c *gws.Conn) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-closed:
		return true
	case <-t.C:
		c.NetConn().Close()
		<-closed
		return false
	}
}

type gwsRecvHandler struct {
	gws.BuiltinEventHandler
	end    time.Time
	m      meter
	n      int64
	bytes  int64
	done   bool
	res    sample
	closed chan struct{}
}

func (h *gwsRecvHandler) OnMessage(c *gws.Conn, msg *gws.Message) {
	if h.done {
		msg.Close()
		return
	}
	h.n++
	h.bytes += int64(msg.Data.Len())
	msg.Close()
	if h.n&63 == 0 && !time.Now().Before(h.end) {
		h.done = true
		h.res = h.m.stop(h.n)
		h.res.bytes = h.bytes
		c.WriteClose(1000, nil)
	}
}

func (h *gwsRecvHandler) OnClose(c *gws.Conn, err error) { close(h.closed) }

func gwsRecv(url string, d time.Duration) (sample, error) { return gwsRecvWith(gwsOption(url), d) }

func gwsRecvWith(opt *gws.ClientOption, d time.Duration) (sample, error) {
	h := &gwsRecvHandler{closed: make(chan struct{})}
	c, resp, err := gws.NewClient(h, opt)
	if err != nil {
		return sample{}, err
	}
	h.m = startMeter()
	h.end = time.Now().Add(d)
	go c.ReadLoop()
	if !waitClosed(h.closed, d+phaseTimeout, c) {
		return sample{}, timeoutErr("recv", d+phaseTimeout)
	}
	if h.res.ops == 0 {
		return sample{}, errors.New("closed before the run ended")
	}
	h.res.ext = resp.Header.Get("Sec-WebSocket-Extensions")
	return h.res, nil
}

// gwsFanConn is one connection's handler in the fan scenario.
type gwsFanConn struct {
	gws.BuiltinEventHandler
	f      *gwsFanState
	i      int
	k      int
	warm   bool // the warm-up echo is in
	sent   time.Time
	closed chan struct{}
}

type gwsFanState struct {
	msg     []byte
	rounds  int
	lat     []time.Duration
	warm    sync.WaitGroup // the warm-up echoes
	done    sync.WaitGroup
	closing atomic.Bool
	failMu  sync.Mutex
	fail    error
}

func (f *gwsFanState) setFail(err error) {
	f.failMu.Lock()
	if f.fail == nil {
		f.fail = err
	}
	f.failMu.Unlock()
}

func (h *gwsFanConn) OnMessage(c *gws.Conn, msg *gws.Message) {
	f := h.f
	if !h.warm {
		size := msg.Data.Len()
		msg.Close()
		if size != len(f.msg) {
			f.setFail(fmt.Errorf("warm-up echo of %d bytes, want %d", size, len(f.msg)))
		}
		h.warm = true
		f.warm.Done()
		return
	}
	f.lat[h.i*f.rounds+h.k] = time.Since(h.sent)
	size := msg.Data.Len()
	msg.Close()
	h.k++
	if size != len(f.msg) {
		f.setFail(fmt.Errorf("echo of %d bytes, want %d", size, len(f.msg)))
		h.k = f.rounds
	}
	if h.k < f.rounds {
		h.sent = time.Now()
		if err := c.WriteMessage(gws.OpcodeText, f.msg); err != nil {
			f.setFail(err)
			h.k = f.rounds
		}
	}
	if h.k == f.rounds {
		f.done.Done()
	}
}

func (h *gwsFanConn) OnClose(c *gws.Conn, err error) {
	if !h.f.closing.Load() {
		h.f.setFail(fmt.Errorf("conn %d closed: %v", h.i, err))
		if h.k < h.f.rounds {
			h.k = h.f.rounds
			h.f.done.Done()
		}
	}
	close(h.closed)
}

// gwsDialAll dials n connections with dialWindow goroutines and starts
// each one's ReadLoop. opt, when not nil, makes the option for a URL
// (gwsOption otherwise); ext, when not nil, gets the
// Sec-WebSocket-Extensions the server answered the first connection.
func gwsDialAll(urls []string, n int, handler func(i int) gws.Event, opt func(string) *gws.ClientOption, ext *string) ([]*gws.Conn, error) {
	if opt == nil {
		opt = gwsOption
	}
	conns := make([]*gws.Conn, n)
	var (
		next    atomic.Int64
		workers sync.WaitGroup
		failMu  sync.Mutex
		fail    error
		failed  atomic.Bool
	)
	for range min(dialWindow, n) {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				c, resp, err := gws.NewClient(handler(i), opt(urls[i%len(urls)]))
				if err == nil && i == 0 && ext != nil {
					*ext = resp.Header.Get("Sec-WebSocket-Extensions")
				}
				if err != nil {
					failMu.Lock()
					fail = keepFirst(fail, fmt.Errorf("conn %d: %w", i, err))
					failMu.Unlock()
					failed.Store(true)
					return
				}
				conns[i] = c
				go c.ReadLoop()
			}
		}()
	}
	if !waitGroup(&workers, connectTimeout(n)) {
		failed.Store(true)
		workers.Wait() // each dial is bounded by its handshake timeout
		failMu.Lock()
		fail = keepFirst(fail, timeoutErr("connect", connectTimeout(n)))
		failMu.Unlock()
	}
	return conns, fail
}

// gwsCloseAll sends a close frame on each connection (gws closes TCP right
// after) and waits for the read loops to end.
func gwsCloseAll(conns []*gws.Conn, closed func(i int) chan struct{}) {
	deadline := time.NewTimer(phaseTimeout)
	defer deadline.Stop()
	for _, c := range conns {
		if c != nil {
			c.WriteClose(1000, nil)
		}
	}
	for i, c := range conns {
		if c == nil {
			continue
		}
		select {
		case <-closed(i):
		case <-deadline.C:
			for _, c := range conns {
				if c != nil {
					c.NetConn().Close()
				}
			}
			<-closed(i)
		}
	}
}

func gwsFan(urls []string, n, rounds int, msg []byte) (sample, error) {
	f := &gwsFanState{msg: msg, rounds: rounds, lat: make([]time.Duration, n*rounds)}
	hs := make([]*gwsFanConn, n)
	for i := range hs {
		hs[i] = &gwsFanConn{f: f, i: i, closed: make(chan struct{})}
	}
	f.done.Add(n)
	f.warm.Add(n)
	conns, err := gwsDialAll(urls, n, func(i int) gws.Event { return hs[i] }, nil, nil)
	closedCh := func(i int) chan struct{} { return hs[i].closed }
	if err == nil {
		err = gwsWarmUp(f, conns)
	}
	if err != nil {
		f.closing.Store(true)
		gwsCloseAll(conns, closedCh)
		return sample{}, err
	}
	limit := phaseTimeout + time.Duration(n*rounds)*time.Millisecond
	m := startMeter()
	for i, c := range conns {
		hs[i].sent = time.Now()
		if err := c.WriteMessage(gws.OpcodeText, msg); err != nil {
			f.setFail(err)
		}
	}
	ok := waitGroup(&f.done, limit)
	res := m.stop(int64(n * rounds))
	res.lat = f.lat
	res.bytes = res.ops * int64(len(msg))
	f.closing.Store(true)
	gwsCloseAll(conns, closedCh)
	if !ok {
		f.setFail(timeoutErr("round trips", limit))
	}
	return res, f.fail
}

// gwsWarmUp makes the fan's warm-up round trip on every connection,
// all at once, and waits for the echoes (why: scenario.go).
func gwsWarmUp(f *gwsFanState, conns []*gws.Conn) error {
	for _, c := range conns {
		if err := c.WriteMessage(gws.OpcodeText, f.msg); err != nil {
			return err
		}
	}
	limit := phaseTimeout + time.Duration(len(conns))*time.Millisecond
	if !waitGroup(&f.warm, limit) {
		return timeoutErr("warm-up", limit)
	}
	f.failMu.Lock()
	defer f.failMu.Unlock()
	return f.fail
}

type gwsIdleConn struct {
	gws.BuiltinEventHandler
	closing *atomic.Bool
	fail    func(error)
	i       int
	closed  chan struct{}
}

func (h *gwsIdleConn) OnClose(c *gws.Conn, err error) {
	if !h.closing.Load() {
		h.fail(fmt.Errorf("conn %d closed: %v", h.i, err))
	}
	close(h.closed)
}

func gwsIdle(urls []string, n int) (sample, error) {
	base := takeIdleSnapshot()
	var (
		closing atomic.Bool
		failMu  sync.Mutex
		fail    error
	)
	setFail := func(err error) {
		failMu.Lock()
		fail = keepFirst(fail, err)
		failMu.Unlock()
	}
	hs := make([]*gwsIdleConn, n)
	m := startMeter()
	conns, err := gwsDialAll(urls, n, func(i int) gws.Event {
		hs[i] = &gwsIdleConn{closing: &closing, fail: setFail, i: i, closed: make(chan struct{})}
		return hs[i]
	}, nil, nil)
	res := m.stop(int64(n))
	if err != nil {
		setFail(err)
	} else {
		base.finish(&res, n)
	}
	closing.Store(true)
	gwsCloseAll(conns, func(i int) chan struct{} { return hs[i].closed })
	failMu.Lock()
	defer failMu.Unlock()
	return res, fail
}
