package websocket

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
)

// ErrNotDialed is returned by the blocking receive calls on a socket made by
// New, NewWithConfig or Upgrader.Handler: such a socket hands its messages
// to its event handlers and keeps none for a blocking call to take.
var ErrNotDialed = errors.New("websocket: blocking receive on a socket not made by Dial or Upgrader.Upgrade")

// inbox is what a socket made by Dial keeps for the blocking calls: the
// loop fills it, the program's goroutines take from it, under ws.mu.
type inbox struct {
	events        []Event
	bytes         int           // what events hold, as counted against max
	max           int           // Config.MaxInboxSize
	paused        bool          // full: the loop does not read the socket
	resumePosted  bool          // a task to read it again is on its way
	notify        chan struct{} // closed when a blocking call may go on; made by a waiter
	head          []byte        // the handshake response's, for ResponseHeader
	local, remote net.Addr      // the connection's addresses, for NetConn
	partsLeft     atomic.Bool   // a message streamed in parts is being taken (StreamMessages)
}

// inboxOverhead is what an event in the inbox counts against MaxInboxSize
// beyond its payload, so that a flood of empty pings is bounded too.
const inboxOverhead = 64

// Dial connects to url and returns the socket once it is open, or the
// reason it could not open (*SyntaxError, *ConfigError, *DNSError,
// *ConnectError, *TLSError, *HandshakeError, *ResourceError, or ctx's error: a ctx done
// before Dial returns always gives ctx's error, and the socket, open or
// not, is closed). cfg may be nil.
//
// The socket lives on an event loop that runs in the background: the
// process's background loop, started on first use on a goroutine of its
// own and ended once it holds no socket, or cfg.Loop when set, which the
// program then runs. So between the program's calls the socket answers
// pings, writes what Send queued and sees the close; every dialed socket
// on a loop shares that loop's goroutine and poller, and costs one file
// descriptor. A blocking call that waits on a socket of the background
// loop while nobody else runs the loop runs it itself, on the caller's
// goroutine, until its wait is over: a blocking round trip then wakes one
// goroutine, not two. Between such calls the loop is left to them; work
// that comes then (a ping, a timer, a send from another goroutine) is
// done by the next call, or by the loop's goroutine, which takes the loop
// back within about a millisecond when no call comes. The loop is never
// left so while several calls wait, or while it serves sockets that only
// handlers read (Upgrader.Handler's).
//
// The socket keeps what it receives in an inbox, for WaitForNextMessage
// and LowLevelReceive, bounded by Config.MaxInboxSize: a program that does
// not read makes the loop stop reading the socket, and the server wait.
// Event handlers still fire, on the goroutine running the loop (its own,
// or a blocking call's), before the event goes to the inbox (so a handler
// must not Release a message: the inbox still holds it). Since the loop
// runs apart from the program's other goroutines, a handler (or listener)
// is set on a dialed socket from a task on its loop, with
// ws.Loop().Post; a blocking call from a handler returns ErrLoopRunning
// when it would have to wait, as it would wait for itself.
//
// Close and CloseWith on a dialed socket wait for the closing handshake to
// end (at most Config.CloseTimeout after the last byte was written), so
// that `defer ws.Close()` leaves nothing behind.
func Dial(ctx context.Context, url string, cfg *Config) (*WebSocket, error) {
	c, err := cfg.withDefaults(backgroundLoop)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if c.Loop.onLoop() {
		return nil, ErrLoopRunning
	}
	ws, err := newSocket(ctx, url, c, true)
	if err != nil {
		return nil, err
	}
	err = ws.await(ctx, func() bool { return ws.ReadyState() != Connecting })
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		// Cancelled: the dial is aborted, or the open socket closed; its
		// loop finishes that without us.
		ws.close(0, "")
		return nil, err
	}
	ws.mu.Lock()
	opened := ws.opened
	var failErr error
	if ws.end != nil {
		failErr = ws.end.err
	}
	ws.mu.Unlock()
	if !opened {
		if failErr == nil {
			return nil, ws.closedError()
		}
		return nil, failErr
	}
	// An opened socket is returned even if frames that came with the
	// handshake response have closed it already: its messages wait in
	// the inbox, then the ClosedError.
	return ws, nil
}

