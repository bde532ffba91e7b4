package websocket_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/wsloop/websocket"
	"github.com/wsloop/websocket/internal/echoserver"
)

// Keepalive: a ping after each PingInterval of silence, and the server
// presumed dead (a *KeepaliveError, then close 1006) when nothing comes
// back within PongTimeout. The pong tells the round trip.
func ExampleConfig_keepalive() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{
		Loop:         loop,
		PingInterval: 50 * time.Millisecond, // 30*time.Second in a real program
		PongTimeout:  time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	ws.OnPong = func(p websocket.PongEvent) {
		fmt.Println("keepalive pong, round trip measured:", p.RTT > 0)
		ws.Close()
	}
	ws.OnError = func(e websocket.ErrorEvent) {
		var ke *websocket.KeepaliveError
		if errors.As(e.Err, &ke) {
			fmt.Println("the server stopped answering for", ke.Silence)
		}
	}
	ws.OnClose = func(c websocket.CloseEvent) { fmt.Println("close:", c.Code) }
	loop.Run()
	// Output:
	// keepalive pong, round trip measured: true
	// close: 1005
}

// With ManualPong the program answers the server's pings itself.
func ExampleConfig_manualPong() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loop, ManualPong: true})
	if err != nil {
		log.Fatal(err)
	}
	ws.OnOpen = func(websocket.OpenEvent) { ws.SendText("!ping hello") } // the echo server pings
	ws.OnPing = func(p websocket.PingEvent) {
		fmt.Printf("ping %q: answering\n", p.Data)
		ws.Pong(p.Data)
		ws.Close()
	}
	loop.Run()
	// Output:
	// ping "hello": answering
}

// A socket that reconnects: the server restarts (close 1012), the same
// WebSocket goes back to Connecting, fires a ReconnectEvent, and opens
// again; a message sent meanwhile waits for the new connection.
func ExampleReconnectPolicy() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{
		Loop:      loop,
		Reconnect: &websocket.ReconnectPolicy{InitialDelay: 10 * time.Millisecond, MaxAttempts: 5},
	})
	if err != nil {
		log.Fatal(err)
	}
	opens := 0
	ws.OnOpen = func(websocket.OpenEvent) {
		opens++
		fmt.Println("open", opens)
		if opens == 1 {
			ws.SendText("!close 1012 restarting") // the echo server closes with it
		}
	}
	ws.OnReconnect = func(r websocket.ReconnectEvent) {
		fmt.Println("reconnect: attempt", r.Attempt, "after close", r.Close.Code, r.Close.Reason, ws.ReadyState())
		ws.SendText("sent while reconnecting")
	}
	ws.OnMessage = func(m websocket.MessageEvent) {
		fmt.Println("message:", m.Text())
		ws.CloseWith(websocket.CloseNormal, "done")
	}
	ws.OnClose = func(c websocket.CloseEvent) { fmt.Println("close:", c.Code, c.WasClean) }
	loop.Run()
	// Output:
	// open 1
	// reconnect: attempt 1 after close 1012 restarting CONNECTING
	// open 2
	// message: sent while reconnecting
	// close: 1000 true
}

// A logger hears the socket's life; here only the info lines, without the
// time and the URL, whose port changes from run to run.
func ExampleConfig_logger() {
	srv := startEcho()
	defer srv.Close()

	h := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "url" || a.Key == "ws" {
				return slog.Attr{}
			}
			return a
		},
	})
	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loop, Logger: slog.New(h)})
	if err != nil {
		log.Fatal(err)
	}
	ws.OnOpen = func(websocket.OpenEvent) { ws.CloseWith(websocket.CloseNormal, "") }
	loop.Run()
	// Output:
	// level=INFO msg=open protocol=""
	// level=INFO msg=closed code=1000 reason="" clean=true
}

// Stats counts a socket's messages and bytes, for metrics.
func ExampleWebSocket_Stats() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loop})
	if err != nil {
		log.Fatal(err)
	}
	ws.OnOpen = func(websocket.OpenEvent) { ws.SendText("hello") }
	ws.OnMessage = func(websocket.MessageEvent) { ws.CloseWith(websocket.CloseNormal, "") }
	loop.Run()
	s := ws.Stats()
	fmt.Printf("in: %d message, %d bytes; out: %d message, %d bytes\n", s.MessagesIn, s.BytesIn, s.MessagesOut, s.BytesOut)
	// Output:
	// in: 1 message, 11 bytes; out: 1 message, 19 bytes
}

