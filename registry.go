package websocket

import (
	"cmp"
	"maps"
	"slices"
)

// A loop keeps its sockets by ID from the moment they are made until
// nothing of them is left on it (after the close event): they keep the
// loop alive, and a server finds them again by the ID a client gave it.

func (l *EventLoop) add(ws *WebSocket) {
	l.mu.Lock()
	if l.sockets == nil {
		l.sockets = make(map[uint64]*WebSocket)
	}
	l.sockets[ws.id] = ws
	if ws.in == nil {
		l.handled++
	}
	l.startLocked()
	l.mu.Unlock()
}

func (l *EventLoop) remove(ws *WebSocket) {
	l.mu.Lock()
	if _, ok := l.sockets[ws.id]; ok && ws.in == nil {
		l.handled--
	}
	delete(l.sockets, ws.id)
	l.mu.Unlock()
	if ws.up != nil {
		ws.up.leave()
	}
}

// Sockets returns the loop's sockets, in the order they were made: every
// one not yet closed, and those whose close event has just fired. It is
// safe from any goroutine; the list is a copy, which the loop does not
// change.
func (l *EventLoop) Sockets() []*WebSocket {
	l.mu.Lock()
	out := slices.Collect(maps.Values(l.sockets))
	l.mu.Unlock()
	slices.SortFunc(out, func(a, b *WebSocket) int { return cmp.Compare(a.id, b.id) })
	return out
}

// Socket returns the loop's socket with the ID, or nil when the loop
// has none (never had, or it has closed and gone). It is safe from any
// goroutine.
func (l *EventLoop) Socket(id uint64) *WebSocket {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sockets[id]
}
