package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	coder "github.com/coder/websocket"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	gorilla "github.com/gorilla/websocket"
)

// gorilla, coder and gobwas are used the way their documentation shows: a
// blocking Dial, then a goroutine that writes a message and reads the next
// one. The scenarios are written once over bconn, a thin adapter whose
// methods are one library call each.

type bconn interface {
	// Send writes one message.
	Send(binary bool, p []byte) error
	// Recv reads the next data message and returns its size (the
	// scenarios look at nothing else; an adapter may give the buffer
	// back before it returns); control frames are answered inside, as the
	// library does.
	Recv() (int, error)
	// StartClose sends a close frame (code 1000). It is safe while another
	// goroutine is in Recv, which then ends when the server answers.
	StartClose() error
	// Kill closes TCP at once.
	Kill() error
}

type dialFunc func(ctx context.Context, url string) (bconn, error)

func blockingLib(name string, dial dialFunc) library {
	b := blib{dial: dial}
	return library{name: name, echo: b.echo, recv: b.recv, fan: b.fan, idle: b.idle, burst: b.burst}
}

var (
	gorillaLib = blockingLib("gorilla", dialGorilla)
	coderLib   = blockingLib("coder", dialCoder)
	gobwasLib  = blockingLib("gobwas", dialGobwas)
)

// gorilla/websocket: Dialer.DialContext, WriteMessage, ReadMessage.

type gorillaConn struct{ c *gorilla.Conn }

func dialGorilla(ctx context.Context, url string) (bconn, error) {
	c, _, err := gorilla.DefaultDialer.DialContext(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	return gorillaConn{c}, nil
}

func (g gorillaConn) Send(binary bool, p []byte) error {
	if binary {
		return g.c.WriteMessage(gorilla.BinaryMessage, p)
	}
	return g.c.WriteMessage(gorilla.TextMessage, p)
}

func (g gorillaConn) Recv() (int, error) {
	_, p, err := g.c.ReadMessage()
	return len(p), err
}

func (g gorillaConn) StartClose() error {
	return g.c.WriteControl(gorilla.CloseMessage,
		gorilla.FormatCloseMessage(gorilla.CloseNormalClosure, ""), time.Now().Add(5*time.Second))
}

func (g gorillaConn) Kill() error { return g.c.Close() }

// coder/websocket: Dial, Write, Read (compression off, its default).

type coderConn struct {
	c       *coder.Conn
	closing atomic.Bool
}

func dialCoder(ctx context.Context, url string) (bconn, error) {
	c, _, err := coder.Dial(ctx, url, &coder.DialOptions{CompressionMode: coder.CompressionDisabled})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(64 << 20) // the default is 32 KiB
	return &coderConn{c: c}, nil
}

func (k *coderConn) Send(binary bool, p []byte) error {
	typ := coder.MessageText
	if binary {
		typ = coder.MessageBinary
	}
	return k.c.Write(context.Background(), typ, p)
}

func (k *coderConn) Recv() (int, error) {
	_, p, err := k.c.Read(context.Background())
	return len(p), err
}

// StartClose runs coder's Close, which sends the close frame and waits
// for the answer (read by a concurrent Read if there is one, else by
// itself), in the background so that it does not wait in the caller.
func (k *coderConn) StartClose() error {
	if k.closing.CompareAndSwap(false, true) {
		go k.c.Close(coder.StatusNormalClosure, "")
	}
	return nil
}

func (k *coderConn) Kill() error { return k.c.CloseNow() }

// gobwas/ws: ws.Dial, then wsutil.WriteClientMessage and
// wsutil.ReadServerData, as its README shows for a client. Reads go
// through a bufio.Reader: the one ws.Dial returns when frames came with
// the handshake response, else a 4 KiB one of our own. Reading the bare
// conn instead costs three reads per frame, and whether Dial hands back a
// reader depends on timing, which made the results bimodal.

type gobwasConn struct {
	conn net.Conn
	rw   io.ReadWriter
}

func dialGobwas(ctx context.Context, url string) (bconn, error) {
	conn, br, _, err := ws.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	if br == nil {
		br = bufio.NewReaderSize(conn, 4096)
	}
	return &gobwasConn{conn: conn, rw: struct {
		io.Reader
		io.Writer
	}{br, conn}}, nil
}

func (g *gobwasConn) Send(binary bool, p []byte) error {
	if binary {
		return wsutil.WriteClientMessage(g.conn, ws.OpBinary, p)
	}
	return wsutil.WriteClientMessage(g.conn, ws.OpText, p)
}

func (g *gobwasConn) Recv() (int, error) {
	p, _, err := wsutil.ReadServerData(g.rw)
	return len(p), err
}

func (g *gobwasConn) StartClose() error {
	return wsutil.WriteClientMessage(g.conn, ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))
}

func (g *gobwasConn) Kill() error { return g.conn.Close() }

