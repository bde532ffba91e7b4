// Package websocket is the browser's WebSocket, in Go: a WHATWG-shaped
// WebSocket object (ReadyState, BufferedAmount, OnOpen, OnMessage, OnError,
// OnClose) living on an event loop that runs every callback on one
// goroutine, one at a time, and multiplexes many sockets; plus a blocking
// API (Dial, WaitForNextMessage) on the same loop and protocol core.
//
// A program ported from JavaScript reads line for line:
//
//	ws, err := websocket.New("wss://example.org/feed", "v2.chat")
//	ws.OnOpen = func(websocket.OpenEvent) { ws.SendText("hello") }
//	ws.OnMessage = func(m websocket.MessageEvent) { fmt.Println(m.Text()) }
//	ws.OnClose = func(c websocket.CloseEvent) { fmt.Println(c.Code, c.Reason) }
//	websocket.Run()
//
// Events fire as in a browser: open before any message; on a failure
// (refused handshake, protocol error) error then close with code 1006; an
// abrupt end of TCP gives close 1006 alone; close fires exactly once. Every
// event is a task on the socket's loop, so handlers set right after New on
// the loop's goroutine, or before Run, never miss one.
package websocket

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/wsloop/websocket/internal/dial"
	"github.com/wsloop/websocket/internal/poll"
	"github.com/wsloop/websocket/internal/protocol"
)

// ErrClosedWhileConnecting is the ErrorEvent's Err when Close or CloseWith
// was called before the connection opened, which fails it as in a browser.
var ErrClosedWhileConnecting = errors.New("websocket: closed before the connection was established")

// ErrPayloadTooLong is returned by Ping and Pong for a payload over the 125
// bytes a control frame may carry.
var ErrPayloadTooLong = errors.New("websocket: control frame payload longer than 125 bytes")

var lastID atomic.Uint64

// WebSocket is one connection with the browser's semantics: a client's,
// made by New or NewWithConfig (event-driven) or Dial (blocking), or a
// server's, made by an Upgrader (Handler: event-driven; Upgrade:
// blocking).
//
// The On* fields and AddEventListener are read on the loop's goroutine: set
// them before the loop runs or from a callback on it. Send, SendText, Close,
// CloseWith, Ping, Pong and the attribute methods are safe from any
// goroutine.
type WebSocket struct {
	// OnOpen is called once the opening handshake succeeds.
	OnOpen func(OpenEvent)
	// OnMessage is called for each message received while Open.
	OnMessage func(MessageEvent)
	// OnError is called when the connection fails, just before OnClose.
	OnError func(ErrorEvent)
	// OnClose is called exactly once, when the connection has closed.
	OnClose func(CloseEvent)
	// OnPing is called for each ping from the server, after the pong is
	// queued (with Config.ManualPong, the program answers with Pong).
	OnPing func(PingEvent)
	// OnPong is called for each pong from the server; its RTT is the
	// round-trip time of the ping it answers.
	OnPong func(PongEvent)
	// OnBufferedAmountLow is called when BufferedAmount, having been above
	// Config.BufferedAmountLowThreshold when a Send returned, falls to it
	// or below, as WebRTC's RTCDataChannel does: a producer sends until
	// BufferedAmount passes the threshold, then waits for this event.
	OnBufferedAmountLow func(BufferedAmountLowEvent)
	// OnReconnect is called, with Config.Reconnect set, each time the
	// socket has lost its connection (or failed to make one) and waits to
	// try again; see ReconnectPolicy.
	OnReconnect func(ReconnectEvent)

	loop         *EventLoop
	url          string
	id           uint64
	closeTimeout time.Duration
	maxMessage   int64
	maxBuffered  int          // Config.MaxBufferedAmount
	lowThreshold int          // Config.BufferedAmountLowThreshold
	listeners    *[]*listener // AddEventListener's, loop-only; nil until the first
	state        atomic.Int32
	released     atomic.Bool // nothing of the socket is left on its loop

	// mu guards the protocol core and the write side, which Send and Close
	// reach from any goroutine, and the blocking API's inbox.
	mu           sync.Mutex
	core         *protocol.Conn
	conn         poll.Conn
	protocol     string
	cancelDial   context.CancelFunc
	dirty        bool // queued on the loop's flush list (writes.go)
	waitWritable bool // conn took less than offered; OnWritable follows
	shutdownWait bool // half-close once the output is drained
	aboveLow     bool // a Send left BufferedAmount above lowThreshold
	writeFailed  bool
	manualPong   bool // Config.ManualPong
	stream       bool // Config.StreamMessages
	userClosed   bool // Close or CloseWith was called, under mu
	opened       bool // the open event fired, under mu
	dialing      bool // loop-only, as the next two
	gotClose     bool // the server's close frame arrived
	closeFired   bool
	// zThreshold is Config's compression threshold, in 32 bits to fill
	// the 4 bytes after the flags.
	zThreshold int32

	in *inbox    // made by Dial: what it keeps for the blocking calls
	up *Upgrader // the server's socket's Upgrader; nil for a client's

	ka     *keepalive   // made when Config asks for keepalive; loop-only
	rc     *reconnector // made when Config.Reconnect is set
	aux    *sendAux     // under mu; made by the first ping or MessageWriter
	zneg   *negotiated  // the connection's permessage-deflate, under mu; nil: none
	log    *slog.Logger // Config.Logger with the socket's attributes; nil: silent
	counts counters
	gen    uint64  // connections made so far, under mu: a task of a lost one must not touch the next
	end    *ending // made when the closing begins or the dial fails, under mu
}

