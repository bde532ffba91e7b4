package websocket

import (
	"errors"
	"log/slog"
	"time"

	"github.com/wsloop/websocket/internal/bufpool"
	"github.com/wsloop/websocket/internal/dial"
	"github.com/wsloop/websocket/internal/protocol"
)

// This file is the socket's life on its loop: the dial's outcome, bytes in,
// the closing handshake and the end. Everything here runs on the loop's
// goroutine.

// ioHandler is the socket as the poller sees it; a separate type keeps
// OnRead and friends out of the WebSocket's public methods.
type ioHandler WebSocket

func (h *ioHandler) OnRead(p []byte) {
	h.loop.unpark()
	if h.ka != nil {
		h.ka.lastRecv = monotime()
	}
	h.counts.bytesIn.Add(uint64(len(p)))
	(*WebSocket)(h).onRead(p)
}

func (h *ioHandler) OnWritable() {
	h.loop.unpark()
	(*WebSocket)(h).onWritable()
}

func (h *ioHandler) OnHangup(err error) {
	h.loop.unpark()
	(*WebSocket)(h).onHangup()
}

func (ws *WebSocket) onDialed(res dial.Result, err error) {
	ws.dialing = false
	ws.mu.Lock()
	ws.cancelDial = nil // the dial's context is done: let it go
	if ws.ReadyState() != Connecting {
		// Close was called while connecting; its task has fired the
		// events already.
		ws.mu.Unlock()
		if res.Conn != nil {
			res.Conn.Close()
		}
		ws.maybeRelease()
		return
	}
	if err == nil {
		ws.conn, err = ws.loop.poller.Add(res.Conn, (*ioHandler)(ws))
		if err != nil {
			// The poller could not take the connection: a descriptor
			// (the open-file limit) or a place in epoll or kqueue.
			res.Conn.Close()
			err = &ResourceError{Err: err}
		}
	}
	if err != nil {
		ws.mu.Unlock()
		ws.fireClose(CloseEvent{Target: ws, Code: CloseAbnormal}, publicDialError(err))
		ws.maybeRelease()
		return
	}
	reopen := ws.opened
	ws.zneg = nil
	var deflate *protocol.Deflate
	if res.Deflate != nil {
		ws.zneg = ws.loop.negotiated(res.Extensions, res.Deflate, int(ws.zThreshold))
		deflate = ws.zneg.d
	}
	if ws.core == nil {
		ws.core = ws.newCore(deflate)
	} else {
		// Reconnected: the queue kept its messages uncompressed, and the
		// new connection settles its own compression.
		ws.core.SetDeflate(deflate)
		if ws.core.Pending() > 0 {
			ws.markDirtyLocked() // what was sent while reconnecting
		}
	}
	ws.protocol = res.Protocol
	if ws.in != nil {
		ws.in.head = res.Head
		ws.in.local, ws.in.remote = res.Conn.LocalAddr(), res.Conn.RemoteAddr()
		if ws.in.paused {
			ws.conn.SetPaused(true)
		}
	}
	if ws.rc != nil {
		ws.rc.openedAt = monotime()
	}
	ws.state.Store(int32(Open))
	ws.opened = true
	ws.signalLocked()
	ws.mu.Unlock()

	ws.startKeepalive()
	ws.logAt(slog.LevelInfo, "open", "protocol", res.Protocol)
	emit(ws, ws.OnOpen, OpenEvent{Target: ws, head: res.Head}, reopen)
	if len(res.Leftover) > 0 {
		ws.counts.bytesIn.Add(uint64(len(res.Leftover)))
		ws.onRead(res.Leftover)
	}
}

// abortConnecting fails a socket closed while connecting, as the browser
// does: error, then close 1006.
func (ws *WebSocket) abortConnecting() {
	if ws.rc != nil && ws.rc.timer != nil {
		ws.rc.timer.Stop()
		ws.rc.timer = nil
	}
	ws.mu.Lock()
	if ws.core != nil {
		ws.dropLocked(ws.core.Discard()) // what was queued while reconnecting
	}
	ws.mu.Unlock()
	ws.fireClose(CloseEvent{Target: ws, Code: CloseAbnormal}, ErrClosedWhileConnecting)
	ws.maybeRelease()
}