// await blocks until ready (called with ws.mu held) reports true, or ctx
// is done. Whatever ready looks at is changed under ws.mu with a signal.
// On the background loop, a call that finds nobody running the loop runs
// it itself while it waits (lend.go).
func (ws *WebSocket) await(ctx context.Context, ready func() bool) error {
	l := ws.loop
	for {
		ws.mu.Lock()
		ok := ready()
		ws.mu.Unlock()
		if ok {
			return nil
		}
		if l.tryDrive() {
			if err := l.drive(ctx, ws, ready); err != nil {
				return err
			}
			continue
		}
		ws.mu.Lock()
		if ready() {
			ws.mu.Unlock()
			return nil
		}
		if ws.in.notify == nil {
			ws.in.notify = make(chan struct{})
		}
		ch := ws.in.notify
		ws.mu.Unlock()
		var lend chan struct{}
		if l.background {
			if lend, ok = l.block(); !ok {
				continue
			}
		}
		var err error
		select {
		case <-ch:
		case <-lend:
		case <-ctx.Done():
			err = ctx.Err()
		}
		if lend != nil {
			l.unblock()
		}
		if err != nil {
			return err
		}
	}
}

// signalLocked wakes the blocking calls waiting on the socket; ws.mu is
// held.
func (ws *WebSocket) signalLocked() {
	ws.wakeWritersLocked()
	if ws.in != nil && ws.in.notify != nil {
		close(ws.in.notify)
		ws.in.notify = nil
	}
}

// finishClose waits, on a dialed socket, until nothing of it is left on its
// loop. From a callback on that loop it returns at once: the loop finishes
// the close.
func (ws *WebSocket) finishClose() {
	if ws.in == nil || ws.loop.onLoop() {
		return
	}
	ws.await(context.Background(), ws.released.Load)
}

// deliver keeps e for the blocking API, on the loop; past MaxInboxSize the
// loop stops reading the socket.
func (ws *WebSocket) deliver(e Event) {
	ws.mu.Lock()
	ws.in.events = append(ws.in.events, e)
	ws.in.bytes += inboxSize(e)
	if ws.in.bytes >= ws.in.max && !ws.in.paused && ws.conn != nil {
		ws.in.paused = true
		ws.conn.SetPaused(true)
	}
	ws.signalLocked()
	ws.mu.Unlock()
}

func inboxSize(e Event) int {
	switch e := e.(type) {
	case MessageEvent:
		return inboxOverhead + len(e.Data)
	case PingEvent:
		return inboxOverhead + len(e.Data)
	case PongEvent:
		return inboxOverhead + len(e.Data)
	}
	return inboxOverhead
}

// resume reads the socket again once the program has taken half of a full
// inbox, or has closed it: the server's close frame must be read, and
// messages after Close are dropped anyway. It runs on the loop.
func (ws *WebSocket) resume() {
	ws.mu.Lock()
	ws.in.resumePosted = false
	if ws.in.paused && (ws.in.bytes <= ws.in.max/2 || ws.ReadyState() != Open) {
		ws.in.paused = false
		if ws.conn != nil {
			ws.conn.SetPaused(false)
		}
	}
	ws.mu.Unlock()
}

// WaitForNextMessage returns the next message from the socket's inbox,
// waiting for one to arrive. Once the socket is closed and its messages are
// taken, it returns a *ClosedError carrying the CloseEvent
// (errors.Is(err, ErrClosed) holds). Pings, pongs and, with
// Config.Reconnect, reconnect and open events waiting before the message
// are skipped: a socket that reconnects goes on returning messages. It is for sockets made by Dial or Upgrader.Upgrade (ErrNotDialed
// otherwise) and safe from any goroutine; one made from an event handler of
// a socket on the same loop returns ErrLoopRunning instead of waiting.
func (ws *WebSocket) WaitForNextMessage(ctx context.Context) (MessageEvent, error) {
	for {
		e, err := ws.receiveWhole(ctx, true)
		if err != nil {
			return MessageEvent{}, err
		}
		if m, ok := e.(MessageEvent); ok {
			return m, nil
		}
	}
}

