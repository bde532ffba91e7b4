package websocket

import (
	"bytes"
	"encoding/binary"
	"time"
)

// sendAux is what few sockets use, kept apart so that the others do not
// pay for it: the ping clock, the MessageWriter and its wait for room.
type sendAux struct {
	lastPing pingRecord
	writer   *MessageWriter // the open one
	drained  chan struct{}  // closed when the loop writes or the state changes; made by a waiting writer
}

// auxLocked is the socket's sendAux, made on first use; ws.mu is held.
func (ws *WebSocket) auxLocked() *sendAux {
	if ws.aux == nil {
		ws.aux = new(sendAux)
	}
	return ws.aux
}

// pingRecord is the last ping the socket sent (by Ping or keepalive), so
// that the pong answering it gives its round-trip time. Only the last is
// kept: RFC 6455 5.5.3 lets a server answer only the most recent of
// several pings.
type pingRecord struct {
	at       time.Duration // monotime when queued; 0: no ping yet
	data     []byte
	answered bool
}

// notePingLocked records a ping just queued; ws.mu is held.
func (ws *WebSocket) notePingLocked(p []byte, now time.Duration) {
	r := &ws.auxLocked().lastPing
	r.at, r.data, r.answered = now, append(r.data[:0], p...), false
}

// pongRTT is the round-trip time of the ping a pong with payload p
// answers, or zero when it answers none: an unsolicited pong, or one for
// an older ping. It runs on the loop.
func (ws *WebSocket) pongRTT(p []byte) time.Duration {
	if k := ws.ka; k != nil && k.sentAt > 0 && len(p) == 8 && binary.BigEndian.Uint64(p) == uint64(k.seq) {
		// The latest keepalive ping's pong, whose payload is its number.
		rtt := max(monotime()-k.sentAt, 1)
		k.sentAt = 0
		return rtt
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.aux == nil {
		return 0
	}
	r := &ws.aux.lastPing
	if r.at == 0 || r.answered || !bytes.Equal(r.data, p) {
		return 0
	}
	r.answered = true
	return max(monotime()-r.at, 1) // a pong always took some time
}
