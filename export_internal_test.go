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
