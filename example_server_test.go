package websocket_test

import (
	"context"
	"errors"
	"fmt"
	"net"
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

// Pages of other origins are refused unless a pattern allows them; a
// client that is no browser sends no Origin and is not checked.
func ExampleUpgrader_allowedOrigins() {
	up := &websocket.Upgrader{AllowedOrigins: []string{"https://*.example.org"}}
	srv := httptest.NewServer(up.Handler(func(*websocket.WebSocket, *http.Request) {}))
	defer srv.Close()

	ctx := context.Background()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	for _, origin := range []string{"https://app.example.org", "https://evil.example.com"} {
		ws, err := websocket.Dial(ctx, url, &websocket.Config{Origin: origin})
		var he *websocket.HandshakeError
		switch {
		case err == nil:
			fmt.Println(origin, "allowed")
			ws.Close()
		case errors.As(err, &he):
			fmt.Println(origin, "refused with", he.StatusCode)
		}
	}
	up.Shutdown(ctx)
	// Output:
	// https://app.example.org allowed
	// https://evil.example.com refused with 403
}

// A server finds a socket again by the ID it gave the client.
func ExampleEventLoop_Socket() {
	loop := websocket.NewEventLoop()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go loop.RunContext(ctx)

	up := &websocket.Upgrader{Loop: loop}
	srv := httptest.NewServer(up.Handler(func(ws *websocket.WebSocket, _ *http.Request) {
		ws.SendText(fmt.Sprint(ws.ID())) // the client's ticket
		ws.OnMessage = func(m websocket.MessageEvent) {
			var id uint64
			fmt.Sscan(m.Text(), &id)
			if other := loop.Socket(id); other != nil {
				other.SendText("a message for you")
			}
		}
	}))
	defer srv.Close()

	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	alice, _ := websocket.Dial(ctx, url, nil)
	bob, _ := websocket.Dial(ctx, url, nil)
	alice.WaitForNextMessage(ctx)
	ticket, _ := bob.WaitForNextMessage(ctx)
	alice.SendText(ticket.Text()) // alice writes to bob by his ID
	m, _ := bob.WaitForNextMessage(ctx)
	fmt.Println(m.Text())
	up.Shutdown(ctx)
	// Output:
	// a message for you
}

// TLSListener serves wss:// so that each upgraded connection costs no
// goroutine, as a ws:// one.
func ExampleTLSListener() {
	// A certificate for the example: httptest's.
	certs := httptest.NewTLSServer(http.NotFoundHandler())
	serverTLS := certs.TLS.Clone()
	clientTLS := certs.Client().Transport.(*http.Transport).TLSClientConfig
	certs.Close()

	up := &websocket.Upgrader{}
	srv := &http.Server{Handler: up.Handler(func(ws *websocket.WebSocket, _ *http.Request) {
		ws.OnMessage = func(m websocket.MessageEvent) { ws.SendText("secure " + m.Text()) }
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	go srv.Serve(websocket.TLSListener(ln, serverTLS))

	ctx := context.Background()
	ws, err := websocket.Dial(ctx, "wss://"+ln.Addr().String()+"/", &websocket.Config{TLSConfig: clientTLS})
	if err != nil {
		fmt.Println(err)
		return
	}
	ws.SendText("hello")
	m, _ := ws.WaitForNextMessage(ctx)
	fmt.Println(m.Text())
	ws.Close()
	srv.Shutdown(ctx)
	up.Shutdown(ctx)
	// Output:
	// secure hello
}