// LowLevelReceive returns the next thing received of any kind: a
// MessageEvent, PingEvent or PongEvent, in arrival order, and, with
// Config.Reconnect, a ReconnectEvent for each attempt after the connection
// was lost and an OpenEvent when it is back (a program that subscribes to
// a feed subscribes again then); after the close,
// a *ClosedError as WaitForNextMessage.
func (ws *WebSocket) LowLevelReceive(ctx context.Context) (Event, error) {
	return ws.receiveWhole(ctx, false)
}

// receiveWhole is receive with a message streamed in parts
// (StreamMessages) put together first; pings and pongs among its parts are
// passed over. The rest of a message a MessageReader left is skipped.
func (ws *WebSocket) receiveWhole(ctx context.Context, messagesOnly bool) (Event, error) {
	if !ws.stream {
		return ws.receive(ctx, messagesOnly)
	}
	for ws.in.partsLeft.Load() {
		if _, _, err := ws.nextPart(ctx); err != nil {
			return nil, err
		}
	}
	e, err := ws.receive(ctx, messagesOnly)
	if m, ok := e.(MessageEvent); ok && m.more {
		ws.in.partsLeft.Store(true)
		return ws.assemble(ctx, m)
	}
	return e, err
}

func (ws *WebSocket) receive(ctx context.Context, messagesOnly bool) (Event, error) {
	if ws.in == nil {
		return nil, ErrNotDialed
	}
	ready := func() bool {
		if messagesOnly {
			// Pings waiting for a message must not pile up.
			for len(ws.in.events) > 0 {
				if _, ok := ws.in.events[0].(MessageEvent); ok {
					break
				}
				ws.popLocked()
			}
		}
		// A closed socket is reported once it is gone from its loop, so
		// that nothing of it is left when the program sees the end.
		return len(ws.in.events) > 0 || ws.released.Load()
	}
	ws.mu.Lock()
	ok := ready()
	ws.mu.Unlock()
	if !ok {
		if ws.loop.onLoop() {
			return nil, ErrLoopRunning
		}
		if err := ws.await(ctx, ready); err != nil {
			return nil, err
		}
	}
	ws.mu.Lock()
	if len(ws.in.events) > 0 {
		e := ws.popLocked()
		ws.mu.Unlock()
		return e, nil
	}
	ws.mu.Unlock()
	return nil, ws.closedError()
}

// popLocked takes the inbox's first event; a paused socket is read again
// once half the inbox is taken.
func (ws *WebSocket) popLocked() Event {
	e := ws.in.events[0]
	ws.in.events[0] = nil
	ws.in.events = ws.in.events[1:]
	if len(ws.in.events) == 0 {
		ws.in.events = nil
	}
	ws.in.bytes -= inboxSize(e)
	if ws.in.bytes <= ws.in.max/2 {
		ws.postResumeLocked()
	}
	return e
}

// postResumeLocked has the loop read a paused socket again.
func (ws *WebSocket) postResumeLocked() {
	if ws.in != nil && ws.in.paused && !ws.in.resumePosted {
		ws.in.resumePosted = true
		ws.loop.post(ws.resume, false)
	}
}

func (ws *WebSocket) closedError() error {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if e := ws.end; e != nil {
		return &ClosedError{Event: e.ev, Err: e.err}
	}
	return &ClosedError{}
}

// IsMessageBuffered reports whether a received message is waiting, so that
// WaitForNextMessage would return without waiting.
func (ws *WebSocket) IsMessageBuffered() bool {
	if ws.in == nil {
		return false
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for _, e := range ws.in.events {
		if _, ok := e.(MessageEvent); ok {
			return true
		}
	}
	return false
}

// IsDataPending reports whether anything received is waiting: a message,
// ping or pong not yet taken, or part of a message still arriving.
func (ws *WebSocket) IsDataPending() bool {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.in != nil && len(ws.in.events) > 0 || ws.core != nil && ws.core.Partial()
}
