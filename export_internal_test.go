package websocket

// Views of a socket's insides for the external tests.

import "context"

// InboxBytes is what a dialed socket's inbox holds, as counted against
// MaxInboxSize.
func InboxBytes(ws *WebSocket) int {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.in.bytes
}

// HeldOutput is how many bytes of frames the socket still holds for
// writing.
func HeldOutput(ws *WebSocket) int {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.core == nil {
		return 0
	}
	return ws.core.Pending()
}

// AwaitPaused waits until the loop has stopped reading a dialed socket
// whose inbox is full.
func AwaitPaused(ctx context.Context, ws *WebSocket) error {
	return ws.await(ctx, func() bool { return ws.in.paused })
}

// Lent reports whether nobody runs the background loop l now, left to the
// blocking calls of a program between two of them (lend.go).
func Lent(l *EventLoop) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.background && !l.running.Load() && !l.bgActive && l.aliveLocked()
}
