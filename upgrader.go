package websocket

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/wsloop/websocket/internal/upgrade"
)

// Upgrader turns HTTP requests into server-side sockets: the same
// WebSocket type, with the same events, limits and closing handshake, on
// an event loop that holds every idle connection without a goroutine (a
// wss:// one when the server listens through TLSListener). Its
// zero value accepts requests from the server's own origin, with no
// subprotocol and with permessage-deflate. Set its fields before its first
// use and do not copy it after.
//
// There are two ways in. Handler gives an http.Handler whose function runs
// on the socket's loop before any of its events, where it sets the
// handlers, as a Node ws server's "connection" listener does. Upgrade
// answers the request on the handler's goroutine and returns the socket
// for the blocking calls (WaitForNextMessage, LowLevelReceive, Send),
// as Dial does on the client side.
//
// A request the Upgrader refuses gets an HTTP error saying why: 405 for a
// method other than GET, 426 (with Upgrade and Sec-WebSocket-Version: 13)
// for a request that does not ask for a WebSocket or asks another
// version, 400 for a malformed handshake (HTTP/1.0, no Connection:
// upgrade, a Sec-WebSocket-Key that is not 16 bytes), 403 for an origin not
// allowed, 503 once Shutdown has begun; Upgrade returns it as an
// *UpgradeError.
type Upgrader struct {
	// AllowedOrigins are the origins whose pages may open a socket, as
	// glob patterns where "*" stands for any run of characters:
	// "https://app.example.org", "https://*.example.org",
	// "http://localhost:*". Empty allows only the server's own origin
	// (the Origin header's host and port are the request's Host). "*"
	// allows every origin, which is unsafe for a server that relies on
	// cookies or other ambient credentials: any web page its visitors
	// open can then talk to it in their name. "null" allows the opaque
	// origin of sandboxed frames and files. A request without an Origin
	// header (not from a browser) is always allowed: the check guards
	// browsers' users, not the server.
	AllowedOrigins []string
	// Protocols are the subprotocols the server speaks, in its order of
	// preference: the first of them the client offered is selected. When
	// the client offered none of them the 101 names none, as RFC 6455
	// allows, but a client that offered some then fails the connection
	// (browsers do, as the WHATWG standard says, and so do this library's
	// and Node's ws clients): the server's socket ends with 1006. A client
	// that offered none gets none.
	Protocols []string
	// SelectProtocol, when set, selects instead of Protocols: one of the
	// offered protocols, or "" for none (with the consequence above).
	// Returning one the client did not offer refuses the request with 500.
	SelectProtocol func(r *http.Request, offered []string) string
	// NoCompression declines permessage-deflate.
	NoCompression bool
	// Compression sets what the server asks of permessage-deflate: its
	// Threshold, ClientNoContextTakeover (every client compresses each
	// message on its own, so the server keeps no window per socket) and
	// ClientMaxWindowBits (the window kept per socket otherwise, for a
	// client that offers to limit it; 32 KiB at 15 bits, grown only as
	// the client's data fills it). The server always answers
	// server_no_context_takeover: it compresses each message on its own,
	// honouring a server_max_window_bits the client asks for, so that
	// neither side keeps a compressor per connection; ServerNoContextTakeover
	// and ServerMaxWindowBits are a *ConfigError here.
	Compression *Compression
	// Loop is the loop the sockets live on; nil is the background loop
	// that Dial's sockets use, which runs on a goroutine of its own.
	Loop *EventLoop
	// MaxMessageSize, MaxBufferedAmount, BufferedAmountLowThreshold,
	// MaxInboxSize, CloseTimeout, PingInterval, PongTimeout, IdleTimeout,
	// ManualPong, StreamMessages and Logger are as in Config, for each
	// socket. StreamMessages is for sockets made by Upgrade only. The
	// Logger also hears each refused request (info: status, reason, the
	// client's address and the path).
	MaxMessageSize             int64
	MaxBufferedAmount          int
	BufferedAmountLowThreshold int
	MaxInboxSize               int
	CloseTimeout               time.Duration
	PingInterval               time.Duration
	PongTimeout                time.Duration
	IdleTimeout                time.Duration
	ManualPong                 bool
	StreamMessages             bool
	Logger                     *slog.Logger

	once sync.Once
	err  error
	cfg  Config
	opts upgrade.Options

	mu       sync.Mutex
	live     int           // sockets made and not yet gone from their loop
	deflates []*negotiated // permessage-deflate settlements its sockets share
	shutdown bool          // Shutdown has begun
	drained  chan struct{} // closed when live reaches 0 after Shutdown began
}