// ending is what a socket needs only once it closes, fails to open or
// drops data (a reconnecting socket's backlog), kept out of WebSocket so
// that each of many open sockets is 104 bytes smaller.
type ending struct {
	timer   *Timer     // the close timer, once armed
	clock   time.Time  // when the closing handshake last made progress
	unsent  int        // the kernel's send queue when the close timer last looked
	ev      CloseEvent // the close event, once the server's close frame came or the socket closed
	err     error      // the ErrorEvent's cause
	dropped int        // bytes never sent: sent after close, or left when it closed
}

// dropLocked counts n bytes that will never be sent in BufferedAmount.
func (ws *WebSocket) dropLocked(n int) {
	if n > 0 {
		ws.endingLocked().dropped += n
	}
}

// endingLocked returns the socket's ending, made on first need.
func (ws *WebSocket) endingLocked() *ending {
	if ws.end == nil {
		ws.end = new(ending)
	}
	return ws.end
}

// New creates a socket and starts connecting to url in the background, as
// JavaScript's new WebSocket(url, protocols). It uses the default loop,
// and nothing of the socket happens until that loop runs: without a call
// to Run (or RunContext), the socket stays Connecting for ever and no
// handler fires. A script that wants no loop of its own uses Dial.
//
// The URL is parsed by the WHATWG URL standard, as the browser parses it
// (see URL for what that changes). It must be absolute with scheme ws, wss,
// http or https and no fragment, and each protocol a distinct token;
// otherwise the error is a *SyntaxError, as the browser throws.
func New(url string, protocols ...string) (*WebSocket, error) {
	return NewWithConfig(url, &Config{Protocols: protocols})
}

// NewWithConfig is New with everything a dial can be told; cfg may be nil.
// A field that cannot be used is a *ConfigError.
func NewWithConfig(url string, cfg *Config) (*WebSocket, error) {
	c, err := cfg.withDefaults(DefaultLoop)
	if err != nil {
		return nil, err
	}
	return newSocket(context.Background(), url, c, false)
}

