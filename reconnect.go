package websocket

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"syscall"
	"time"

	"github.com/wsloop/websocket/internal/dial"
	"github.com/wsloop/websocket/internal/protocol"
)

// Defaults for the ReconnectPolicy fields left zero.
const (
	DefaultReconnectInitialDelay = time.Second
	DefaultReconnectMaxDelay     = 30 * time.Second
	DefaultReconnectFactor       = 2
	DefaultReconnectJitter       = 0.3
)

// ReconnectPolicy makes a socket reconnect by itself when its connection
// is lost, as reconnecting-websocket does in JavaScript: the same
// WebSocket goes back to Connecting, fires a ReconnectEvent for each
// attempt, and fires OnOpen again once an attempt opens. OnClose fires
// once, at the end: when the program closes the socket, when either side
// closes it normally (1000), when Retry says the cause is final, or when
// MaxAttempts attempts in a row have failed. A first connection that
// fails is retried the same way, so New (and Dial, until its context
// ends) keeps trying a server that is not up yet.
//
// Messages sent while the socket reconnects are queued, counted in
// BufferedAmount and bounded by Config.MaxBufferedAmount (ErrBufferFull
// past it, as on an open socket), and sent once it is open again, after
// the messages the lost connection had not wholly written, which are sent
// again whole. Only bytes already handed to the kernel of the lost
// connection may not have reached the server, as with any TCP client: a
// program that must know uses acknowledgements of its own. Ping and Pong
// return ErrInvalidState while reconnecting. Before the first open, Send
// returns ErrInvalidState, as in a browser.
type ReconnectPolicy struct {
	// InitialDelay is the wait before the first attempt after a loss;
	// zero means DefaultReconnectInitialDelay (1s).
	InitialDelay time.Duration
	// MaxDelay caps the wait, which grows by Factor at each attempt;
	// zero means DefaultReconnectMaxDelay (30s). A connection that stays
	// open for MaxDelay starts the count of attempts again from one.
	MaxDelay time.Duration
	// Factor multiplies the wait after each failed attempt; zero means
	// DefaultReconnectFactor (2). Under 1 is refused.
	Factor float64
	// Jitter takes a random part, up to this fraction, off each wait, so
	// that clients which lost the same server do not all come back at
	// once; zero means DefaultReconnectJitter (0.3). A negative value
	// turns it off. Over 1 is refused.
	Jitter float64
	// MaxAttempts is how many attempts in a row may fail before the
	// socket gives up and closes; zero: no limit.
	MaxAttempts int
	// Retry decides whether a loss is worth another attempt, from how the
	// connection ended (ev) and why it failed (err, nil when it merely
	// ended or the server closed it); nil means RetryTransient. A normal
	// close (1000) by either side and a close by the program are never
	// retried and never asked about.
	Retry func(ev CloseEvent, err error) bool
}

// RetryTransient is the default ReconnectPolicy.Retry: it retries what a
// later attempt may well get through, and not what would fail the same
// way again. Retried: a connection that ended abruptly (1006) or was
// found dead by keepalive; a server closing with 1001 (going away), 1011
// (internal error), 1012 (restart), 1013 (try again later) or 1014 (bad
// gateway); a dial that failed to resolve, to connect, within
// HandshakeTimeout, at a proxy that could not be reached or could not
// reach the server, or with a TLS failure that is not the certificate's;
// a handshake whose connection was lost before an answer (reset, ended);
// a refused handshake whose status is 408, 429 or 5xx; a descriptor
// shortage. Not retried: anything else, such as a protocol error, a
// certificate refused, a 4xx refusal, or a Config error.
func RetryTransient(ev CloseEvent, err error) bool {
	if err == nil {
		switch ev.Code {
		case CloseAbnormal, CloseGoingAway, CloseInternalError, CloseServiceRestart, CloseTryAgainLater, CloseBadGateway:
			return true
		}
		return false
	}
	var (
		ke *KeepaliveError
		de *DNSError
		ce *ConnectError
		te *TLSError
		he *HandshakeError
		pe *ProxyError
		re *ResourceError
	)
	switch {
	case errors.As(err, &ke), errors.As(err, &de), errors.As(err, &ce), errors.As(err, &re),
		errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.As(err, &pe):
		return pe.Failure == ProxyUnreachable || pe.Failure == ProxyTargetUnreachable
	case errors.As(err, &te):
		return te.Reason == TLSOther
	case errors.As(err, &he):
		// No status: the connection failed under the handshake (a server
		// restarting resets what waits in its backlog), unless the
		// server's answer broke a rule.
		return he.StatusCode == 408 || he.StatusCode == 429 || he.StatusCode >= 500 ||
			he.StatusCode == 0 && lostConnection(he.Err)
	}
	return false
}

