package websocket

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// NetConn is a net.Conn view of a socket made by Dial (or Upgrade), so that io.Copy,
// bufio and protocols written for TCP run over a WebSocket: Read returns
// the bytes of the messages received, in order, as one stream (message
// boundaries are not kept; pings and pongs are skipped); Write sends each
// call's bytes as one message, binary or text (then each Write must be
// valid UTF-8: ErrInvalidUTF8 otherwise); Close closes the socket with
// 1000 and waits for the closing handshake. Read returns io.EOF once the
// server has closed the socket normally (1000, or a close frame without a
// code) and its messages are read, else the *ClosedError.
//
// Deadlines work as net.Conn says: a Read or Write waiting past one
// returns an error for which errors.Is(err, os.ErrDeadlineExceeded)
// holds, and a deadline moved later lets the next call wait again. Write
// waits, while the backlog is over Config.MaxBufferedAmount, for the loop
// to write it; it returns once the message is queued, not sent. It
// returns ErrNotDialed for a socket made by New, whose messages go to its
// handlers.
//
// Read and Write may be called at the same time; the view reads the
// socket's inbox, so it and WaitForNextMessage should not both be used.
func (ws *WebSocket) NetConn(binary bool) (net.Conn, error) {
	if ws.in == nil {
		return nil, ErrNotDialed
	}
	return &netConn{ws: ws, binary: binary, rd: newDeadline(), wd: newDeadline()}, nil
}

type netConn struct {
	ws     *WebSocket
	binary bool
	rmu    sync.Mutex // one Read at a time: rest belongs to it
	rest   []byte     // what the last Read left of its message
	rd, wd *deadline
}

func (c *netConn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if len(c.rest) == 0 {
		if len(p) == 0 {
			return 0, nil
		}
		m, err := c.ws.WaitForNextMessage(c.rd)
		if err != nil {
			var ce *ClosedError
			if errors.As(err, &ce) && ce.Err == nil && ce.Event.WasClean &&
				(ce.Event.Code == CloseNormal || ce.Event.Code == CloseNoStatus) {
				return 0, io.EOF
			}
			return 0, err
		}
		c.rest = m.Data
	}
	n := copy(p, c.rest)
	c.rest = c.rest[n:]
	return n, nil
}

func (c *netConn) Write(p []byte) (int, error) {
	ws := c.ws
	send := func() error {
		if c.binary {
			return ws.Send(p)
		}
		return ws.SendText(string(p))
	}
	for {
		ws.mu.Lock()
		ch := ws.drainChanLocked() // before the try, so no wake-up is missed
		ws.mu.Unlock()
		err := send()
		if err != ErrBufferFull {
			if err != nil {
				return 0, err
			}
			return len(p), nil
		}
		if ws.loop.onLoop() {
			return 0, ErrBufferFull // the loop cannot wait for itself
		}
		ws.loop.ensureRun()
		select {
		case <-ch:
		case <-c.wd.Done():
			return 0, c.wd.Err()
		}
	}
}

func (c *netConn) Close() error {
	return c.ws.CloseWith(CloseNormal, "")
}

func (c *netConn) LocalAddr() net.Addr  { return c.ws.in.local }
func (c *netConn) RemoteAddr() net.Addr { return c.ws.in.remote }

func (c *netConn) SetDeadline(t time.Time) error {
	c.rd.set(t)
	c.wd.set(t)
	return nil
}

func (c *netConn) SetReadDeadline(t time.Time) error  { c.rd.set(t); return nil }
func (c *netConn) SetWriteDeadline(t time.Time) error { c.wd.set(t); return nil }

// deadline is a net.Conn deadline as a context: Done is closed once the
// deadline passes, and replaced when it is moved to the future, so that a
// call waiting on it wakes when it passes, and one started after it was
// moved waits again.
type deadline struct {
	mu     sync.Mutex
	timer  *time.Timer
	passed chan struct{}
}

func newDeadline() *deadline { return &deadline{passed: make(chan struct{})} }

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.passed // its callback has closed it, or is about to
	}
	d.timer = nil
	closed := isClosed(d.passed)
	if t.IsZero() || time.Until(t) > 0 {
		if closed {
			d.passed = make(chan struct{})
		}
		if !t.IsZero() {
			ch := d.passed
			d.timer = time.AfterFunc(time.Until(t), func() { close(ch) })
		}
		return
	}
	if !closed {
		close(d.passed)
	}
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Deadline implements context.Context; the wait is through Done.
func (d *deadline) Deadline() (time.Time, bool) { return time.Time{}, false }

// Done implements context.Context.
func (d *deadline) Done() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.passed
}

// Err implements context.Context: os.ErrDeadlineExceeded once passed,
// which net.Conn's callers expect.
func (d *deadline) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if isClosed(d.passed) {
		return os.ErrDeadlineExceeded
	}
	return nil
}

// Value implements context.Context.
func (d *deadline) Value(any) any { return nil }

var _ context.Context = (*deadline)(nil)
