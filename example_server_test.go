package websocket_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/wsloop/websocket"
)

// A server whose sockets set their handlers on their loop, as a Node ws
// server's "connection" listener does.
func ExampleUpgrader_Handler() {
	up := &websocket.Upgrader{Protocols: []string{"chat.v1"}}
	srv := httptest.NewServer(up.Handler(func(ws *websocket.WebSocket, r *http.Request) {
		ws.OnMessage = func(m websocket.MessageEvent) {
			ws.SendText("echo: " + m.Text())
		}
		ws.OnClose = func(c websocket.CloseEvent) {
			fmt.Println("server: closed", c.Code, c.WasClean)
		}
	}))
	defer srv.Close()

	ctx := context.Background()
	ws, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), &websocket.Config{Protocols: []string{"chat.v1"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("protocol:", ws.Protocol())
	ws.SendText("hello")
	m, _ := ws.WaitForNextMessage(ctx)
	fmt.Println(m.Text())
	ws.Close()
	up.Shutdown(ctx) // waits for the server's socket to close
	// Output:
	// protocol: chat.v1
	// echo: hello
	// server: closed 1005 true
}

// Upgrade's socket serves one client with the blocking calls, on the
// HTTP handler's goroutine.
func ExampleUpgrader_Upgrade() {
	up := &websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r)
		if err != nil {
			return // refused: the response says why
		}
		ctx := context.Background()
		for {
			m, err := ws.WaitForNextMessage(ctx)
			if err != nil {
				return // closed
			}
			ws.SendText(strings.ToUpper(m.Text()))
		}
	}))
	defer srv.Close()

	ctx := context.Background()
	ws, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	ws.SendText("shout")
	m, _ := ws.WaitForNextMessage(ctx)
	fmt.Println(m.Text())
	ws.Close()

	// A plain GET is not a WebSocket request.
	resp, _ := http.Get(srv.URL)
	fmt.Println(resp.StatusCode, resp.Header.Get("Upgrade"))
	resp.Body.Close()
	// Output:
	// SHOUT
	// 426 websocket
}

// Broadcast to every socket on a loop; a slow client would be skipped,
// never waited for.
func ExampleBroadcastText() {
	loop := websocket.NewEventLoop()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go loop.RunContext(ctx)

	up := &websocket.Upgrader{Loop: loop}
	joined := make(chan *websocket.WebSocket, 3)
	srv := httptest.NewServer(up.Handler(func(ws *websocket.WebSocket, _ *http.Request) { joined <- ws }))
	defer srv.Close()

	var clients []*websocket.WebSocket
	for range 3 {
		ws, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		clients = append(clients, ws)
	}
	for range 3 {
		<-joined // the server's socket is on its loop
	}
	skipped := websocket.BroadcastText(loop.Sockets(), "news")
	fmt.Println("skipped:", len(skipped))
	for _, ws := range clients {
		m, _ := ws.WaitForNextMessage(ctx)
		fmt.Println(m.Text())
	}
	up.Shutdown(ctx)
	for _, ws := range clients {
		_, err := ws.WaitForNextMessage(ctx)
		fmt.Println(err)
	}
	// Output:
	// skipped: 0
	// news
	// news
	// news
	// websocket: closed (code 1001, reason "going away", clean true)
	// websocket: closed (code 1001, reason "going away", clean true)
	// websocket: closed (code 1001, reason "going away", clean true)
}