// onRead delivers each event as soon as the core completes it, so a
// handler that closes the socket stops the messages behind it in the same
// read, as in the browser. Output the core queues (pongs, the close echo)
// is held with the handlers' sends and written at the end of the loop's
// task, or of a message event's: pings read together get one pong, the
// answer to the last (RFC 6455 5.5.3).
func (ws *WebSocket) onRead(p []byte) {
	if ws.closeFired {
		return // draining after a failure
	}
	var err error
	for len(p) > 0 && err == nil {
		// Whole messages are taken without ws.mu, which guards the core
		// against senders on other goroutines: TakeMessage only reads the
		// input side's state, which only this goroutine changes (in Next,
		// under the lock). Next, for everything else, may queue a pong or
		// a close.
		e, n, ok := ws.core.TakeMessage(p)
		if ok {
			p = p[n:]
		} else {
			ws.mu.Lock()
			e, n, err = ws.core.Next(p)
			p = p[n:]
			if len(ws.core.Output()) > 0 {
				ws.markDirtyLocked()
			}
			ws.mu.Unlock()
		}
		switch e.Kind {
		case protocol.KindMessage:
			switch {
			case ws.ReadyState() != Open:
				bufpool.Put(e.Data) // never seen by anyone
			case ws.stream:
				// Parts go to the inbox only: handlers take whole messages.
				if !e.More {
					ws.counts.msgsIn.Add(1)
				}
				ws.deliver(MessageEvent{Target: ws, Data: e.Data, Binary: e.Binary, more: e.More})
			default:
				ws.counts.msgsIn.Add(1)
				emit(ws, ws.OnMessage, MessageEvent{Target: ws, Data: e.Data, Binary: e.Binary}, true)
				if len(p) > 0 {
					// Each message event is a task of its own (WHATWG:
					// "queue a task" per message): what its handler sent
					// is written before the next one, which reads
					// BufferedAmount without it, as in the browser.
					ws.loop.flushDirty()
				}
			}
		case protocol.KindPing:
			if ws.ReadyState() == Open {
				emit(ws, ws.OnPing, PingEvent{Target: ws, Data: e.Data}, true)
			}
		case protocol.KindPong:
			if ws.ReadyState() == Open {
				emit(ws, ws.OnPong, PongEvent{Target: ws, Data: e.Data, RTT: ws.pongRTT(e.Data)}, true)
			}
		case protocol.KindClose:
			ws.onCloseFrame(e.Code, e.Reason)
		}
	}
	if err != nil {
		// The core has queued the close frame that reports it.
		var pe *protocol.Error
		if errors.As(err, &pe) {
			ws.failProtocol(&ProtocolError{Code: int(pe.Code), Reason: pe.Reason})
		}
	}
}

// onCloseFrame handles the server's close frame: the core has queued the
// echo (unless the client closed first). The connection is closed once the
// server ends TCP, or after CloseTimeout.
func (ws *WebSocket) onCloseFrame(code uint16, reason string) {
	ws.gotClose = true
	if ws.up != nil {
		// The server ends TCP first (RFC 6455 7.1.1), once its close
		// frame is written: the client closes when it sees the end.
		ws.mu.Lock()
		ws.shutdownWait = true
		ws.shutdownIfDrainedLocked()
		ws.mu.Unlock()
	}
	ev := CloseEvent{Target: ws, Code: int(code), Reason: reason, WasClean: true}
	if code == 0 {
		ev.Code = CloseNoStatus
	}
	ws.mu.Lock()
	ws.endingLocked().ev = ev
	ws.mu.Unlock()
	if ws.ReadyState() == Open {
		by := "the server closes"
		if ws.up != nil {
			by = "the client closes"
		}
		ws.logAt(slog.LevelDebug, by, "code", code, "reason", reason)
	}
	ws.mu.Lock()
	if ws.ReadyState() == Open {
		ws.state.Store(int32(Closing))
	}
	ws.armCloseTimerLocked()
	ws.mu.Unlock()
}