// UpgradeError is a request the Upgrader refused: the response with
// Status and Reason (its body) has been written.
type UpgradeError struct {
	Status int
	Reason string
}

func (e *UpgradeError) Error() string {
	return fmt.Sprintf("websocket: upgrade refused with %d %s: %s", e.Status, http.StatusText(e.Status), e.Reason)
}

// ErrShutdown is the reason of the 503 an Upgrader answers once Shutdown
// has begun.
var ErrShutdown = errors.New("websocket: the server is shutting down")

// Check reports a field that cannot be used, as a *ConfigError, at once:
// otherwise the first request finds it, and every request is answered
// with 500.
func (u *Upgrader) Check() error { return u.setup() }

// setup checks the fields once.
func (u *Upgrader) setup() error {
	u.once.Do(func() {
		c := Config{
			NoCompression: u.NoCompression, Compression: u.Compression, Loop: u.Loop,
			MaxMessageSize: u.MaxMessageSize, MaxBufferedAmount: u.MaxBufferedAmount,
			BufferedAmountLowThreshold: u.BufferedAmountLowThreshold, MaxInboxSize: u.MaxInboxSize,
			CloseTimeout: u.CloseTimeout, PingInterval: u.PingInterval, PongTimeout: u.PongTimeout,
			IdleTimeout: u.IdleTimeout, ManualPong: u.ManualPong, StreamMessages: u.StreamMessages, Logger: u.Logger,
		}
		if c.Compression != nil && (c.Compression.ServerNoContextTakeover || c.Compression.ServerMaxWindowBits != 0) {
			u.err = &ConfigError{Field: "Compression", Msg: "ServerNoContextTakeover and ServerMaxWindowBits are the client's to ask: an Upgrader always answers server_no_context_takeover"}
			return
		}
		if err := checkProtocols(u.Protocols); err != nil {
			u.err = &ConfigError{Field: "Protocols", Msg: err.Error()}
			return
		}
		origins, err := upgrade.NewOrigins(u.AllowedOrigins)
		if err != nil {
			u.err = &ConfigError{Field: "AllowedOrigins", Msg: err.Error()}
			return
		}
		u.cfg, u.err = c.withDefaults(backgroundLoop)
		u.opts = upgrade.Options{Origins: origins, Protocols: u.Protocols, SelectProtocol: u.SelectProtocol}
		if !c.NoCompression {
			u.opts.Deflate = &upgrade.DeflateOptions{}
			if c.Compression != nil {
				u.opts.Deflate.ClientNoContextTakeover = c.Compression.ClientNoContextTakeover
				u.opts.Deflate.ClientMaxWindowBits = c.Compression.ClientMaxWindowBits
			}
		}
	})
	return u.err
}

// Upgrade answers r with 101 and returns the server's end of the
// connection, open, for the blocking calls from this goroutine or any
// other (WaitForNextMessage, LowLevelReceive, Send, Close), as a socket
// made by Dial: received messages wait in its bounded inbox. Its handlers
// are read on its loop, so this goroutine must not set them; Handler is
// the way to handlers.
//
// A request the Upgrader refuses is answered with an HTTP error and
// returned as an *UpgradeError; a misconfigured Upgrader is a
// *ConfigError (answered with 500). An HTTP/2 request cannot be upgraded
// (400). If the connection cannot be taken over (a ResponseWriter without
// Hijack) the error says so and the request is answered with 500.
func (u *Upgrader) Upgrade(w http.ResponseWriter, r *http.Request) (*WebSocket, error) {
	return u.upgrade(w, r, true, nil)
}