// The scenarios, once for the three.

type blib struct{ dial dialFunc }

func (b blib) dialTimeout(url string) (bconn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
	defer cancel()
	return b.dial(ctx, url)
}

// closeGracefully sends a close frame and reads (dropping messages) until
// the server's answer ends the connection; watchdogs bound it.
func closeGracefully(c bconn) {
	t := time.AfterFunc(phaseTimeout, func() { c.Kill() })
	defer t.Stop()
	if c.StartClose() == nil {
		for {
			if _, err := c.Recv(); err != nil {
				break
			}
		}
	}
	c.Kill()
}

// echo writes msg, reads its echo and writes the next, for d.
func (b blib) echo(url string, msg []byte, binary bool, d time.Duration) (sample, error) {
	return b.rounds(url, msg, binary, 1, d, "echo")
}

func (b blib) recv(url string, d time.Duration) (sample, error) {
	c, err := b.dialTimeout(url)
	if err != nil {
		return sample{}, err
	}
	var timedOut atomic.Bool
	limit := d + phaseTimeout
	watchdog := time.AfterFunc(limit, func() { timedOut.Store(true); c.Kill() })
	defer watchdog.Stop()

	m := startMeter()
	end := time.Now().Add(d)
	var n, bytes int64
	for {
		size, err := c.Recv()
		if err != nil {
			return sample{}, orTimeout(err, &timedOut, "recv", limit)
		}
		n++
		bytes += int64(size)
		if n&63 == 0 && !time.Now().Before(end) {
			break
		}
	}
	res := m.stop(n).withExt(extensionsOf(c))
	res.bytes = bytes
	closeGracefully(c)
	return res, nil
}

// burst writes k text messages in a row from the goroutine, then reads
// their k echoes, and again, for d.
func (b blib) burst(url string, msg []byte, k int, d time.Duration) (sample, error) {
	return b.rounds(url, msg, false, k, d, "burst")
}

// rounds writes k copies of msg in a row, then reads their k echoes, and
// again, for d; what names the scenario in a timeout.
func (b blib) rounds(url string, msg []byte, binary bool, k int, d time.Duration, what string) (sample, error) {
	c, err := b.dialTimeout(url)
	if err != nil {
		return sample{}, err
	}
	var timedOut atomic.Bool
	limit := d + phaseTimeout
	watchdog := time.AfterFunc(limit, func() { timedOut.Store(true); c.Kill() })
	defer watchdog.Stop()

	m := startMeter()
	end := time.Now().Add(d)
	var n int64
	for {
		for range k {
			if err := c.Send(binary, msg); err != nil {
				return sample{}, orTimeout(err, &timedOut, what, limit)
			}
		}
		for range k {
			size, err := c.Recv()
			if err != nil {
				return sample{}, orTimeout(err, &timedOut, what, limit)
			}
			n++
			if size != len(msg) {
				c.Kill()
				return sample{}, fmt.Errorf("echo of %d bytes, want %d", size, len(msg))
			}
		}
		if !time.Now().Before(end) {
			break
		}
	}
	res := m.stop(n).withExt(extensionsOf(c))
	res.bytes = n * int64(len(msg))
	closeGracefully(c)
	return res, nil
}

// warmUp makes the fan's warm-up round trip on c (why: scenario.go).
func warmUp(c bconn, msg []byte) error {
	if err := c.Send(false, msg); err != nil {
		return err
	}
	size, err := c.Recv()
	if err == nil && size != len(msg) {
		err = fmt.Errorf("warm-up echo of %d bytes, want %d", size, len(msg))
	}
	return err
}

func orTimeout(err error, timedOut *atomic.Bool, phase string, d time.Duration) error {
	if timedOut.Load() {
		return timeoutErr(phase, d)
	}
	return err
}

