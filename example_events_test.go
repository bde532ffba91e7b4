package websocket_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"time"

	"github.com/wsloop/websocket"
)

// A listener gets the Event interface: its type and its socket, and, by a
// type switch, the fields of the event it is.
func ExampleEvent() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loop})
	if err != nil {
		log.Fatal(err)
	}
	trace := func(e websocket.Event) {
		switch e := e.(type) {
		case websocket.MessageEvent:
			fmt.Println(e.Type(), e.Text())
		case websocket.CloseEvent:
			fmt.Println(e.Type(), e.Code)
		default:
			fmt.Println(e.Type(), "from ws:", e.Socket() == ws)
		}
	}
	for _, typ := range []string{"open", "message", "close"} {
		ws.AddEventListener(typ, trace)
	}
	ws.OnOpen = func(websocket.OpenEvent) { ws.SendText("hi") }
	ws.OnMessage = func(websocket.MessageEvent) { ws.CloseWith(4000, "") }
	loop.Run()
	// Output:
	// open from ws: true
	// message hi
	// close 4000
}

// OpenEvent fires once the handshake succeeds.
func ExampleOpenEvent() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loop})
	if err != nil {
		log.Fatal(err)
	}
	ws.OnOpen = func(e websocket.OpenEvent) {
		fmt.Println(e.Type(), e.Target == ws, ws.ReadyState())
		ws.Close()
	}
	loop.Run()
	// Output:
	// open true OPEN
}

// Header is the server's 101 response, Set-Cookie and all: here a header
// the server's handler set before Upgrade.
func ExampleOpenEvent_Header() {
	up := &websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Server", "example/1.0") // goes out with the 101
		ws, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		ws.WaitForNextMessage(context.Background()) // until the client closes
	}))
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig("ws"+strings.TrimPrefix(srv.URL, "http"), &websocket.Config{Loop: loop})
	if err != nil {
		log.Fatal(err)
	}
	ws.OnOpen = func(e websocket.OpenEvent) {
		h := e.Header()
		fmt.Println(h.Get("Upgrade"), h.Get("X-Server"))
		ws.Close()
	}
	loop.Run()
	up.Shutdown(context.Background())
	// Output:
	// websocket example/1.0
}

// A MessageEvent is one whole message, text or binary.
func ExampleMessageEvent() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loop})
	if err != nil {
		log.Fatal(err)
	}
	ws.OnOpen = func(websocket.OpenEvent) {
		ws.SendText("héllo")
		ws.Send([]byte{1, 2})
	}
	n := 0
	ws.OnMessage = func(m websocket.MessageEvent) {
		fmt.Printf("binary=%t len=%d data=%q\n", m.Binary, len(m.Data), m.Data)
		if n++; n == 2 {
			ws.Close()
		}
	}
	loop.Run()
	// Output:
	// binary=false len=6 data="héllo"
	// binary=true len=2 data="\x01\x02"
}

// Text is the message as a string, JavaScript's e.data for text. It
// copies, so the buffer may be released after it.
func ExampleMessageEvent_Text() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loop})
	if err != nil {
		log.Fatal(err)
	}
	var kept []string
	ws.OnOpen = func(websocket.OpenEvent) {
		ws.SendText(strings.Repeat("a", 100))
		ws.SendText(strings.Repeat("b", 100))
	}
	ws.OnMessage = func(m websocket.MessageEvent) {
		kept = append(kept, m.Text())
		m.Release() // kept holds copies
		if len(kept) == 2 {
			ws.Close()
		}
	}
	loop.Run()
	fmt.Println(kept[0][:3], kept[1][:3])
	// Output:
	// aaa bbb
}

// ErrorEvent carries the cause of a failure, which a browser hides from
// the page: here no server listens on the port.
func ExampleErrorEvent() {
	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig("ws://127.0.0.1:1/", &websocket.Config{Loop: loop})
	if err != nil {
		log.Fatal(err)
	}
	ws.OnError = func(e websocket.ErrorEvent) {
		var ce *websocket.ConnectError
		fmt.Println("connect error:", errors.As(e.Err, &ce), "refused:", errors.Is(e.Err, syscall.ECONNREFUSED))
	}
	ws.OnClose = func(c websocket.CloseEvent) { fmt.Println("close:", c.Code, c.WasClean) }
	loop.Run()
	// Output:
	// connect error: true refused: true
	// close: 1006 false
}

