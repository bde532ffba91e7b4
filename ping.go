package websocket

import (
	"bytes"
	"time"
)

// pingRecord is the last ping the socket sent (by Ping or keepalive), so
// that the pong answering it gives its round-trip time. Only the last is
// kept: RFC 6455 5.5.3 lets a server answer only the most recent of
// several pings.
type pingRecord struct {
	at       time.Duration // monotime when queued
	data     []byte
	answered bool
}

// notePingLocked records a ping just queued; ws.mu is held.
func (ws *WebSocket) notePingLocked(p []byte, now time.Duration) {
	r := ws.lastPing
	if r == nil {
		r = new(pingRecord)
		ws.lastPing = r
	}
	r.at, r.data, r.answered = now, append(r.data[:0], p...), false
}

// pongRTT is the round-trip time of the ping a pong with payload p
// answers, or zero when it answers none: an unsolicited pong, or one for
// an older ping.
func (ws *WebSocket) pongRTT(p []byte) time.Duration {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	r := ws.lastPing
	if r == nil || r.answered || !bytes.Equal(r.data, p) {
		return 0
	}
	r.answered = true
	return max(monotime()-r.at, 1) // a pong always took some time
}
