package websocket

import (
	"fmt"
	"net/http"
	"time"

	"github.com/wsloop/websocket/internal/bufpool"
	"github.com/wsloop/websocket/internal/dial"
)

// Event is any event a WebSocket fires. Its dynamic type is OpenEvent,
// MessageEvent, ErrorEvent, CloseEvent, PingEvent, PongEvent,
// BufferedAmountLowEvent or ReconnectEvent: listeners
// added with AddEventListener use a type switch or assertion to reach the
// fields, as JavaScript code reads e.data or e.code.
type Event interface {
	// Type is the event's name: "open", "message", "error", "close",
	// "ping", "pong", "bufferedamountlow" or "reconnect".
	Type() string
	// Socket is the socket that fired the event, the Target field of
	// every event type (JavaScript's e.target).
	Socket() *WebSocket
	isEvent()
}

// OpenEvent fires once, when the connection is established.
type OpenEvent struct {
	Target *WebSocket
	head   []byte // the 101 response's head
}

// Header is the server's handshake response: its 101's header fields
// (Set-Cookie, Server, Sec-WebSocket-* and the rest), which a browser keeps
// from the page. It is parsed on each call, and only then, so that a
// handshake pays for it only when asked. A socket from New keeps nothing
// of it past this event, so that thousands of sockets do not pay for
// their headers; one from Dial keeps it for ResponseHeader.
func (e OpenEvent) Header() http.Header { return dial.ParseHeader(e.head) }

// MessageEvent carries one received message.
type MessageEvent struct {
	Target *WebSocket
	// Data is the whole message; it belongs to the receiver, which may keep
	// or modify it. Its capacity may exceed its length by up to a quarter:
	// message buffers come in size classes so that they can be recycled
	// (see Release).
	Data []byte
	// Binary reports a binary message; otherwise Data is valid UTF-8 text.
	Binary bool

	more bool // a part, with more to come (Config.StreamMessages), in the inbox only
}

// Text returns the message as a string, as JavaScript's e.data for a text
// message.
func (m MessageEvent) Text() string { return string(m.Data) }

// Release hands Data back to wsloop, to hold a later message (of any
// socket) instead of allocating a new buffer. It is optional: Data that is
// not released is garbage collected like any slice. At high message rates
// it is the collector's work on those buffers that costs, so releasing
// what you are done with is the one step that makes receiving cheaper:
// 1 KiB messages received and released cost about a third of the CPU
// time of ones left to the collector (0.37 µs against 1.1 µs each in the
// bench's recv, docs/PERFORMANCE.md).
//
// After Release, neither Data nor anything sliced from it may be used, by
// this handler or any other: do not release a message you stored or passed
// on, or one that another listener of the same event may still read, and
// release it only once. Release only events wsloop delivered: a buffer of
// your own given to Release would be handed to a later message while you
// still hold it. Text copies, so
//
//	s := e.Text()
//	e.Release()
//
// is safe. Release may be called from any goroutine.
func (m MessageEvent) Release() { bufpool.Put(m.Data) }

// ErrorEvent fires when the connection fails, just before the CloseEvent.
// Unlike the browser, which hides the cause, Err says what went wrong; use
// errors.As with *HandshakeError, *DNSError, *ConnectError, *TLSError,
// *ResourceError or *ProtocolError to tell the causes apart.
type ErrorEvent struct {
	Target *WebSocket
	Err    error
}

// PingEvent reports a ping from the server; the pong has already been
// queued, unless Config.ManualPong leaves answering it to the program.
// Browsers do not expose pings; Go programs sometimes want to see them.
type PingEvent struct {
	Target *WebSocket
	Data   []byte
}

// PongEvent reports a pong from the server, solicited by Ping (or a
// keepalive ping, see Config.PingInterval) or not.
type PongEvent struct {
	Target *WebSocket
	Data   []byte
	// RTT is the round-trip time of the ping this pong answers: the time
	// from the ping being queued to the pong being read. It is zero for a
	// pong that answers no ping of this socket's, or not its latest (only
	// the latest is remembered, as a server may answer only that one).
	RTT time.Duration
}

