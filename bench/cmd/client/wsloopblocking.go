package main

import (
	"context"
	"sync/atomic"

	"github.com/wsloop/websocket"
)

// wsloopBlockingLib is wsloop's blocking API used as gorilla, coder and
// gobwas are: websocket.Dial, then Send/SendText and WaitForNextMessage
// on the caller's goroutine, each message given back with Release once its
// size is taken. It runs the same scenarios as they do (blib), so its
// figures compare with theirs. It runs only when -libs names it.
var wsloopBlockingLib = blockingLib("wsloop-blocking", dialWsloopBlocking)

type wsloopBlockingConn struct {
	ws      *websocket.WebSocket
	closing atomic.Bool
	// The scenarios send the same text again and again: it is converted to
	// a string once, as a program holding its text as a string would.
	lastText []byte
	text     string
}

func dialWsloopBlocking(ctx context.Context, url string) (bconn, error) {
	ws, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	return &wsloopBlockingConn{ws: ws}, nil
}

func (w *wsloopBlockingConn) Send(binary bool, p []byte) error {
	if binary {
		return w.ws.Send(p)
	}
	if len(p) != len(w.lastText) || (len(p) > 0 && &p[0] != &w.lastText[0]) {
		w.lastText, w.text = p, string(p)
	}
	return w.ws.SendText(w.text)
}

func (w *wsloopBlockingConn) Recv() (int, error) {
	m, err := w.ws.WaitForNextMessage(context.Background())
	if err != nil {
		return 0, err
	}
	n := len(m.Data)
	m.Release()
	return n, nil
}

// StartClose starts the closing handshake. Close on a dialed socket waits
// for it to end, so it runs in the background, as coder's does; a
// concurrent WaitForNextMessage returns the ClosedError once it has.
func (w *wsloopBlockingConn) StartClose() error {
	if w.closing.CompareAndSwap(false, true) {
		go w.ws.CloseWith(websocket.CloseNormal, "")
	}
	return nil
}

// Kill cannot close TCP at once: the API has no such call. It starts the
// closing handshake, which ends a waiting WaitForNextMessage once the
// server answers, or after Config.CloseTimeout (5 s) when it does not.
func (w *wsloopBlockingConn) Kill() error { return w.StartClose() }