// A message too large to hold is written in pieces: here from a reader,
// with io.Copy; the echo server sends it back whole.
func ExampleWebSocket_NewMessageWriter() {
	srv := startEcho()
	defer srv.Close()

	ctx := context.Background()
	ws, err := websocket.Dial(ctx, srv.URL(), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer ws.Close()
	w, err := ws.NewMessageWriter(ctx, false)
	if err != nil {
		log.Fatal(err)
	}
	src := strings.NewReader(strings.Repeat("0123456789", 100_000)) // a file, say
	if _, err := io.Copy(w, src); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil { // the final frame
		log.Fatal(err)
	}
	m, err := ws.WaitForNextMessage(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("echoed", len(m.Data), "bytes in one message")
	// Output:
	// echoed 1000000 bytes in one message
}

// A protocol written for TCP runs over a WebSocket through NetConn: here
// a line protocol with bufio.
func ExampleWebSocket_NetConn() {
	srv := startEcho()
	defer srv.Close()

	ws, err := websocket.Dial(context.Background(), srv.URL(), nil)
	if err != nil {
		log.Fatal(err)
	}
	conn, err := ws.NetConn(false) // text messages
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "HELLO %s\n", "there")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(line)
	// Output:
	// HELLO there
}

// A message too large to hold is read as it arrives, through a bounded
// inbox, with StreamMessages and NextReader: here into a hash.
func ExampleWebSocket_NextReader() {
	srv := startEcho()
	defer srv.Close()

	ctx := context.Background()
	ws, err := websocket.Dial(ctx, srv.URL(), &websocket.Config{StreamMessages: true, MaxInboxSize: 256 << 10})
	if err != nil {
		log.Fatal(err)
	}
	defer ws.Close()
	ws.Send(make([]byte, 8<<20)) // the echo server sends it back
	r, err := ws.NextReader(ctx)
	if err != nil {
		log.Fatal(err)
	}
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d bytes, sha256 %x...\n", n, h.Sum(nil)[:4])
	// Output:
	// 8388608 bytes, sha256 2daeb1f3...
}

// Retry decides which losses are worth another attempt: here the server's
// application code 4000 ("come back later") too, besides what
// RetryTransient retries.
func ExampleRetryTransient() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{
		Loop: loop,
		Reconnect: &websocket.ReconnectPolicy{
			InitialDelay: 10 * time.Millisecond,
			Retry: func(ev websocket.CloseEvent, err error) bool {
				return ev.Code == 4000 || websocket.RetryTransient(ev, err)
			},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	ws.OnOpen = func(websocket.OpenEvent) { ws.SendText("!close 4000 later") }
	ws.OnReconnect = func(r websocket.ReconnectEvent) {
		fmt.Println("reconnect after", r.Close.Code, r.Close.Reason)
		if r.Attempt == 1 {
			ws.OnOpen = func(websocket.OpenEvent) { ws.Close() }
		}
	}
	ws.OnClose = func(c websocket.CloseEvent) { fmt.Println("close:", c.Code) }
	loop.Run()
	// Output:
	// reconnect after 4000 later
	// close: 1005
}

// permessage-deflate is offered by default; a server that accepts it names
// its parameters, and messages past the threshold travel compressed: here
// 10 000 bytes of text in far fewer on the wire.
func ExampleCompression() {
	srv, err := echoserver.Listen("127.0.0.1:0", echoserver.Options{Compression: true})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ctx := context.Background()
	ws, err := websocket.Dial(ctx, srv.URL(), &websocket.Config{
		Compression: &websocket.Compression{Threshold: 256}, // nil: Chromium's offer, threshold 128
	})
	if err != nil {
		log.Fatal(err)
	}
	defer ws.Close()
	fmt.Println("extensions:", ws.Extensions())
	ws.SendText(strings.Repeat("compressible ", 770)[:10_000])
	m, err := ws.WaitForNextMessage(ctx)
	if err != nil {
		log.Fatal(err)
	}
	s := ws.Stats()
	fmt.Println("echoed", len(m.Data), "bytes; on the wire under 500 each way:", s.BytesOut < 500, s.BytesIn < 500)
	// Output:
	// extensions: permessage-deflate;server_no_context_takeover;client_no_context_takeover
	// echoed 10000 bytes; on the wire under 500 each way: true true
}
