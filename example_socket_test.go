package websocket_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/wsloop/websocket"
)

// One type for both ends: the server's socket, made by an Upgrader, has
// the same handlers and methods as the client's.
func ExampleWebSocket() {
	up := &websocket.Upgrader{Protocols: []string{"chat.v1"}}
	srv := httptest.NewServer(up.Handler(func(server *websocket.WebSocket, _ *http.Request) {
		server.OnMessage = func(m websocket.MessageEvent) {
			server.SendText(fmt.Sprintf("server got %q over %s", m.Text(), server.Protocol()))
		}
	}))
	defer srv.Close()

	loop := websocket.NewEventLoop()
	client, err := websocket.NewWithConfig("ws"+strings.TrimPrefix(srv.URL, "http"), &websocket.Config{
		Loop:      loop,
		Protocols: []string{"chat.v1"},
	})
	if err != nil {
		log.Fatal(err)
	}
	client.OnOpen = func(websocket.OpenEvent) { client.SendText("hi") }
	client.OnMessage = func(m websocket.MessageEvent) {
		fmt.Println(m.Text())
		client.Close()
	}
	loop.Run()
	up.Shutdown(context.Background())
	// Output:
	// server got "hi" over chat.v1
}

// NewWithConfig is New with a Config: here the loop to live on, and a
// field that cannot be used, refused before any dial.
func ExampleNewWithConfig() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loop, UserAgent: "example/1.0"})
	if err != nil {
		log.Fatal(err)
	}
	ws.OnOpen = func(websocket.OpenEvent) {
		fmt.Println("open on my loop:", ws.Loop() == loop)
		ws.Close()
	}
	loop.Run()

	_, err = websocket.NewWithConfig(srv.URL(), &websocket.Config{PingInterval: 30}) // 30ns: a unit left out
	var ce *websocket.ConfigError
	fmt.Println(errors.As(err, &ce), ce.Field)
	// Output:
	// open on my loop: true
	// true PingInterval
}

// URL is the constructor's URL as a browser serializes it: the scheme
// mapped, the host canonical, the default port dropped, dot segments
// resolved, the query percent-encoded.
func ExampleWebSocket_URL() {
	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig("HTTP://0x7F.1:80/a/./b/../c?q=a b", &websocket.Config{Loop: loop})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ws.URL())
	ws.Close() // while connecting: error, then close 1006
	loop.Run()
	// Output:
	// ws://127.0.0.1/a/c?q=a%20b
}

// The four states, in the order a socket goes through them.
func ExampleWebSocket_ReadyState() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loop})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("made:", ws.ReadyState())
	ws.OnOpen = func(websocket.OpenEvent) {
		fmt.Println("open:", ws.ReadyState())
		ws.Close()
		fmt.Println("after Close:", ws.ReadyState())
	}
	ws.OnClose = func(websocket.CloseEvent) { fmt.Println("close:", ws.ReadyState()) }
	loop.Run()
	// Output:
	// made: CONNECTING
	// open: OPEN
	// after Close: CLOSING
	// close: CLOSED
}

// BufferedAmount counts a task's sends until the task ends, as the WHATWG
// standard does; the loop then writes them, and a later task reads what
// the kernel has not taken (nothing, for a few bytes).
func ExampleWebSocket_BufferedAmount() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loop})
	if err != nil {
		log.Fatal(err)
	}
	ws.OnOpen = func(websocket.OpenEvent) {
		ws.SendText("€€€") // 9 bytes of UTF-8
		fmt.Println("in the task:", ws.BufferedAmount())
		ws.SendText("!")
		fmt.Println("in the task:", ws.BufferedAmount())
		loop.Post(func() {
			fmt.Println("in a later task:", ws.BufferedAmount())
			ws.Close()
		})
	}
	loop.Run()
	// Output:
	// in the task: 9
	// in the task: 10
	// in a later task: 0
}

// Send sends bytes as a binary message, which the echo server sends back
// as one.
func ExampleWebSocket_Send() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loop})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("before open:", ws.Send([]byte{1}))
	ws.OnOpen = func(websocket.OpenEvent) {
		buf := []byte{0xde, 0xad, 0xbe, 0xef}
		ws.Send(buf)
		buf[0] = 0 // Send has copied it: buf may be reused at once
	}
	ws.OnMessage = func(m websocket.MessageEvent) {
		fmt.Printf("binary=%t % x\n", m.Binary, m.Data)
		ws.Close()
	}
	loop.Run()
	// Output:
	// before open: websocket: InvalidStateError: the socket is still connecting
	// binary=true de ad be ef
}

