package websocket

import "sync/atomic"

// Stats counts a socket's traffic, for programs that export metrics. The
// counts run over the socket's whole life, every connection of a socket
// that reconnects included.
type Stats struct {
	// MessagesIn and BytesIn: messages received and delivered, and the
	// bytes read from the connection (frames, headers included; after
	// TLS).
	MessagesIn, BytesIn uint64
	// MessagesOut and BytesOut: messages accepted by Send and SendText,
	// and the bytes handed to the connection (frames, headers included;
	// before TLS).
	MessagesOut, BytesOut uint64
}

// counters are the Stats as the socket keeps them: the input side is
// counted on the loop, the output side under ws.mu, and both read from any
// goroutine.
type counters struct {
	msgsIn, bytesIn, msgsOut, bytesOut atomic.Uint64
}

// Stats is the socket's traffic so far. It is safe from any goroutine.
func (ws *WebSocket) Stats() Stats {
	c := &ws.counts
	return Stats{
		MessagesIn: c.msgsIn.Load(), BytesIn: c.bytesIn.Load(),
		MessagesOut: c.msgsOut.Load(), BytesOut: c.bytesOut.Load(),
	}
}