// Handler returns an http.Handler that upgrades each request and calls
// fn on the new socket's loop, before any of its events, with the socket
// open and the request it came from (whose Header, URL, RemoteAddr and
// TLS stay readable; its context ends with the HTTP handler). fn sets the
// socket's handlers: OnOpen fires right after it, then the socket's
// messages. A refused request is answered with the HTTP error and fn is
// not called.
func (u *Upgrader) Handler(fn func(ws *WebSocket, r *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.upgrade(w, r, false, fn)
	})
}

func (u *Upgrader) upgrade(w http.ResponseWriter, r *http.Request, blocking bool, fn func(*WebSocket, *http.Request)) (*WebSocket, error) {
	if err := u.setup(); err != nil {
		http.Error(w, "websocket: the server's Upgrader is misconfigured", http.StatusInternalServerError)
		if u.Logger != nil {
			u.Logger.Error("upgrade refused: the Upgrader is misconfigured", "error", err)
		}
		return nil, err
	}
	hs, err := upgrade.Check(r, &u.opts)
	if err == nil && !u.enter() {
		err = &upgrade.Refusal{Status: http.StatusServiceUnavailable, Reason: ErrShutdown.Error()}
	}
	if err != nil {
		var rf *upgrade.Refusal
		if errors.As(err, &rf) {
			rf.Write(w)
			u.logRefusal(r, rf.Status, rf.Reason)
			return nil, &UpgradeError{Status: rf.Status, Reason: rf.Reason}
		}
		return nil, err
	}
	conn, leftover, err := upgrade.Accept(w, hs)
	if err != nil {
		u.leave()
		var nh *upgrade.NoHijackError
		if errors.As(err, &nh) {
			http.Error(w, "websocket: this server cannot take the connection over", http.StatusInternalServerError)
		}
		if l := u.cfg.Logger; l != nil {
			l.Warn("upgrade failed", "error", err, "remote", r.RemoteAddr, "path", r.URL.Path)
		}
		return nil, err
	}
	return u.open(conn, leftover, hs, r, blocking, fn), nil
}

// logRefusal tells the Logger of a refused request: info, as a refusal is
// the server doing its job (a plain GET, a page of another origin).
func (u *Upgrader) logRefusal(r *http.Request, status int, reason string) {
	if l := u.cfg.Logger; l != nil {
		l.Info("upgrade refused", "status", status, "reason", reason, "remote", r.RemoteAddr, "path", r.URL.Path)
	}
}

// closing reports whether Shutdown has begun.
func (u *Upgrader) closing() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.shutdown
}

// enter counts a socket about to be made, unless Shutdown has begun.
func (u *Upgrader) enter() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.shutdown {
		return false
	}
	u.live++
	return true
}

// leave counts a socket gone from its loop.
func (u *Upgrader) leave() {
	u.mu.Lock()
	u.live--
	if u.live == 0 && u.drained != nil {
		close(u.drained)
		u.drained = nil
	}
	u.mu.Unlock()
}

// Shutdown refuses new upgrades (503), closes every socket the Upgrader
// made with 1001 (going away), and waits until each has closed: its
// closing handshake done, or its CloseTimeout past. If ctx ends first,
// the connections left are dropped by the loop (close 1006 on this side)
// and Shutdown returns ctx's error at once. Call it after the http.Server's own
// Shutdown, which does not know of hijacked connections.
func (u *Upgrader) Shutdown(ctx context.Context) error {
	u.setup()
	u.mu.Lock()
	u.shutdown = true
	var drained chan struct{}
	if u.live > 0 {
		if u.drained == nil {
			u.drained = make(chan struct{})
		}
		drained = u.drained
	}
	u.mu.Unlock()
	if drained == nil {
		return nil
	}
	loop := u.cfg.Loop
	for _, ws := range loop.Sockets() {
		if ws.up == u {
			ws.close(CloseGoingAway, "going away")
		}
	}
	select {
	case <-drained:
		return nil
	case <-ctx.Done():
	}
	loop.post(func() {
		for _, ws := range loop.Sockets() {
			if ws.up == u {
				ws.drop()
			}
		}
	}, false)
	return ctx.Err()
}