// failProtocol fails the connection for the server's protocol violation:
// the core has queued a close frame with the code; once it is written the
// client half-closes and reads until the server's FIN (or CloseTimeout), so
// the server sees the code rather than a reset.
func (ws *WebSocket) failProtocol(err error) {
	ws.mu.Lock()
	ws.state.Store(int32(Closing))
	ws.shutdownWait = true
	ws.shutdownIfDrainedLocked()
	ws.armCloseTimerLocked()
	ws.mu.Unlock()
	ws.fireClose(CloseEvent{Target: ws, Code: CloseAbnormal}, err)
}

func (ws *WebSocket) onWritable() {
	ws.mu.Lock()
	ws.waitWritable = false
	ws.mu.Unlock()
	ws.flushHeld()
}

// onHangup is the end of the server's input: clean when its close frame
// came first, abnormal (1006, no error event, as browsers do) otherwise.
func (ws *WebSocket) onHangup() {
	if !ws.closeFired {
		if ws.gotClose {
			ws.fireClose(ws.end.ev, nil) // set with gotClose
		} else {
			ws.fireClose(CloseEvent{Target: ws, Code: CloseAbnormal}, nil)
		}
	}
	ws.closeTCP()
}

// flushLocked hands the core's output to the connection, as much as it
// takes now. It runs on the loop.
func (ws *WebSocket) flushLocked() {
	if !ws.writableLocked() {
		return
	}
	// A large backlog comes in several buffers, one at a time.
	for out := ws.core.Output(); len(out) > 0; out = ws.core.Output() {
		n, err := ws.conn.Write(out)
		if !ws.wroteLocked(len(out), n, err) {
			return
		}
	}
}

// writableLocked reports whether the socket's output may be handed to
// the kernel now.
func (ws *WebSocket) writableLocked() bool {
	return ws.conn != nil && !ws.waitWritable && !ws.writeFailed
}

// wroteLocked takes the result of writing the core's out bytes, n of
// which the kernel took, and reports whether the next buffer may follow.
func (ws *WebSocket) wroteLocked(out, n int, err error) bool {
	ws.core.Advance(n)
	ws.counts.bytesOut.Add(uint64(n))
	if n > 0 && ws.end != nil && ws.end.timer != nil {
		ws.end.clock = time.Now() // the closing handshake is making progress
	}
	if err != nil {
		ws.writeFailed = true
		if ws.ReadyState() == Open {
			ws.state.Store(int32(Closing))
		}
		gen := ws.gen
		ws.loop.post(func() {
			ws.mu.Lock()
			same := ws.gen == gen
			ws.mu.Unlock()
			if same { // not a connection lost and replaced since
				ws.onHangup()
			}
		}, false)
		return false
	}
	if n < out {
		ws.waitWritable = true
		return false
	}
	return true
}

func (ws *WebSocket) shutdownIfDrainedLocked() {
	if ws.shutdownWait && ws.conn != nil && !ws.waitWritable && len(ws.core.Output()) == 0 {
		ws.shutdownWait = false
		ws.conn.CloseWrite()
	}
}

// armCloseTimerLocked starts the clock of the closing handshake: a
// handshake the server does not finish in time ends as if the server had
// ended TCP. The clock measures the handshake, not the backlog ahead of the
// close frame, so that data sent before Close is not cut off while the
// server reads it, however slowly: it restarts whenever bytes are written,
// and, once everything is written, whenever the kernel's send queue (which
// may hold megabytes ahead of the close frame) is found shorter than the
// last time the timer looked. So the close frame gets CloseTimeout from
// about the moment the server took it, and a server that stops reading
// gets CloseTimeout from its last read.
func (ws *WebSocket) armCloseTimerLocked() {
	if e := ws.endingLocked(); e.timer == nil {
		e.clock = time.Now()
		e.timer = ws.loop.timeout(ws.onCloseTimeout, ws.closeTimeout)
	}
}

func (ws *WebSocket) onCloseTimeout() {
	ws.mu.Lock()
	e := ws.end // the timer made it
	left := ws.closeTimeout - time.Since(e.clock)
	if left <= 0 && ws.conn != nil {
		q := ws.conn.Unsent()
		if q > 0 && q != e.unsent || q == 0 && e.unsent > 0 {
			// The server is reading what the kernel holds, or has just
			// taken the last of it.
			e.unsent = q
			e.clock = time.Now()
			left = ws.closeTimeout
		}
	}
	if left > 0 && ws.conn != nil {
		e.timer = ws.loop.timeout(ws.onCloseTimeout, left)
		ws.mu.Unlock()
		return
	}
	ws.mu.Unlock()
	ws.onHangup()
}