// newSocket makes the socket and starts its dial, whose context is ctx
// bounded by the handshake timeout.
func newSocket(ctx context.Context, url string, c Config, blocking bool) (*WebSocket, error) {
	u, err := parseURL(url)
	if err != nil {
		return nil, err
	}
	if err := checkProtocols(c.Protocols); err != nil {
		return nil, err
	}
	proxy, err := dial.ChooseProxy(c.Proxy, u)
	if err != nil {
		var ee *dial.EnvError
		if errors.As(err, &ee) {
			return nil, &ConfigError{Field: "Proxy", Msg: "(unset, so the environment is read) " + err.Error()}
		}
		return nil, &ConfigError{Field: "Proxy", Msg: err.Error()}
	}
	ws := socketFor(&c, u.Href(), redactedURL(u))
	ws.dialing = true
	if blocking {
		ws.in = &inbox{max: c.MaxInboxSize}
	} else if c.StreamMessages {
		return nil, &ConfigError{Field: "StreamMessages", Msg: "only for a socket made by Dial: one made by New hands whole messages to OnMessage"}
	}
	opts := dial.Options{
		URL:          u,
		Protocols:    append([]string(nil), c.Protocols...),
		Header:       c.requestHeader(),
		TLSConfig:    c.TLSConfig,
		Proxy:        proxy,
		ProxyHeader:  canonicalHeader(c.ProxyHeader),
		NetDial:      c.NetDial,
		Jar:          c.Jar,
		Credentials:  c.credentials(u),
		ProxySetting: c.Proxy,
		MaxRedirects: c.MaxRedirects,
		Logger:       ws.log,
		Deflate:      c.deflateOffer(),
	}
	ws.zThreshold = c.compressionThreshold()
	if c.Reconnect != nil {
		ws.rc = &reconnector{policy: *c.Reconnect, opts: opts, timeout: c.HandshakeTimeout}
	}
	ctx, cancel := context.WithTimeout(ctx, c.HandshakeTimeout)
	ws.cancelDial = cancel
	ws.loop.add(ws)
	ws.logAt(slog.LevelDebug, "connecting")
	ws.startDial(ctx, cancel, opts)
	return ws, nil
}

// socketFor makes a socket with c's settings, a client's or a server's,
// not yet on its loop; logged is its URL as log lines show it.
func socketFor(c *Config, url, logged string) *WebSocket {
	ws := &WebSocket{
		loop:         c.Loop,
		url:          url,
		id:           lastID.Add(1),
		closeTimeout: c.CloseTimeout,
		maxMessage:   c.MaxMessageSize,
		maxBuffered:  c.MaxBufferedAmount,
		lowThreshold: c.BufferedAmountLowThreshold,
		manualPong:   c.ManualPong,
		stream:       c.StreamMessages,
	}
	ws.log = socketLogger(c.Logger, ws.id, logged)
	if c.PingInterval > 0 || c.IdleTimeout > 0 {
		ws.ka = newKeepalive(c.PingInterval, c.PongTimeout, c.IdleTimeout)
	}
	return ws
}

// startDial dials in the background; the loop hears the outcome.
func (ws *WebSocket) startDial(ctx context.Context, cancel context.CancelFunc, opts dial.Options) {
	ws.dialing = true
	go func() {
		res, err := dial.Dial(ctx, opts)
		cancel()
		ws.loop.post(func() { ws.onDialed(res, err) }, false)
	}()
}

// URL is the URL the socket connects to, as the WHATWG URL standard
// serializes it and the constructor maps it: http becomes ws and https
// wss, the host is lower-cased (a name put through IDNA, an IPv4 or IPv6
// address in its canonical form), a default port is dropped, dot segments
// are resolved and the path and query are percent-encoded. Its path and
// query are the request line's target.
func (ws *WebSocket) URL() string { return ws.url }

// Loop is the event loop the socket lives on: its handlers run on that
// loop's goroutine. For a socket made by Dial without Config.Loop it is the
// background loop, which runs on a goroutine of its own or on that of a
// blocking call waiting on one of its sockets; set handlers on such a
// socket from a task posted to it (see Dial).
func (ws *WebSocket) Loop() *EventLoop { return ws.loop }

// ID is a number unique to this socket within the process, for logs and
// maps.
func (ws *WebSocket) ID() uint64 { return ws.id }

// ReadyState is the socket's state.
func (ws *WebSocket) ReadyState() ReadyState { return ReadyState(ws.state.Load()) }

