package websocket

import (
	"context"
	"errors"
	"unicode/utf8"

	"github.com/wsloop/websocket/internal/protocol"
)

// ErrWriterOpen is returned by Send, SendText and NewMessageWriter while a
// MessageWriter's message is unfinished: its frames and another message's
// must not interleave (RFC 6455 5.4). Nothing is queued.
var ErrWriterOpen = errors.New("websocket: a MessageWriter's message is unfinished; send after its Close")

// ErrMessageInterrupted is returned by a MessageWriter whose connection
// was lost after part of its message went out: the server never got it
// whole, and the next connection cannot go on with it. The writer is done;
// the program may send the message again with a new one.
var ErrMessageInterrupted = errors.New("websocket: the connection was lost in the middle of a MessageWriter's message")

// MessageWriter sends one message in pieces, as it is written: each Write
// queues a frame (a continuation after the first), and Close ends the
// message. It is for messages too large to hold, such as io.Copy from a
// file. Make it with NewMessageWriter.
//
// Write waits while the backlog is over Config.MaxBufferedAmount, until
// the loop has written enough, or ctx (given to NewMessageWriter) ends.
// On the loop's goroutine it cannot wait for the loop: it returns
// ErrBufferFull there instead, having queued what fitted. A text writer
// keeps each frame whole UTF-8 characters, holding back the first bytes
// of a character split across Writes; bytes that are not UTF-8 are
// ErrInvalidUTF8. Until Close, Send and SendText return ErrWriterOpen.
// A MessageWriter is for one goroutine at a time.
type MessageWriter struct {
	ws       *WebSocket
	ctx      context.Context
	binary   bool
	done     bool
	err      error   // the writer's end, when it ended badly
	held     [4]byte // a UTF-8 character split across Writes, as it is completed
	nheld    int
	chunkMax int
}

// NewMessageWriter opens a message to be written in pieces, binary or
// text. It returns ErrInvalidState unless the socket is Open, and
// ErrWriterOpen while another MessageWriter's message is unfinished. ctx
// bounds the writer's waits for room in the backlog.
func (ws *WebSocket) NewMessageWriter(ctx context.Context, binary bool) (*MessageWriter, error) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.ReadyState() != Open {
		return nil, ErrInvalidState
	}
	aux := ws.auxLocked()
	if aux.writer != nil {
		return nil, ErrWriterOpen
	}
	w := &MessageWriter{ws: ws, ctx: ctx, binary: binary, chunkMax: min(max(ws.maxBuffered/4, 16<<10), 1<<20)}
	aux.writer = w
	return w, nil
}

// Write queues p as the message's next frames. It returns how much of p
// was queued (all of it, but on an error).
func (w *MessageWriter) Write(p []byte) (int, error) {
	n := 0
	if !w.binary {
		if w.nheld > 0 {
			// Complete the held character first.
			need := utf8Need(w.held[0]) - w.nheld
			k := min(need, len(p))
			w.nheld += copy(w.held[w.nheld:], p[:k])
			n += k
			p = p[k:]
			if w.nheld < utf8Need(w.held[0]) {
				return n, nil
			}
			c := w.held[:w.nheld]
			if !utf8.Valid(c) {
				return n, w.fail(ErrInvalidUTF8)
			}
			w.nheld = 0
			if err := w.frame(c, false); err != nil {
				return n, err
			}
		}
		cut := utf8Cut(p)
		if !utf8.Valid(p[:cut]) || len(p)-cut > 3 {
			return n, w.fail(ErrInvalidUTF8)
		}
		w.nheld = copy(w.held[:], p[cut:])
		n += len(p) - cut
		p = p[:cut]
	}
	for len(p) > 0 {
		k := min(len(p), w.chunkMax)
		if err := w.frame(p[:k], false); err != nil {
			return n, err
		}
		n += k
		p = p[k:]
	}
	return n, nil
}

// Close ends the message with its final frame. A text writer holding the
// start of a character returns ErrInvalidUTF8, the message ended without
// it.
func (w *MessageWriter) Close() error {
	if w.done {
		return w.err
	}
	err := w.frame(nil, true)
	if err == nil && w.nheld > 0 {
		err = ErrInvalidUTF8
	}
	w.finish(err)
	if err == nil {
		w.ws.counts.msgsOut.Add(1)
	}
	return err
}

// frame queues one frame, waiting for room in the backlog.
func (w *MessageWriter) frame(p []byte, fin bool) error {
	if w.done {
		return w.err
	}
	ws := w.ws
	for {
		ws.mu.Lock()
		if w.err != nil { // set by dropConnection
			ws.mu.Unlock()
			w.finish(w.err)
			return w.err
		}
		err := ws.writeLocked(func(c *protocol.Conn) error { return c.WriteFragment(w.binary, p, fin) }, len(p), true)
		if err != ErrBufferFull {
			ws.mu.Unlock()
			if err != nil {
				w.finish(err)
			}
			return err
		}
		ch := ws.drainChanLocked()
		ws.mu.Unlock()
		if ws.loop.onLoop() {
			return ErrBufferFull // the loop cannot wait for itself
		}
		ws.loop.ensureRun()
		select {
		case <-ch:
		case <-w.ctx.Done():
			return w.ctx.Err()
		}
	}
}

// fail ends the writer with err and ends its message as well as it can.
func (w *MessageWriter) fail(err error) error {
	if !w.done {
		w.frame(nil, true)
		w.finish(err)
	}
	return err
}

// finish frees the socket for other messages.
func (w *MessageWriter) finish(err error) {
	w.ws.mu.Lock()
	w.done, w.err = true, err
	if aux := w.ws.aux; aux.writer == w {
		aux.writer = nil
	}
	w.ws.mu.Unlock()
}

// utf8Need is the length of the UTF-8 sequence that b starts (1 for a
// byte that starts none, which utf8.Valid then refuses).
func utf8Need(b byte) int {
	switch {
	case b >= 0xf0:
		return 4
	case b >= 0xe0:
		return 3
	case b >= 0xc0:
		return 2
	}
	return 1
}

// utf8Cut is where p's last character begins when p ends inside it (a
// byte that may lead a sequence, and too few after it), else len(p).
func utf8Cut(p []byte) int {
	for i := len(p) - 1; i >= 0 && i >= len(p)-3; i-- {
		if !utf8.RuneStart(p[i]) {
			continue
		}
		if p[i] >= 0xc2 && p[i] <= 0xf4 && !utf8.FullRune(p[i:]) {
			return i
		}
		break
	}
	return len(p)
}