// fireClose moves to Closed and fires error (when err is set) and close,
// once.
func (ws *WebSocket) fireClose(ev CloseEvent, err error) {
	if ws.closeFired {
		return
	}
	if ws.rc != nil && ws.retry(ev, err) {
		ws.reconnect(ev, err)
		return
	}
	ws.closeFired = true
	ws.logClose(ev, err)
	ws.mu.Lock()
	e := ws.endingLocked()
	e.ev = ev
	if err != nil {
		e.err = err
	}
	ws.state.Store(int32(Closed))
	ws.signalLocked()
	ws.mu.Unlock()
	if err != nil {
		emit(ws, ws.OnError, ErrorEvent{Target: ws, Err: err}, false)
	}
	emit(ws, ws.OnClose, ev, false)
}

// closeTCP closes the connection and, the close event being fired,
// releases the socket's hold on the loop and its buffers: what was never
// written stays counted in BufferedAmount, as the standard says.
func (ws *WebSocket) closeTCP() {
	if !ws.closeFired {
		return // reconnecting: dropConnection has closed it
	}
	ws.stopKeepalive()
	ws.mu.Lock()
	c := ws.conn
	ws.conn = nil
	if e := ws.end; e != nil && e.timer != nil {
		e.timer.Stop()
	}
	if ws.core != nil {
		ws.dropLocked(ws.core.Discard())
	}
	ws.mu.Unlock()
	if c != nil {
		c.Close()
	}
	ws.maybeRelease()
}

// maybeRelease lets the loop end once nothing of the socket is left: the
// close event fired, no dial in flight, no connection open.
func (ws *WebSocket) maybeRelease() {
	if ws.released.Load() || !ws.closeFired || ws.dialing {
		return
	}
	ws.mu.Lock()
	open := ws.conn != nil
	ws.mu.Unlock()
	if open {
		return
	}
	// Off the loop's registry (and the Upgrader's count) before a
	// blocking call that waits for the release returns: from then on,
	// nothing of the socket is left.
	ws.loop.remove(ws)
	ws.mu.Lock()
	ws.released.Store(true)
	ws.signalLocked()
	ws.mu.Unlock()
}

// publicDialError gives a dial failure its exported type.
func publicDialError(err error) error {
	var ee *dial.EnvError
	if errors.As(err, &ee) {
		// A redirect's hop whose proxy the environment names wrongly.
		return &ConfigError{Field: "Proxy", Msg: "(unset, so the environment is read) " + ee.Error()}
	}
	var pe *dial.ProxyError
	if errors.As(err, &pe) {
		return &ProxyError{
			Proxy: pe.Proxy, Failure: ProxyFailure(pe.Failure),
			StatusCode: pe.StatusCode, Status: pe.Status, Reply: pe.Reply,
			Err: publicDialError(pe.Err),
		}
	}
	var de *dial.Error
	if !errors.As(err, &de) {
		return err
	}
	switch de.Stage {
	case dial.StageDNS:
		return &DNSError{Host: de.Addr, Err: de.Err}
	case dial.StageConnect:
		return &ConnectError{Addr: de.Addr, Err: de.Err}
	case dial.StageTLS:
		return &TLSError{Reason: tlsReason(de.Err), Err: de.Err}
	default:
		return &HandshakeError{StatusCode: de.Status, Status: de.StatusLine, Header: de.Header, Body: de.Body, Err: de.Err}
	}
}

// emit fires e: the On* handler, the listeners, and, when kept is set and
// the socket was made by Dial, the blocking API's inbox. It is generic so
// that e is boxed into an Event only when a listener or the inbox needs
// it: a message costs no allocation beyond its payload.
func emit[E Event](ws *WebSocket, handler func(E), e E, kept bool) {
	call(ws.loop, handler, e)
	if ws.listeners != nil {
		ws.dispatch(e)
	}
	if kept && ws.in != nil {
		ws.deliver(e)
	}
}
