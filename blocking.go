package websocket

import (
	"context"
	"errors"
)

// ErrNotDialed is returned by the blocking receive calls on a socket made by
// New or NewWithConfig: such a socket hands its messages to its event
// handlers and keeps none for a blocking call to take.
var ErrNotDialed = errors.New("websocket: blocking receive on a socket not made by Dial")

// Dial connects to url and returns the socket once it is open, or the
// reason it could not open (*SyntaxError, *ConfigError, *DNSError,
// *ConnectError, *TLSError, *HandshakeError, or ctx's error). cfg may be
// nil; its Loop is ignored.
//
// A dialed socket has a private loop, driven by the blocking calls
// (WaitForNextMessage, LowLevelReceive) on the goroutine that makes them,
// and keeps every message it receives for them. Event handlers still fire,
// during those calls. Send works from any goroutine; bytes the kernel
// cannot take at once are written while a blocking call runs. Close and
// CloseWith on a dialed socket wait, up to Config.CloseTimeout, for the
// closing handshake to end (taking turns with a blocking call in progress
// on another goroutine), so that `defer ws.Close()` leaves nothing behind.
func Dial(ctx context.Context, url string, cfg *Config) (*WebSocket, error) {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	c.Loop = NewEventLoop()
	ws, err := NewWithConfig(url, &c)
	if err != nil {
		return nil, err
	}
	ws.mu.Lock()
	ws.blocking = true
	ws.mu.Unlock()

	err = c.Loop.runBlocking(ctx, func() bool { return ws.ReadyState() != Connecting })
	if err != nil {
		ws.Close() // the dial was cancelled: this ends at once
		return nil, err
	}
	ws.mu.Lock()
	opened, failErr := ws.opened, ws.failErr
	ws.mu.Unlock()
	if !opened {
		// It failed before opening: the failure is the answer.
		ws.finishClose()
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

// finishClose runs a dialed socket's private loop until nothing of the
// socket is left, taking its turn after a blocking call running it on
// another goroutine. From a callback on that loop it returns at once: the
// loop's run finishes the close.
func (ws *WebSocket) finishClose() {
	if ws.blocking { // a dialed socket, alone on its private loop
		ws.loop.runBlocking(context.Background(), ws.released.Load)
	}
}

// deliver keeps e for the blocking API.
func (ws *WebSocket) deliver(e Event) {
	ws.mu.Lock()
	ws.inbox = append(ws.inbox, e)
	ws.mu.Unlock()
}

// WaitForNextMessage returns the next message, running the socket's loop on
// the calling goroutine until one arrives. Once the socket is closed and its
// messages are taken, it returns a *ClosedError carrying the CloseEvent
// (errors.Is(err, ErrClosed) holds). Pings and pongs waiting before the
// message are skipped. It is for sockets made by Dial (ErrNotDialed
// otherwise). Concurrent blocking calls take turns; one made from an event
// handler of the same socket returns ErrLoopRunning rather than deadlock.
func (ws *WebSocket) WaitForNextMessage(ctx context.Context) (MessageEvent, error) {
	for {
		e, err := ws.receive(ctx, true)
		if err != nil {
			return MessageEvent{}, err
		}
		if m, ok := e.(MessageEvent); ok {
			return m, nil
		}
	}
}

// LowLevelReceive returns the next thing received of any kind: a
// MessageEvent, PingEvent or PongEvent, in arrival order; after the close,
// a *ClosedError as WaitForNextMessage.
func (ws *WebSocket) LowLevelReceive(ctx context.Context) (Event, error) {
	return ws.receive(ctx, false)
}

func (ws *WebSocket) receive(ctx context.Context, messagesOnly bool) (Event, error) {
	ws.mu.Lock()
	blocking := ws.blocking
	ws.mu.Unlock()
	if !blocking {
		return nil, ErrNotDialed
	}
	ready := func() bool {
		ws.mu.Lock()
		defer ws.mu.Unlock()
		if messagesOnly {
			// Pings waiting for a message must not pile up.
			for len(ws.inbox) > 0 {
				if _, ok := ws.inbox[0].(MessageEvent); ok {
					break
				}
				ws.popLocked()
			}
		}
		// A closed socket is reported once it is gone from its loop, so
		// that the call which sees the close also finishes it.
		return len(ws.inbox) > 0 || ws.released.Load()
	}
	for {
		if ready() {
			ws.mu.Lock()
			if len(ws.inbox) > 0 {
				e := ws.popLocked()
				ws.mu.Unlock()
				return e, nil
			}
			ws.mu.Unlock()
			return nil, ws.closedError()
		}
		if err := ws.loop.runBlocking(ctx, ready); err != nil {
			return nil, err
		}
	}
}

func (ws *WebSocket) popLocked() Event {
	e := ws.inbox[0]
	ws.inbox[0] = nil
	ws.inbox = ws.inbox[1:]
	if len(ws.inbox) == 0 {
		ws.inbox = nil
	}
	return e
}

func (ws *WebSocket) closedError() error {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return &ClosedError{Event: ws.closeEv, Err: ws.failErr}
}

// IsMessageBuffered reports whether a received message is waiting, so that
// WaitForNextMessage would return without reading.
func (ws *WebSocket) IsMessageBuffered() bool {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for _, e := range ws.inbox {
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
	return len(ws.inbox) > 0 || (ws.core != nil && ws.core.Partial())
}