// SendText sends a text message, as JavaScript's send of a string: here
// JSON, as JSON.stringify would make it. A string that is not UTF-8 is
// refused.
func ExampleWebSocket_SendText() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loop})
	if err != nil {
		log.Fatal(err)
	}
	ws.OnOpen = func(websocket.OpenEvent) {
		fmt.Println("\\xff:", ws.SendText("\xff"))
		b, _ := json.Marshal(map[string]any{"type": "hello", "n": 1})
		ws.SendText(string(b))
	}
	ws.OnMessage = func(m websocket.MessageEvent) {
		fmt.Printf("binary=%t %s\n", m.Binary, m.Text())
		ws.Close()
	}
	loop.Run()
	// Output:
	// \xff: websocket: SendText: the text is not valid UTF-8; send bytes with Send
	// binary=false {"n":1,"type":"hello"}
}

// Close while connecting fails the connection, as the browser's close()
// does: error, then close 1006. Once open, see ExampleNew: a close frame
// without a code, answered by one, reported as 1005.
func ExampleWebSocket_Close() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loop})
	if err != nil {
		log.Fatal(err)
	}
	ws.OnOpen = func(websocket.OpenEvent) { fmt.Println("never opens") }
	ws.OnError = func(e websocket.ErrorEvent) {
		fmt.Println("error:", errors.Is(e.Err, websocket.ErrClosedWhileConnecting))
	}
	ws.OnClose = func(c websocket.CloseEvent) { fmt.Println("close:", c.Code, c.WasClean) }
	ws.Close()
	ws.Close() // a second close does nothing
	loop.Run()
	// Output:
	// error: true
	// close: 1006 false
}

// Ping sends a ping, which a browser cannot; the server's pong fires
// OnPong with the round trip's time.
func ExampleWebSocket_Ping() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loop})
	if err != nil {
		log.Fatal(err)
	}
	ws.OnOpen = func(websocket.OpenEvent) {
		fmt.Println("126 bytes:", ws.Ping(make([]byte, 126)))
		ws.Ping([]byte("are you there?"))
	}
	ws.OnPong = func(p websocket.PongEvent) {
		fmt.Printf("pong %q, round trip measured: %t\n", p.Data, p.RTT > 0)
		ws.Close()
	}
	loop.Run()
	// Output:
	// 126 bytes: websocket: control frame payload longer than 125 bytes
	// pong "are you there?", round trip measured: true
}

// Pong sends a pong of the program's: the answer to a ping with
// Config.ManualPong (see ExampleConfig_manualPong), or an unsolicited
// one, a heartbeat that asks for no answer.
func ExampleWebSocket_Pong() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loop})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("connecting:", ws.Pong(nil))
	ws.OnOpen = func(websocket.OpenEvent) {
		fmt.Println("open:", ws.Pong([]byte("heartbeat")))
		ws.Close()
	}
	loop.Run()
	// Output:
	// connecting: websocket: InvalidStateError: the socket is still connecting
	// open: <nil>
}

// Protocol is the subprotocol the server chose among those offered, or ""
// when none was offered. A server that chooses none of those offered
// fails the connection, as in a browser.
func ExampleWebSocket_Protocol() {
	srv := startEcho("chat.v1", "chat.v2")
	defer srv.Close()

	ctx := context.Background()
	for _, offer := range [][]string{{"chat.v3", "chat.v2"}, nil, {"chat.v9"}} {
		ws, err := websocket.Dial(ctx, srv.URL(), &websocket.Config{Protocols: offer})
		var he *websocket.HandshakeError
		switch {
		case errors.As(err, &he):
			fmt.Printf("offered %q: %v\n", offer, he)
		case err != nil:
			log.Fatal(err)
		default:
			fmt.Printf("offered %q: %q\n", offer, ws.Protocol())
			ws.Close()
		}
	}
	// Output:
	// offered ["chat.v3" "chat.v2"]: "chat.v2"
	// offered []: ""
	// offered ["chat.v9"]: websocket: handshake: the server selected none of the protocols offered
}

