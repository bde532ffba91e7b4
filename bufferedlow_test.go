package websocket_test

import (
	"fmt"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/internal/echoserver"
)

// A producer paced by OnBufferedAmountLow never lets the backlog grow far
// past the threshold, and every byte still arrives.
func TestBufferedAmountLowPacesProducer(t *testing.T) {
	srv, err := echoserver.Listen("127.0.0.1:0", echoserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	const (
		threshold = 64 << 10
		chunk     = 256 << 10
		total     = 128 // chunks: 32 MiB
	)
	l := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: l, BufferedAmountLowThreshold: threshold})
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, chunk)
	sent, echoed, lows, maxBacklog := 0, 0, 0, 0
	pump := func() {
		for sent < total && ws.BufferedAmount() <= threshold {
			if err := ws.Send(payload); err != nil {
				t.Errorf("Send: %v", err)
				return
			}
			sent++
			maxBacklog = max(maxBacklog, ws.BufferedAmount())
		}
	}
	ws.OnOpen = func(websocket.OpenEvent) { pump() }
	ws.OnBufferedAmountLow = func(websocket.BufferedAmountLowEvent) {
		lows++
		if b := ws.BufferedAmount(); b > threshold {
			t.Errorf("bufferedamountlow with BufferedAmount %d > %d", b, threshold)
		}
		pump()
	}
	ws.OnMessage = func(m websocket.MessageEvent) {
		echoed++
		if echoed == total {
			ws.Close()
		}
	}
	runLoop(t, l, 60*time.Second)
	if sent != total || echoed != total {
		t.Fatalf("sent %d, echoed %d, want %d", sent, echoed, total)
	}
	if maxBacklog > threshold+chunk {
		t.Fatalf("backlog reached %d, past threshold+one message", maxBacklog)
	}
	t.Logf("%d bufferedamountlow events, backlog at most %d", lows, maxBacklog)
}

// Sends are held until their task ends, so a task's sends are seen in
// BufferedAmount when they return and fire one event once written, as
// RTCDataChannel's do; a task that sends nothing fires none.
func TestBufferedAmountLowOncePerTask(t *testing.T) {
	srv, err := echoserver.Listen("127.0.0.1:0", echoserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	l := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: l})
	if err != nil {
		t.Fatal(err)
	}
	lows, echoes := 0, 0
	var seen []int
	ws.AddEventListener("bufferedamountlow", func(websocket.Event) { lows++ })
	ws.OnOpen = func(websocket.OpenEvent) {
		for range 3 {
			ws.SendText("small")
			seen = append(seen, ws.BufferedAmount())
		}
	}
	ws.OnMessage = func(websocket.MessageEvent) {
		if echoes++; echoes == 3 {
			ws.Close()
		}
	}
	runLoop(t, l, 10*time.Second)
	if fmt.Sprint(seen) != "[5 10 15]" {
		t.Errorf("BufferedAmount after each send = %v, want [5 10 15]", seen)
	}
	if lows != 1 {
		t.Fatalf("%d events for one task's sends, want 1", lows)
	}
}

func ExampleWebSocket_OnBufferedAmountLow() {
	srv, _ := echoserver.Listen("127.0.0.1:0", echoserver.Options{})
	defer srv.Close()
	loop := websocket.NewEventLoop()
	ws, _ := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loop, BufferedAmountLowThreshold: 1 << 20})
	chunk := make([]byte, 512<<10)
	left, echoes := 16, 0
	produce := func() {
		// Send until the backlog passes the threshold, then wait for the
		// event: memory stays bounded however fast we produce.
		for left > 0 && ws.BufferedAmount() <= 1<<20 {
			ws.Send(chunk)
			left--
		}
	}
	ws.OnOpen = func(websocket.OpenEvent) { produce() }
	ws.OnBufferedAmountLow = func(websocket.BufferedAmountLowEvent) { produce() }
	ws.OnMessage = func(websocket.MessageEvent) {
		if echoes++; echoes == 16 {
			ws.Close()
		}
	}
	loop.Run()
	fmt.Println("echoes:", echoes)
	// Output: echoes: 16
}
