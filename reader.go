package websocket

import (
	"context"
	"io"

	"github.com/wsloop/websocket/internal/bufpool"
)

// MessageReader reads one message as its bytes arrive, for a socket whose
// Config.StreamMessages is set: a message far larger than the program
// wants to hold (a file sent as one message) passes through a bounded
// inbox. Make it with NextReader. It is for one goroutine at a time.
//
// Read returns io.EOF at the end of the message, and the socket's
// *ClosedError when the connection ends before it: a text message whose
// UTF-8 turns out invalid, or one over MaxMessageSize, fails the
// connection after its first bytes were read.
type MessageReader struct {
	ws     *WebSocket
	ctx    context.Context
	Binary bool // a binary message; otherwise text
	cur    []byte
	more   bool // parts of the message are still to come
	buf    []byte
}

// NextReader waits for the next message of a socket whose
// Config.StreamMessages is set and returns a reader of its bytes; the
// rest of a message whose reader was not read to its end is skipped
// first. ctx bounds this wait and the reader's. It returns ErrNotDialed
// for a socket made by New, ErrNotStreaming for one without
// StreamMessages, and the *ClosedError once the socket is closed and its
// messages are taken.
func (ws *WebSocket) NextReader(ctx context.Context) (*MessageReader, error) {
	if ws.in == nil {
		return nil, ErrNotDialed
	}
	if !ws.stream {
		return nil, ErrNotStreaming
	}
	for ws.in.partsLeft.Load() {
		if _, _, err := ws.nextPart(ctx); err != nil {
			return nil, err
		}
	}
	m, more, err := ws.nextPart(ctx)
	if err != nil {
		return nil, err
	}
	return &MessageReader{ws: ws, ctx: ctx, Binary: m.Binary, cur: m.Data, buf: m.Data, more: more}, nil
}

// Read implements io.Reader.
func (r *MessageReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		bufpool.Put(r.buf) // no one else saw it
		r.buf = nil
		if !r.more {
			return 0, io.EOF
		}
		m, more, err := r.ws.nextPart(r.ctx)
		if err != nil {
			return 0, err
		}
		r.cur, r.buf, r.more = m.Data, m.Data, more
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// nextPart takes the next part of a message from the inbox, waiting for
// it; pings and pongs before it are passed over (their pongs were sent).
func (ws *WebSocket) nextPart(ctx context.Context) (MessageEvent, bool, error) {
	e, err := ws.receive(ctx, true)
	if err != nil {
		return MessageEvent{}, false, err
	}
	m := e.(MessageEvent)
	ws.in.partsLeft.Store(m.more)
	return m, m.more, nil
}

// assemble completes a message whose first part m was taken, for the calls
// that return whole messages.
func (ws *WebSocket) assemble(ctx context.Context, m MessageEvent) (MessageEvent, error) {
	data := m.Data
	for more := m.more; more; {
		var p MessageEvent
		var err error
		p, more, err = ws.nextPart(ctx)
		if err != nil {
			bufpool.Put(data)
			return MessageEvent{}, err
		}
		data = append(data, p.Data...)
		bufpool.Put(p.Data)
	}
	m.Data, m.more = data, false
	return m, nil
}