// CloseEvent fires once, last: here the server closes with a code and
// a reason of its own.
func ExampleCloseEvent() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loop})
	if err != nil {
		log.Fatal(err)
	}
	ws.OnOpen = func(websocket.OpenEvent) { ws.SendText("!close 4001 come back later") }
	ws.OnClose = func(c websocket.CloseEvent) {
		fmt.Printf("code=%d reason=%q wasClean=%t\n", c.Code, c.Reason, c.WasClean)
	}
	loop.Run()
	// Output:
	// code=4001 reason="come back later" wasClean=true
}

// PingEvent reports the server's ping; its pong is already queued.
func ExamplePingEvent() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loop})
	if err != nil {
		log.Fatal(err)
	}
	ws.OnOpen = func(websocket.OpenEvent) { ws.SendText("!ping are you there?") }
	ws.OnPing = func(p websocket.PingEvent) {
		fmt.Printf("%s %q\n", p.Type(), p.Data)
		ws.Close()
	}
	loop.Run()
	// Output:
	// ping "are you there?"
}

// PongEvent reports the server's pong, with the round trip of the ping it
// answers.
func ExamplePongEvent() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loop})
	if err != nil {
		log.Fatal(err)
	}
	ws.OnOpen = func(websocket.OpenEvent) { ws.Ping([]byte("1")) }
	ws.OnPong = func(p websocket.PongEvent) {
		fmt.Printf("%s %q, under a second: %t\n", p.Type(), p.Data, p.RTT > 0 && p.RTT < time.Second)
		ws.Close()
	}
	loop.Run()
	// Output:
	// pong "1", under a second: true
}

// BufferedAmountLowEvent tells a producer that its backlog has drained to
// Config.BufferedAmountLowThreshold (zero: drained completely).
func ExampleBufferedAmountLowEvent() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loop})
	if err != nil {
		log.Fatal(err)
	}
	ws.OnOpen = func(websocket.OpenEvent) {
		ws.Send(make([]byte, 1<<20))
		fmt.Println("queued:", ws.BufferedAmount())
	}
	ws.OnBufferedAmountLow = func(e websocket.BufferedAmountLowEvent) {
		fmt.Println(e.Type(), "- left:", ws.BufferedAmount())
		ws.Close()
	}
	loop.Run()
	// Output:
	// queued: 1048576
	// bufferedamountlow - left: 0
}

// ReconnectEvent fires for each attempt of a socket that reconnects, with
// how the lost connection ended; the socket is Connecting until it opens
// again.
func ExampleReconnectEvent() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{
		Loop:      loop,
		Reconnect: &websocket.ReconnectPolicy{InitialDelay: 10 * time.Millisecond, Jitter: -1}, // no jitter: an exact delay
	})
	if err != nil {
		log.Fatal(err)
	}
	opens := 0
	ws.OnOpen = func(websocket.OpenEvent) {
		if opens++; opens == 1 {
			ws.SendText("!close 1013 try again later")
		} else {
			ws.Close()
		}
	}
	ws.OnReconnect = func(r websocket.ReconnectEvent) {
		fmt.Println("attempt", r.Attempt, "in", r.Delay, "after", r.Close.Code, r.Close.Reason, "err", r.Err, ws.ReadyState())
	}
	ws.OnClose = func(c websocket.CloseEvent) { fmt.Println("close", c.Code, "after", opens, "opens") }
	loop.Run()
	// Output:
	// attempt 1 in 10ms after 1013 try again later err <nil> CONNECTING
	// close 1005 after 2 opens
}

// ReadyState is numbered as the browser's readyState.
func ExampleReadyState() {
	for _, s := range []websocket.ReadyState{websocket.Connecting, websocket.Open, websocket.Closing, websocket.Closed} {
		fmt.Println(int(s), s)
	}
	// Output:
	// 0 CONNECTING
	// 1 OPEN
	// 2 CLOSING
	// 3 CLOSED
}

// String names a state as the WHATWG standard does.
func ExampleReadyState_String() {
	fmt.Println(websocket.Closing.String())
	// Output:
	// CLOSING
}