// Protocol is the subprotocol the server selected, empty until open or when
// it selected none.
func (ws *WebSocket) Protocol() string {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.protocol
}

// ResponseHeader is the header of the server's handshake response (its
// 101), for a socket made by Dial once it is open; nil before, and for a
// socket made by New, which gets it in its OpenEvent instead. It is parsed
// anew on each call.
func (ws *WebSocket) ResponseHeader() http.Header {
	if ws.in == nil {
		return nil
	}
	ws.mu.Lock()
	head := ws.in.head
	ws.mu.Unlock()
	if head == nil {
		return nil
	}
	return dial.ParseHeader(head)
}

// Extensions is the extensions the server selected, as in its
// Sec-WebSocket-Extensions header ("permessage-deflate" and its
// parameters, in the server's words), empty until open or when it
// selected none. With Config.Reconnect it is the current connection's.
func (ws *WebSocket) Extensions() string {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.zneg == nil {
		return ""
	}
	return ws.zneg.ext
}

// BufferedAmount is the number of bytes of message data accepted by Send
// and SendText but not yet handed to the operating system. As in the
// browser, a send's bytes are counted at least until the task that sent
// them ends: the loop writes them then (see Send). As the standard says,
// data sent after the closing handshake started is counted too and never
// leaves the count, and so is data still queued when the connection ended.
func (ws *WebSocket) BufferedAmount() int {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	n := 0
	if ws.end != nil {
		n = ws.end.dropped
	}
	if ws.core != nil {
		n += ws.core.BufferedPayload()
	}
	return n
}

// Send sends p as one binary message. It returns ErrInvalidState while
// Connecting and ErrClosed once Closing or Closed (the data is dropped and
// counted in BufferedAmount, as the browser does silently). p may be reused
// as soon as Send returns.
//
// Send queues the message; the loop hands it to the kernel when the
// current task ends (a send from another goroutine: in the loop's next
// turn), together with the task's other sends to the socket, and goes on
// writing while the server reads, whatever the program does meanwhile.
// When BufferedAmount would pass Config.MaxBufferedAmount, Send returns
// ErrBufferFull and queues nothing; a message sent with nothing buffered
// is always taken.
func (ws *WebSocket) Send(p []byte) error {
	return ws.writeMessage(func(c *protocol.Conn) error { return c.WriteMessage(true, p) }, len(p))
}

// SendText sends s as one text message; see Send. s must be valid UTF-8,
// as every JavaScript string is: otherwise it returns ErrInvalidUTF8 and
// sends nothing.
//
// A ported ws.send(JSON.stringify(x)) becomes SendText of the JSON text,
// a text message as in JavaScript; Send(json.Marshal(x)) would send the
// same bytes as a binary message, which a server may treat differently.
func (ws *WebSocket) SendText(s string) error {
	if !utf8.ValidString(s) {
		return ErrInvalidUTF8
	}
	return ws.writeMessage(func(c *protocol.Conn) error { return c.WriteText(s) }, len(s))
}

// Ping sends a ping with payload p (at most 125 bytes); the server's pong
// fires OnPong, whose RTT is the round trip's time. Browsers cannot do
// this.
func (ws *WebSocket) Ping(p []byte) error {
	if len(p) > 125 {
		return ErrPayloadTooLong
	}
	return ws.write(func(c *protocol.Conn) error {
		if err := c.WritePing(p); err != nil {
			return err
		}
		ws.notePingLocked(p, monotime())
		return nil
	}, len(p), false)
}

// Pong sends a pong with payload p (at most 125 bytes): the answer to a
// ping when Config.ManualPong is set, or an unsolicited one, which RFC
// 6455 allows as a one-way heartbeat.
func (ws *WebSocket) Pong(p []byte) error {
	if len(p) > 125 {
		return ErrPayloadTooLong
	}
	return ws.write(func(c *protocol.Conn) error { return c.WritePong(p) }, len(p), false)
}

