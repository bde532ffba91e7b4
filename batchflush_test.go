package websocket_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/internal/echoserver"
)

// One task's sends on many sockets go out together (the poller's
// Batcher), a window at a time: every message arrives whole, including
// those too big for one batch, and each socket's BufferedAmountLow handler
// may send on the others, which it could not while the batch held them
// locked, including on one of the next window.
func TestBatchedFlush(t *testing.T) {
	srv, err := echoserver.Listen("127.0.0.1:0", echoserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	const n = 300 // more than one window (flushWindow)
	l := websocket.NewEventLoop()
	socks := make([]*websocket.WebSocket, n)
	first := make([][]byte, n) // what the batched task sends on each
	got := make([][]string, n)
	lows := make([]int, n)
	opened, done := 0, 0
	for i := range socks {
		// Sockets 0-3 send 200 KiB: past the batch's bytes, and in several
		// of the core's buffers.
		first[i] = []byte(fmt.Sprintf("first %d", i))
		if i < 4 {
			first[i] = bytes.Repeat(first[i], 200<<10/len(first[i]))
		}
	}
	sendAll := func() {
		for i, ws := range socks {
			if err := ws.Send(first[i]); err != nil {
				t.Errorf("socket %d: %v", i, err)
			}
		}
	}
	for i := range socks {
		ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: l})
		if err != nil {
			t.Fatal(err)
		}
		socks[i] = ws
		ws.OnOpen = func(websocket.OpenEvent) {
			if opened++; opened == n {
				sendAll()
			}
		}
		ws.OnBufferedAmountLow = func(websocket.BufferedAmountLowEvent) {
			if lows[i]++; lows[i] == 1 {
				next := socks[(i+1)%n]
				if err := next.SendText(fmt.Sprintf("low from %d", i)); err != nil {
					t.Errorf("send from socket %d's handler: %v", i, err)
				}
			}
		}
		ws.OnMessage = func(m websocket.MessageEvent) {
			if got[i] = append(got[i], string(m.Data)); len(got[i]) == 2 {
				if done++; done == n {
					for _, ws := range socks {
						ws.Close()
					}
				}
			}
		}
	}
	runLoop(t, l, 30*time.Second)
	for i := range socks {
		want := []string{string(first[i]), fmt.Sprintf("low from %d", (i+n-1)%n)}
		if len(got[i]) != 2 || got[i][0] != want[0] || got[i][1] != want[1] {
			t.Fatalf("socket %d got %d messages (%.20q...), want the first and %q", i, len(got[i]), got[i], want[1])
		}
		if lows[i] == 0 {
			t.Fatalf("socket %d: no bufferedamountlow", i)
		}
	}
}
