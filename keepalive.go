package websocket

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Keepalive finds a peer that has stopped answering: a server process
// stopped, a cable pulled, a NAT entry gone. TCP tells nothing in those
// cases until its own retransmissions give up, minutes later, and its
// keepalive is answered by the kernel of a live but stuck server.
//
// Every received byte proves the peer alive, so a socket that receives
// costs nothing but a clock read per read: the loop keeps one heap of the
// sockets with keepalive, ordered by the moment each must next be looked
// at, and looks at a socket only then. That moment is lazy: a read does
// not touch the heap, and a socket found to have received since is put
// back at its new moment. So 100 000 sockets on a loop cost no goroutine
// and no timer each, and an idle one one heap entry and a ping per
// PingInterval.

// keepalive is a socket's keepalive state, made when Config asks for it.
// It is touched only on the loop's goroutine.
type keepalive struct {
	interval    time.Duration // Config.PingInterval; 0: no pings
	pongTimeout time.Duration
	idle        time.Duration // Config.IdleTimeout; 0: none

	lastRecv time.Duration // monotime of the last read
	pingAt   time.Duration // monotime of the last keepalive ping; 0: none since lastRecv
	sentAt   time.Duration // monotime of the last keepalive ping, for its pong's RTT
	due      time.Duration // when the loop looks at the socket next
	// index and seq are 32 bits so that the record fits the 64-byte
	// size class (72 bytes took 80): seq wraps after 4 billion pings of
	// one socket, and only the last one's pong is looked for.
	index int32  // in the loop's keepalive heap; -1 when not in it
	seq   uint32 // keepalive pings sent, their payload
}

// newKeepalive is a socket's keepalive. Sockets that went quiet together
// ping together, in one turn of the loop: spreading them (a 16th of the
// interval, by id) was tried and doubled the CPU a ping costs at 19 000
// idle sockets (46 µs against 21), for wake-ups that batch no longer.
func newKeepalive(interval, pongTimeout, idle time.Duration) *keepalive {
	return &keepalive{interval: interval, pongTimeout: pongTimeout, idle: idle, index: -1}
}

// epoch is the origin of monotime.
var epoch = time.Now()

// monotime is the monotonic clock, cheaper to store and compare than a
// time.Time.
func monotime() time.Duration { return time.Since(epoch) }

// KeepaliveError is the ErrorEvent's Err (and the ClosedError's) when the
// peer (the server, or a server's client) stopped answering: nothing was
// received for Silence, which
// passed Config.IdleTimeout, or a keepalive ping got no answer (nor any
// other byte) within Config.PongTimeout. The connection is closed at once
// with code 1006, without waiting for a closing handshake the server
// would not finish.
type KeepaliveError struct {
	// Silence is how long nothing had been received.
	Silence time.Duration
	// PingUnanswered is set when a keepalive ping was sent PongTimeout
	// before and nothing came back; unset when IdleTimeout passed.
	PingUnanswered bool
}

func (e *KeepaliveError) Error() string {
	if e.PingUnanswered {
		return fmt.Sprintf("websocket: keepalive: the peer answered no ping and sent nothing for %v: connection presumed dead", e.Silence.Round(time.Millisecond))
	}
	return fmt.Sprintf("websocket: keepalive: nothing received for %v (IdleTimeout): connection presumed dead", e.Silence.Round(time.Millisecond))
}

// Timeout reports true: the error is a timeout, as net.Error defines it.
func (e *KeepaliveError) Timeout() bool { return true }

// Temporary reports true, so that the error is a net.Error: a timeout,
// after which a new connection may well work.
func (e *KeepaliveError) Temporary() bool { return true }

// startKeepalive puts an opened socket in its loop's keepalive heap.
func (ws *WebSocket) startKeepalive() {
	k := ws.ka
	if k == nil {
		return
	}
	k.lastRecv = monotime()
	k.pingAt = 0
	k.due = k.next(k.lastRecv)
	ws.loop.kaPush(ws)
}

// stopKeepalive takes the socket out of the heap, once it closes.
func (ws *WebSocket) stopKeepalive() {
	if ws.ka != nil && ws.ka.index >= 0 {
		ws.loop.kaRemove(int(ws.ka.index))
	}
}

// next is when, after now, the socket must be looked at again: its ping
// is due, or it is dead.
func (k *keepalive) next(now time.Duration) time.Duration {
	due := time.Duration(1<<63 - 1)
	if k.idle > 0 {
		due = k.lastRecv + k.idle
	}
	if k.interval > 0 {
		if k.pingAt > 0 {
			// Dead at pingAt+pongTimeout, unless answered; and when it is,
			// the next ping is due before then if PongTimeout is the
			// longer: a read does not touch the heap, so look again then
			// (once).
			due = min(due, k.pingAt+k.pongTimeout)
			if t := k.pingAt + k.interval; t > now {
				due = min(due, t)
			}
		} else {
			due = min(due, k.lastRecv+k.interval)
		}
	}
	return due
}