// fullLocked reports whether n more bytes would take the backlog past
// MaxBufferedAmount: message data is measured as BufferedAmount counts it,
// a control frame by the frames queued, so that pings cannot grow the
// backlog without bound either. An empty backlog takes any message.
func (ws *WebSocket) fullLocked(n int, data bool) bool {
	queued := ws.core.BufferedPayload()
	if !data {
		queued = ws.core.Pending()
	}
	return queued > 0 && queued+n > ws.maxBuffered
}

// writeMessage is write for a message, counted in Stats once taken.
func (ws *WebSocket) writeMessage(enc func(*protocol.Conn) error, n int) error {
	err := ws.write(enc, n, true)
	if err == nil {
		ws.counts.msgsOut.Add(1)
	}
	return err
}

func (ws *WebSocket) write(enc func(*protocol.Conn) error, n int, data bool) error {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if data && ws.aux != nil && ws.aux.writer != nil {
		return ErrWriterOpen
	}
	return ws.writeLocked(enc, n, data)
}

// writeLocked queues what enc encodes, n bytes of message data (data set)
// or a control frame; ws.mu is held.
func (ws *WebSocket) writeLocked(enc func(*protocol.Conn) error, n int, data bool) error {
	switch ws.ReadyState() {
	case Connecting:
		if ws.core == nil || !data {
			return ErrInvalidState
		}
		// Reconnecting: queued for the next connection.
		fallthrough
	case Open:
		if ws.fullLocked(n, data) {
			return ErrBufferFull
		}
		err := enc(ws.core)
		if err == protocol.ErrFragmentOpen {
			return ErrWriterOpen // a MessageWriter's message carried over a reconnect
		}
		if err == nil {
			ws.markDirtyLocked()
			if ws.core.BufferedPayload() > ws.lowThreshold {
				// Only a backlog the caller can see after Send returns is
				// worth an event when it drains.
				ws.aboveLow = true
			}
			return nil
		}
		// The core has queued a close frame the loop has not reported yet.
	}
	if data {
		ws.dropLocked(n)
	}
	return ErrClosed
}

// Close starts the closing handshake with a close frame that has no status
// code, as the browser's close() does. While Connecting it fails the
// connection instead (error, then close 1006). It does nothing once Closing
// or Closed, and always returns nil, so that `defer ws.Close()` reads
// naturally. On an event loop it returns at once and the close event
// follows; on a socket made by Dial it waits for the close (see Dial).
func (ws *WebSocket) Close() error {
	ws.close(0, "")
	ws.finishClose()
	return nil
}

// CloseWith starts the closing handshake with code and reason, as the
// browser's close(code, reason). code is any code RFC 6455 (7.4.1) lets a
// client send: 1000 (CloseNormal), 1001 (CloseGoingAway, say on SIGTERM),
// 1002, 1003 and 1007-1010, or 3000-4999 (*InvalidAccessError otherwise).
// A browser accepts only 1000 and 3000-4999: a ported program never uses
// the others. A server's socket may send 1011-1014 (CloseInternalError,
// CloseServiceRestart, CloseTryAgainLater, CloseBadGateway) too, and not
// 1010, which is the client's. reason is at most 123 bytes of UTF-8 (*SyntaxError
// otherwise).
func (ws *WebSocket) CloseWith(code int, reason string) error {
	if err := checkCloseArgs(code, reason, ws.up != nil); err != nil {
		return err
	}
	ws.close(uint16(code), reason)
	ws.finishClose()
	return nil
}

func (ws *WebSocket) close(code uint16, reason string) {
	if st := ws.ReadyState(); st == Connecting || st == Open {
		ws.logAt(slog.LevelDebug, "closing", "code", code, "reason", reason) // outside mu: a handler may write
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.userClosed = true
	switch ws.ReadyState() {
	case Connecting:
		ws.state.Store(int32(Closing))
		if ws.cancelDial != nil {
			ws.cancelDial()
		}
		ws.loop.post(ws.abortConnecting, false)
	case Open:
		ws.state.Store(int32(Closing))
		ws.core.WriteClose(code, reason)
		ws.markDirtyLocked()
		ws.armCloseTimerLocked()
		ws.postResumeLocked() // a full inbox must not hide the server's answer
	}
}