// Extensions is the server's answer to the permessage-deflate offer, in
// its words: here an Upgrader's, and nothing when none is offered.
func ExampleWebSocket_Extensions() {
	up := &websocket.Upgrader{}
	srv := httptest.NewServer(up.Handler(func(*websocket.WebSocket, *http.Request) {}))
	defer srv.Close()

	ctx := context.Background()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	for _, cfg := range []*websocket.Config{nil, {NoCompression: true}} {
		ws, err := websocket.Dial(ctx, url, cfg)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%q\n", ws.Extensions())
		ws.Close()
	}
	up.Shutdown(ctx)
	// Output:
	// "permessage-deflate; server_no_context_takeover"
	// ""
}

// ID tells sockets apart in logs and maps, and finds one on its loop.
func ExampleWebSocket_ID() {
	loop := websocket.NewEventLoop()
	a, _ := websocket.NewWithConfig("ws://127.0.0.1:1/", &websocket.Config{Loop: loop})
	b, _ := websocket.NewWithConfig("ws://127.0.0.1:1/", &websocket.Config{Loop: loop})
	fmt.Println("distinct:", a.ID() != b.ID())
	fmt.Println("found by ID:", loop.Socket(a.ID()) == a)
	a.Close()
	b.Close()
	loop.Run()
	// Output:
	// distinct: true
	// found by ID: true
}

// IsMessageBuffered tells whether WaitForNextMessage would return without
// waiting, for a program that polls between other work.
func ExampleWebSocket_IsMessageBuffered() {
	srv := startEcho()
	defer srv.Close()

	ctx := context.Background()
	ws, err := websocket.Dial(ctx, srv.URL(), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer ws.Close()
	fmt.Println("before:", ws.IsMessageBuffered())
	ws.SendText("hello")
	for !ws.IsMessageBuffered() {
		time.Sleep(time.Millisecond) // other work
	}
	m, _ := ws.WaitForNextMessage(ctx) // returns at once
	fmt.Println("then:", m.Text())
	// Output:
	// before: false
	// then: hello
}

// IsDataPending tells of anything received and not taken, pings and pongs
// too, where IsMessageBuffered looks for messages only.
func ExampleWebSocket_IsDataPending() {
	srv := startEcho()
	defer srv.Close()

	ctx := context.Background()
	ws, err := websocket.Dial(ctx, srv.URL(), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer ws.Close()
	ws.SendText("!ping hello") // the echo server pings
	for !ws.IsDataPending() {
		time.Sleep(time.Millisecond)
	}
	fmt.Println("message:", ws.IsMessageBuffered(), "data:", ws.IsDataPending())
	e, _ := ws.LowLevelReceive(ctx)
	fmt.Println("took a", e.Type(), "- data:", ws.IsDataPending())
	// Output:
	// message: false data: true
	// took a ping - data: false
}

// LowLevelReceive returns everything received, in order: pings and pongs
// as well as messages.
func ExampleWebSocket_LowLevelReceive() {
	srv := startEcho()
	defer srv.Close()

	ctx := context.Background()
	ws, err := websocket.Dial(ctx, srv.URL(), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer ws.Close()
	ws.SendText("!ping p1") // the echo server pings
	ws.SendText("data")
	for range 2 {
		e, err := ws.LowLevelReceive(ctx)
		if err != nil {
			log.Fatal(err)
		}
		switch e := e.(type) {
		case websocket.PingEvent:
			fmt.Printf("ping %q (answered already)\n", e.Data)
		case websocket.MessageEvent:
			fmt.Printf("message %q\n", e.Text())
		}
	}
	// Output:
	// ping "p1" (answered already)
	// message "data"
}

// WaitForNextMessage skips pings and pongs, and gives up when its context
// ends.
func ExampleWebSocket_WaitForNextMessage() {
	srv := startEcho()
	defer srv.Close()

	ctx := context.Background()
	ws, err := websocket.Dial(ctx, srv.URL(), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer ws.Close()
	ws.SendText("!ping p1")
	ws.SendText("data")
	m, err := ws.WaitForNextMessage(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Text())

	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err = ws.WaitForNextMessage(short) // nothing more comes
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output:
	// data
	// true
}