// lostConnection reports an error of the connection itself: reset,
// closed, timed out, ended early.
func lostConnection(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// ReconnectEvent fires when the socket, having lost its connection (or
// failed to make one), waits Delay and then makes attempt number Attempt
// (1 for the first since the last stable connection). ReadyState is
// Connecting from this event until OnOpen, or OnClose when the socket
// gives up. Close and Err are how the lost connection (or the failed
// attempt) ended: what a CloseEvent and an ErrorEvent would have said
// without reconnection.
type ReconnectEvent struct {
	Target  *WebSocket
	Attempt int
	Delay   time.Duration
	Close   CloseEvent
	Err     error
	// Lost is the message payload, in bytes, of a message that cannot be
	// sent again: one whose first fragment went out on the lost
	// connection. Whole messages not yet written are sent again, and
	// counted in BufferedAmount meanwhile.
	Lost int
}

// Type implements Event.
func (ReconnectEvent) Type() string { return "reconnect" }

// Socket implements Event.
func (e ReconnectEvent) Socket() *WebSocket { return e.Target }

func (ReconnectEvent) isEvent() {}

// reconnector is a socket's reconnection state; loop-only, but for
// userClosed, under mu.
type reconnector struct {
	policy   ReconnectPolicy // defaults filled in
	opts     dial.Options
	timeout  time.Duration // Config.HandshakeTimeout
	attempt  int
	openedAt time.Duration // monotime of the current connection's open
	timer    *Timer        // the wait before the next attempt
	lost     int           // Lost of the pending ReconnectEvent
}

// withDefaults is the policy with its zero fields given their defaults,
// or a ConfigError.
func (p ReconnectPolicy) withDefaults() (ReconnectPolicy, error) {
	switch {
	case p.InitialDelay < 0:
		return p, &ConfigError{Field: "Reconnect.InitialDelay", Msg: "negative"}
	case p.MaxDelay < 0:
		return p, &ConfigError{Field: "Reconnect.MaxDelay", Msg: "negative"}
	case p.Factor != 0 && p.Factor < 1 || math.IsNaN(p.Factor) || math.IsInf(p.Factor, 0):
		return p, &ConfigError{Field: "Reconnect.Factor", Msg: "under 1: waits would shrink"}
	case p.Jitter > 1 || math.IsNaN(p.Jitter):
		return p, &ConfigError{Field: "Reconnect.Jitter", Msg: "over 1: a wait cannot lose more than all of itself"}
	case p.MaxAttempts < 0:
		return p, &ConfigError{Field: "Reconnect.MaxAttempts", Msg: "negative"}
	}
	if p.InitialDelay == 0 {
		p.InitialDelay = DefaultReconnectInitialDelay
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = max(DefaultReconnectMaxDelay, p.InitialDelay)
	}
	if p.MaxDelay < p.InitialDelay {
		return p, &ConfigError{Field: "Reconnect.MaxDelay", Msg: "shorter than InitialDelay"}
	}
	if p.Factor == 0 {
		p.Factor = DefaultReconnectFactor
	}
	switch {
	case p.Jitter == 0:
		p.Jitter = DefaultReconnectJitter
	case p.Jitter < 0:
		p.Jitter = 0
	}
	if p.Retry == nil {
		p.Retry = RetryTransient
	}
	return p, nil
}

// delay is the wait before attempt n (from 1).
func (p *ReconnectPolicy) delay(n int) time.Duration {
	d := float64(p.InitialDelay) * math.Pow(p.Factor, float64(n-1))
	d = min(d, float64(p.MaxDelay))
	d -= d * p.Jitter * rand.Float64()
	return time.Duration(d)
}

// retry decides, as the socket would close with ev and err, whether it
// reconnects instead; it counts the attempt.
func (ws *WebSocket) retry(ev CloseEvent, err error) bool {
	rc := ws.rc
	ws.mu.Lock()
	userClosed := ws.userClosed
	ws.mu.Unlock()
	if userClosed || ev.Code == CloseNormal && err == nil {
		return false
	}
	if rc.openedAt > 0 && monotime()-rc.openedAt >= rc.policy.MaxDelay {
		rc.attempt = 0 // the lost connection was a stable one
	}
	rc.openedAt = 0
	if rc.policy.MaxAttempts > 0 && rc.attempt >= rc.policy.MaxAttempts {
		return false
	}
	return rc.policy.Retry(ev, err)
}

// reconnect replaces the lost connection (if there was one) with the wait
// for the next attempt.
func (ws *WebSocket) reconnect(ev CloseEvent, err error) {
	rc := ws.rc
	ws.dropConnection()
	rc.attempt++
	delay := rc.policy.delay(rc.attempt)
	rc.timer = ws.loop.timeout(ws.redial, delay)
	lost := rc.lost
	rc.lost = 0
	ws.logAt(slog.LevelWarn, "connection lost: reconnecting", "attempt", rc.attempt, "delay", delay, "code", ev.Code, "error", err)
	// A dialed socket's program hears of it from LowLevelReceive, once
	// Dial has returned the socket.
	emit(ws, ws.OnReconnect, ReconnectEvent{Target: ws, Attempt: rc.attempt, Delay: delay, Close: ev, Err: err, Lost: lost}, ws.opened)
}

// dropConnection ends the lost connection's part of the socket: its
// descriptor, timers and protocol state. The messages it had not wholly
// written move to a fresh protocol state, which takes the sends made
// while reconnecting.
func (ws *WebSocket) dropConnection() {
	ws.stopKeepalive()
	ws.mu.Lock()
	ws.state.Store(int32(Connecting))
	c := ws.conn
	ws.conn = nil
	ws.gen++
	if e := ws.end; e != nil {
		if e.timer != nil {
			e.timer.Stop()
		}
		// The next connection starts its closing afresh; the error
		// stays for closedError, and what was dropped stays counted.
		*e = ending{err: e.err, dropped: e.dropped}
	}
	if old := ws.core; old != nil {
		ws.core = ws.newCore(nil) // compression is the next connection's to settle
		_, lost, interrupted := old.CarryOver(ws.core)
		ws.rc.lost += lost
		if interrupted && ws.aux != nil && ws.aux.writer != nil {
			ws.aux.writer.err = ErrMessageInterrupted
			ws.aux.writer = nil
		}
		ws.dropLocked(old.Discard() + lost)
		if ws.core.BufferedPayload() > 0 {
			ws.markDirtyLocked() // written once the connection is back
		}
	}
	ws.protocol = ""
	ws.zneg = nil
	ws.gotClose = false
	ws.waitWritable, ws.shutdownWait, ws.writeFailed = false, false, false
	ws.wakeWritersLocked()
	ws.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// redial starts the next attempt, once its wait is over.
func (ws *WebSocket) redial() {
	ws.rc.timer = nil
	if ws.ReadyState() != Connecting {
		return // closed while waiting; abortConnecting has ended it
	}
	ctx, cancel := context.WithTimeout(context.Background(), ws.rc.timeout)
	ws.mu.Lock()
	ws.cancelDial = cancel
	ws.mu.Unlock()
	ws.startDial(ctx, cancel, ws.rc.opts)
}

// newCore is a fresh protocol state for the socket's connection, with
// deflate as its permessage-deflate (nil: none).
func (ws *WebSocket) newCore(deflate *protocol.Deflate) *protocol.Conn {
	return protocol.NewConn(protocol.Config{MaxMessageSize: ws.maxMessage, ManualPong: ws.manualPong, Stream: ws.stream, Deflate: deflate, Server: ws.up != nil})
}