// fan: a goroutine per connection, as each library's documentation has
// it. All dial (at most dialWindow at a time) and make the warm-up round
// trip, wait for a common start, run their round trips, then wait to be
// told to close.
func (b blib) fan(urls []string, n, rounds int, msg []byte) (sample, error) {
	var (
		conns    = make([]bconn, n)
		lat      = make([]time.Duration, n*rounds)
		sem      = make(chan struct{}, dialWindow)
		start    = make(chan struct{})
		closeNow = make(chan struct{})
		dialed   sync.WaitGroup
		done     sync.WaitGroup
		closed   sync.WaitGroup
		failMu   sync.Mutex
		fail     error
		failed   atomic.Bool
		connsMu  sync.Mutex // conns and killed: a time-out kills while some still dial
		killed   bool
	)
	setFail := func(err error) {
		failMu.Lock()
		if fail == nil {
			fail = err
		}
		failMu.Unlock()
		failed.Store(true)
	}
	dialed.Add(n)
	done.Add(n)
	closed.Add(n)
	for i := range n {
		go func() {
			defer closed.Done()
			sem <- struct{}{}
			c, err := b.dialTimeout(urls[i%len(urls)])
			<-sem
			connsMu.Lock()
			conns[i] = c
			if c != nil && killed {
				c.Kill()
			}
			connsMu.Unlock()
			if err == nil {
				err = warmUp(c, msg)
			}
			if err != nil {
				setFail(fmt.Errorf("conn %d: %w", i, err))
			}
			dialed.Done()
			<-start
			if c == nil {
				done.Done()
				return
			}
			for k := 0; k < rounds && !failed.Load(); k++ {
				t := time.Now()
				if err := c.Send(false, msg); err != nil {
					setFail(err)
					break
				}
				size, err := c.Recv()
				if err != nil {
					setFail(err)
					break
				}
				lat[i*rounds+k] = time.Since(t)
				if size != len(msg) {
					setFail(fmt.Errorf("echo of %d bytes, want %d", size, len(msg)))
					break
				}
			}
			done.Done()
			<-closeNow
			closeGracefully(c)
		}()
	}
	killAll := func() {
		connsMu.Lock()
		defer connsMu.Unlock()
		killed = true
		for _, c := range conns {
			if c != nil {
				c.Kill()
			}
		}
	}
	if !waitGroup(&dialed, connectTimeout(n)) {
		setFail(timeoutErr("connect", connectTimeout(n)))
		close(start)
		close(closeNow)
		killAll()
		return sample{}, fail
	}
	var res sample
	if !failed.Load() {
		limit := phaseTimeout + time.Duration(n*rounds)*time.Millisecond
		m := startMeter()
		close(start)
		if !waitGroup(&done, limit) {
			setFail(timeoutErr("round trips", limit))
			killAll()
		}
		res = m.stop(int64(n * rounds))
		res.lat = lat
		res.bytes = res.ops * int64(len(msg))
	} else {
		close(start)
	}
	close(closeNow)
	if !waitGroup(&closed, phaseTimeout+time.Second) {
		killAll()
	}
	return res, fail
}

// idle: dialWindow goroutines dial n connections; each connection then
// has its reader goroutine, blocked in Recv until the close.
func (b blib) idle(urls []string, n int) (sample, error) {
	base := takeIdleSnapshot()
	var (
		conns   = make([]bconn, n)
		next    atomic.Int64
		workers sync.WaitGroup
		readers sync.WaitGroup
		failMu  sync.Mutex
		fail    error
		failed  atomic.Bool
		closing atomic.Bool
	)
	setFail := func(err error) {
		failMu.Lock()
		if fail == nil {
			fail = err
		}
		failMu.Unlock()
		failed.Store(true)
	}
	m := startMeter()
	for range min(dialWindow, n) {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				c, err := b.dialTimeout(urls[i%len(urls)])
				if err != nil {
					setFail(fmt.Errorf("conn %d: %w", i, err))
					return
				}
				conns[i] = c
				readers.Add(1)
				go func() {
					defer readers.Done()
					for {
						if _, err := c.Recv(); err != nil {
							if !closing.Load() {
								setFail(fmt.Errorf("conn %d: %w", i, err))
							}
							c.Kill()
							return
						}
					}
				}()
			}
		}()
	}
	connected := waitGroup(&workers, connectTimeout(n))
	res := m.stop(int64(n))
	if !connected {
		// The workers stop after their current dial, which its own
		// timeout bounds; no reader is added after this.
		setFail(timeoutErr("connect", connectTimeout(n)))
		workers.Wait()
	}
	if !failed.Load() {
		base.finish(&res, n)
	}

	// Close: a close frame on each, sent by dialWindow goroutines; the
	// reader goroutines end as the answers come.
	closing.Store(true)
	closeAll(conns, &readers)
	failMu.Lock()
	defer failMu.Unlock()
	return res, fail
}

// waitGroup waits for wg at most d and reports whether it finished.
func waitGroup(wg *sync.WaitGroup, d time.Duration) bool {
	ch := make(chan struct{})
	go func() {
		wg.Wait()
		close(ch)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

// closeAll sends a close frame on each connection, from dialWindow
// goroutines, and waits for the reader goroutines to end as the answers
// come; past phaseTimeout it kills the connections still open.
func closeAll(conns []bconn, readers *sync.WaitGroup) {
	var idx atomic.Int64
	var closers sync.WaitGroup
	for range min(dialWindow, len(conns)) {
		closers.Add(1)
		go func() {
			defer closers.Done()
			for {
				i := int(idx.Add(1) - 1)
				if i >= len(conns) {
					return
				}
				if c := conns[i]; c != nil {
					if c.StartClose() != nil {
						c.Kill()
					}
				}
			}
		}()
	}
	closers.Wait()
	if !waitGroup(readers, phaseTimeout) {
		for _, c := range conns {
			if c != nil {
				c.Kill()
			}
		}
		readers.Wait()
	}
}