// runKeepalive looks at the sockets whose moment has come and returns how
// long the loop may wait for the next, or wait itself when that is
// sooner (-1: no limit).
func (l *EventLoop) runKeepalive(wait time.Duration) time.Duration {
	if len(l.kaHeap) == 0 {
		return wait
	}
	now := monotime()
	pinged := false
	for len(l.kaHeap) > 0 {
		ws := l.kaHeap[0]
		k := ws.ka
		if k.due > now {
			if left := k.due - now; wait < 0 || left < wait {
				wait = left
			}
			break
		}
		switch ws.keepaliveCheck(now) {
		case kaPinged:
			pinged = true
			fallthrough
		case kaKeep:
			k.due = k.next(now)
			l.kaFix(int(k.index))
		case kaDone:
			if k.index >= 0 {
				l.kaRemove(int(k.index))
			}
		}
	}
	if pinged {
		l.flushDirty()
	}
	return wait
}

// What runKeepalive does with a socket it looked at.
const (
	kaKeep = iota
	kaPinged
	kaDone
)

// Verdicts on a socket's silence.
const (
	kaAlive = iota
	kaPing
	kaDead
)

// verdict judges the socket's silence at now: a ping is answered by
// anything received after it; past IdleTimeout, or PongTimeout after an
// unanswered ping, the server is dead; past PingInterval it is due a ping.
func (k *keepalive) verdict(now time.Duration) int {
	if k.pingAt > 0 && k.lastRecv >= k.pingAt {
		k.pingAt = 0
	}
	silence := now - k.lastRecv
	switch {
	case k.idle > 0 && silence >= k.idle, k.pingAt > 0 && now-k.pingAt >= k.pongTimeout:
		return kaDead
	case k.interval > 0 && k.pingAt == 0 && silence >= k.interval:
		return kaPing
	}
	return kaAlive
}

// keepaliveCheck is the look at one socket whose moment has come: it is
// alive (it received since), its ping is due, or it is dead.
func (ws *WebSocket) keepaliveCheck(now time.Duration) int {
	k := ws.ka
	if ws.ReadyState() != Open {
		return kaDone // the closing handshake has its own timer
	}
	ws.mu.Lock()
	if ws.in != nil && ws.in.paused {
		// The loop does not read a full inbox: what the server sends
		// waits in the kernel, unseen. The socket is not silent, only
		// unheard.
		k.lastRecv = now
	}
	switch k.verdict(now) {
	case kaDead:
		ws.mu.Unlock()
		ws.failDead(&KeepaliveError{Silence: now - k.lastRecv, PingUnanswered: k.pingAt > 0})
		return kaDone
	case kaAlive:
		ws.mu.Unlock()
		return kaKeep
	}
	k.seq++
	var p [8]byte
	binary.BigEndian.PutUint64(p[:], uint64(k.seq))
	// A keepalive ping ignores MaxBufferedAmount: one per interval
	// cannot grow the backlog, and a server that reads nothing is about
	// to be found dead anyway.
	if ws.core.WritePing(p[:]) != nil {
		ws.mu.Unlock()
		return kaDone // a close frame is queued
	}
	ws.markDirtyLocked()
	k.pingAt, k.sentAt = now, now
	ws.mu.Unlock()
	return kaPinged
}

// failDead fails a connection whose server stopped answering: a close
// frame (1011, as Python's websockets sends for this) is offered to the
// kernel in case the server still reads, and the connection is closed at
// once, error then close 1006.
func (ws *WebSocket) failDead(err error) {
	ws.mu.Lock()
	ws.state.Store(int32(Closing))
	if !ws.core.CloseSent() {
		ws.core.WriteClose(CloseInternalError, "keepalive timeout")
	}
	ws.flushLocked()
	ws.mu.Unlock()
	ws.fireClose(CloseEvent{Target: ws, Code: CloseAbnormal}, err)
	ws.closeTCP()
}

// The keepalive heap: the loop's sockets with keepalive, ordered by due.
// It lives on the loop's goroutine only, so it needs no lock.

func (l *EventLoop) kaPush(ws *WebSocket) {
	ws.ka.index = int32(len(l.kaHeap))
	l.kaHeap = append(l.kaHeap, ws)
	l.kaUp(int(ws.ka.index))
}

func (l *EventLoop) kaRemove(i int) {
	h := l.kaHeap
	last := len(h) - 1
	h[i].ka.index = -1
	if i != last {
		h[i] = h[last]
		h[i].ka.index = int32(i)
	}
	h[last] = nil
	l.kaHeap = h[:last]
	if i != last {
		l.kaFix(i)
	}
	if len(l.kaHeap) == 0 {
		l.kaHeap = nil // a loop that had 100 000 sockets gives the array back
	}
}

func (l *EventLoop) kaFix(i int) {
	if !l.kaDown(i) {
		l.kaUp(i)
	}
}

func (l *EventLoop) kaUp(i int) {
	h := l.kaHeap
	for i > 0 {
		p := (i - 1) / 2
		if h[p].ka.due <= h[i].ka.due {
			break
		}
		l.kaSwap(p, i)
		i = p
	}
}

// kaDown sifts entry i down and reports whether it moved.
func (l *EventLoop) kaDown(i int) bool {
	h := l.kaHeap
	start := i
	for {
		c := 2*i + 1
		if c >= len(h) {
			break
		}
		if r := c + 1; r < len(h) && h[r].ka.due < h[c].ka.due {
			c = r
		}
		if h[i].ka.due <= h[c].ka.due {
			break
		}
		l.kaSwap(i, c)
		i = c
	}
	return i > start
}

func (l *EventLoop) kaSwap(i, j int) {
	h := l.kaHeap
	h[i], h[j] = h[j], h[i]
	h[i].ka.index = int32(i)
	h[j].ka.index = int32(j)
}