// BufferedAmountLowEvent fires when the send backlog has drained to
// Config.BufferedAmountLowThreshold; see WebSocket.OnBufferedAmountLow.
type BufferedAmountLowEvent struct {
	Target *WebSocket
}

// Type implements Event.
func (BufferedAmountLowEvent) Type() string { return "bufferedamountlow" }

func (BufferedAmountLowEvent) isEvent() {}

// Type implements Event.
func (OpenEvent) Type() string { return "open" }

// Type implements Event.
func (MessageEvent) Type() string { return "message" }

// Type implements Event.
func (ErrorEvent) Type() string { return "error" }

// Type implements Event.
func (CloseEvent) Type() string { return "close" }

// Type implements Event.
func (PingEvent) Type() string { return "ping" }

// Type implements Event.
func (PongEvent) Type() string { return "pong" }

// Socket implements Event.
func (e OpenEvent) Socket() *WebSocket { return e.Target }

// Socket implements Event.
func (e MessageEvent) Socket() *WebSocket { return e.Target }

// Socket implements Event.
func (e ErrorEvent) Socket() *WebSocket { return e.Target }

// Socket implements Event.
func (e CloseEvent) Socket() *WebSocket { return e.Target }

// Socket implements Event.
func (e PingEvent) Socket() *WebSocket { return e.Target }

// Socket implements Event.
func (e PongEvent) Socket() *WebSocket { return e.Target }

// Socket implements Event.
func (e BufferedAmountLowEvent) Socket() *WebSocket { return e.Target }

func (OpenEvent) isEvent()    {}
func (MessageEvent) isEvent() {}
func (ErrorEvent) isEvent()   {}
func (CloseEvent) isEvent()   {}
func (PingEvent) isEvent()    {}
func (PongEvent) isEvent()    {}

// listener is one AddEventListener registration; removed marks it for a
// dispatch already in progress.
type listener struct {
	typ     string
	fn      func(Event)
	removed bool
}

// AddEventListener adds fn as a listener for events of type typ ("open",
// "message", "error", "close", "ping", "pong", "bufferedamountlow",
// "reconnect") and
// returns a function that removes it. Listeners run in the order they were
// added, after the matching On* field (which counts as one more listener,
// always first). As in a browser, a listener added during a dispatch does
// not see that event and one removed during it is not called. Unlike a
// browser, which accepts any name and never fires a misspelt one, it
// panics on a type a WebSocket never fires: "mesage" is a bug to find at
// once. Call it on the loop's goroutine or before the loop runs.
func (ws *WebSocket) AddEventListener(typ string, fn func(Event)) (remove func()) {
	if !knownEventType(typ) {
		panic(fmt.Sprintf("websocket: AddEventListener(%q): a WebSocket fires no such event (open, message, error, close, ping, pong, bufferedamountlow, reconnect)", typ))
	}
	if fn == nil {
		return func() {}
	}
	li := &listener{typ: typ, fn: fn}
	if ws.listeners == nil {
		// Kept apart: few sockets have listeners, and a slice in
		// WebSocket would cost every socket 16 bytes more.
		ws.listeners = new([]*listener)
	}
	*ws.listeners = append(*ws.listeners, li)
	return func() {
		if li.removed {
			return
		}
		li.removed = true
		// Copy on write: a dispatch in progress keeps iterating its own
		// slice.
		kept := make([]*listener, 0, len(*ws.listeners)-1)
		for _, l := range *ws.listeners {
			if l != li {
				kept = append(kept, l)
			}
		}
		*ws.listeners = kept
	}
}

func knownEventType(typ string) bool {
	switch typ {
	case "open", "message", "error", "close", "ping", "pong", "bufferedamountlow", "reconnect":
		return true
	}
	return false
}

// dispatch calls the listeners of e's type. It runs on the loop.
func (ws *WebSocket) dispatch(e Event) {
	if ws.listeners == nil {
		return
	}
	typ := e.Type()
	for _, li := range *ws.listeners {
		if li.typ == typ && !li.removed {
			call(ws.loop, li.fn, e)
		}
	}
}
