package websocket_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsloop/websocket"
	"github.com/wsloop/websocket/internal/echoserver"
)

// startEcho starts the embedded echo server on a loopback port; its URL
// changes from run to run, so the examples never print it.
func startEcho(protocols ...string) *echoserver.Server {
	srv, err := echoserver.Listen("127.0.0.1:0", echoserver.Options{Protocols: protocols})
	if err != nil {
		log.Fatal(err)
	}
	return srv
}

// A program ported from JavaScript: the constructor, the four handlers,
// and the default loop run until the socket is closed.
func ExampleNew() {
	srv := startEcho()
	defer srv.Close()

	ws, err := websocket.New(srv.URL())
	if err != nil {
		log.Fatal(err)
	}
	ws.OnOpen = func(websocket.OpenEvent) {
		fmt.Println("open:", ws.ReadyState())
		ws.SendText("hello")
	}
	ws.OnMessage = func(m websocket.MessageEvent) {
		fmt.Println("message:", m.Text())
		ws.Close()
	}
	ws.OnError = func(e websocket.ErrorEvent) {
		fmt.Println("error:", e.Err)
	}
	ws.OnClose = func(c websocket.CloseEvent) {
		// Close sends no status code, as the browser's close(), so the
		// server's answer has none either: 1005.
		fmt.Println("close:", c.Code, c.WasClean, ws.ReadyState())
	}
	if err := websocket.Run(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// open: OPEN
	// message: hello
	// close: 1005 true CLOSED
}

// The blocking API: no handlers, no loop in sight.
func ExampleDial() {
	srv := startEcho()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, err := websocket.Dial(ctx, srv.URL(), nil)
	if err != nil {
		log.Fatal(err)
	}
	ws.SendText("hello")
	ws.Send([]byte{1, 2, 3})
	for range 2 {
		m, err := ws.WaitForNextMessage(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("binary=%t data=%q\n", m.Binary, m.Data)
	}

	// CloseWith waits for the closing handshake; the next blocking call
	// reports the close.
	ws.CloseWith(websocket.CloseNormal, "bye")
	_, err = ws.WaitForNextMessage(ctx)
	var closed *websocket.ClosedError
	if errors.As(err, &closed) {
		fmt.Println("closed:", closed.Event.Code, closed.Event.WasClean, errors.Is(err, websocket.ErrClosed))
	}
	// Output:
	// binary=false data="hello"
	// binary=true data="\x01\x02\x03"
	// closed: 1000 true true
}

// Tasks and timers, to port JavaScript's setTimeout and setInterval: every
// callback runs on the goroutine that calls Run, which returns once no
// task, timer or socket is left.
func ExampleEventLoop() {
	loop := websocket.NewEventLoop()

	ticks := 0
	var interval *websocket.Timer
	interval = loop.SetInterval(func() {
		ticks++
		fmt.Println("tick", ticks)
		if ticks == 3 {
			interval.Stop() // clearInterval, from its own callback
			loop.SetTimeout(func() { fmt.Println("timeout") }, 10*time.Millisecond)
		}
	}, 5*time.Millisecond)
	// A posted task runs before any timer is due.
	loop.Post(func() { fmt.Println("posted task") })

	err := loop.Run()
	fmt.Println("Run returned:", err)
	// Output:
	// posted task
	// tick 1
	// tick 2
	// tick 3
	// timeout
	// Run returned: <nil>
}

// CloseWith checks its arguments as the browser's close(code, reason)
// does, whatever the socket's state; it also takes the codes a browser
// refuses but RFC 6455 lets a client send, such as 1001 (CloseGoingAway).
func ExampleWebSocket_CloseWith() {
	srv := startEcho()
	defer srv.Close()
	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loop})
	if err != nil {
		log.Fatal(err)
	}

	var access *websocket.InvalidAccessError
	err = ws.CloseWith(websocket.CloseInternalError, "") // 1011 is the server's
	fmt.Println("1011:", errors.As(err, &access))
	var syntax *websocket.SyntaxError
	err = ws.CloseWith(4000, strings.Repeat("x", 124))
	fmt.Println("124-byte reason:", errors.As(err, &syntax))

	ws.OnOpen = func(websocket.OpenEvent) {
		ws.CloseWith(4000, "maintenance")
		fmt.Println("after CloseWith:", ws.ReadyState())
		// Data sent once closing is dropped, and the caller is told.
		fmt.Println("send:", ws.SendText("too late"), ws.BufferedAmount())
	}
	ws.OnClose = func(c websocket.CloseEvent) {
		// The echo server answers with the same code and no reason.
		fmt.Printf("close: code=%d reason=%q wasClean=%t\n", c.Code, c.Reason, c.WasClean)
	}
	loop.Run()
	// Output:
	// 1011: true
	// 124-byte reason: true
	// after CloseWith: CLOSING
	// send: websocket: the socket is closing or closed: data dropped 8
	// close: code=4000 reason="" wasClean=true
}

// Listeners beside the On* fields, as addEventListener: the On* handler
// runs first, then the listeners in the order they were added; an event's
// data is reached with a type assertion.
func ExampleWebSocket_AddEventListener() {
	srv := startEcho()
	defer srv.Close()
	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loop})
	if err != nil {
		log.Fatal(err)
	}

	ws.OnMessage = func(m websocket.MessageEvent) { fmt.Println("OnMessage:", m.Text()) }
	var removeOnce func()
	removeOnce = ws.AddEventListener("message", func(e websocket.Event) {
		fmt.Println("once:", e.(websocket.MessageEvent).Text())
		removeOnce()
	})
	ws.AddEventListener("message", func(e websocket.Event) {
		m := e.(websocket.MessageEvent)
		fmt.Println("logger:", m.Text())
		if m.Text() == "second" {
			ws.Close()
		}
	})
	ws.AddEventListener("open", func(websocket.Event) {
		ws.SendText("first")
		ws.SendText("second")
	})
	ws.AddEventListener("close", func(e websocket.Event) {
		fmt.Println(e.Type(), e.(websocket.CloseEvent).WasClean)
	})
	loop.Run()
	// Output:
	// OnMessage: first
	// once: first
	// logger: first
	// OnMessage: second
	// logger: second
	// close true
}

// Stop ends Run early, from a callback or from any other goroutine (a
// signal handler, say); the loop keeps its sockets and timers, and the
// next Run carries on.
func ExampleEventLoop_Stop() {
	loop := websocket.NewEventLoop()

	ticks := 0
	stopFromOutside := make(chan struct{})
	heartbeat := loop.SetInterval(func() {
		ticks++
		switch ticks {
		case 3:
			loop.Stop()
		case 5:
			close(stopFromOutside)
		}
	}, time.Millisecond)
	go func() {
		<-stopFromOutside
		loop.Stop()
	}()

	// The interval alone would keep the loop running forever.
	loop.Run()
	fmt.Println("stopped from a callback at tick", ticks)
	loop.Run()
	fmt.Println("stopped from another goroutine after tick 5:", ticks >= 5)

	heartbeat.Stop()
	loop.Run()
	fmt.Println("nothing left: Run returns at once")
	// Output:
	// stopped from a callback at tick 3
	// stopped from another goroutine after tick 5: true
	// nothing left: Run returns at once
}

// Everything a dial can be told: subprotocols in order of preference,
// extra request headers, the page's Origin, the loop to live on.
func ExampleConfig() {
	srv := startEcho("chat.v1", "chat.v2")
	defer srv.Close()
	loop := websocket.NewEventLoop()

	cfg := &websocket.Config{
		Protocols: []string{"chat.v3", "chat.v2"},
		Header:    http.Header{"Authorization": {"Bearer 0123456789"}},
		Origin:    "https://app.example",
		Loop:      loop,
	}
	ws, err := websocket.NewWithConfig(srv.URL(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	ws.OnOpen = func(websocket.OpenEvent) {
		fmt.Printf("protocol: %q\n", ws.Protocol())
		ws.Close()
	}
	loop.Run()

	// Headers that belong to the handshake itself are refused.
	_, err = websocket.NewWithConfig(srv.URL(), &websocket.Config{
		Header: http.Header{"Sec-WebSocket-Protocol": {"chat.v1"}},
		Loop:   loop,
	})
	var ce *websocket.ConfigError
	fmt.Println(errors.As(err, &ce), ce.Field)
	// Output:
	// protocol: "chat.v2"
	// true Header
}

// A handler that is done with each message when it returns gives the
// buffer back, so that receiving at a high rate allocates next to nothing.
func ExampleMessageEvent_Release() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loop})
	if err != nil {
		log.Fatal(err)
	}
	var total, count int
	ws.OnOpen = func(websocket.OpenEvent) {
		for i := range 3 {
			ws.Send(make([]byte, 1000*(i+1)))
		}
	}
	ws.OnMessage = func(m websocket.MessageEvent) {
		total += len(m.Data) // the last use of m.Data
		m.Release()
		if count++; count == 3 {
			ws.Close()
		}
	}
	if err := loop.Run(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(count, "messages,", total, "bytes")
	// Output:
	// 3 messages, 6000 bytes
}

// A program that outgrows one core runs one loop per core, each on a
// goroutine of its own, and spreads its sockets across them. A socket
// stays on its loop for life, so what its handlers touch needs no lock;
// only what the loops share does. Two loops here, for a steady output;
// runtime.NumCPU() in a real program (see examples/multicore).
func ExampleEventLoop_perCore() {
	srv := startEcho()
	defer srv.Close()

	loops := []*websocket.EventLoop{websocket.NewEventLoop(), websocket.NewEventLoop()}
	var echoes atomic.Int64 // shared by the loops
	for i := range 8 {
		ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loops[i%len(loops)]})
		if err != nil {
			log.Fatal(err)
		}
		got := 0 // this socket's alone, touched only on its loop
		ws.OnOpen = func(websocket.OpenEvent) {
			for range 10 {
				ws.SendText("ping")
			}
		}
		ws.OnMessage = func(websocket.MessageEvent) {
			echoes.Add(1)
			if got++; got == 10 {
				ws.Close()
			}
		}
	}
	var wg sync.WaitGroup
	for _, l := range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Run(); err != nil { // returns once its sockets have closed
				log.Print(err)
			}
		}()
	}
	wg.Wait()
	fmt.Println("echoes:", echoes.Load())
	// Output:
	// echoes: 80
}

// A dialed socket lives on a loop that runs in the background, so it
// answers the server's pings and writes what was sent while the program
// does something else. Its handlers run on that loop's goroutine: set them
// from a task posted to it.
func ExampleWebSocket_Loop() {
	srv := startEcho()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, err := websocket.Dial(ctx, srv.URL(), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer ws.Close()
	pongs := make(chan string, 1)
	set := make(chan struct{})
	ws.Loop().Post(func() {
		ws.OnPong = func(p websocket.PongEvent) { pongs <- string(p.Data) }
		close(set)
	})
	<-set
	ws.Ping([]byte("still there?"))
	fmt.Println("OnPong:", <-pongs) // on the loop's goroutine

	e, _ := ws.LowLevelReceive(ctx) // the inbox has it too
	fmt.Printf("inbox: %s %q\n", e.Type(), e.(websocket.PongEvent).Data)
	// Output:
	// OnPong: still there?
	// inbox: pong "still there?"
}

// RunContext keeps a loop running with nothing to do, for a program that
// makes its sockets later, from other goroutines, with Post.
func ExampleEventLoop_RunContext() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- loop.RunContext(ctx) }()

	// Later, from another goroutine:
	echoed := make(chan struct{})
	loop.Post(func() {
		ws, _ := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loop})
		ws.OnOpen = func(websocket.OpenEvent) { ws.SendText("made later") }
		ws.OnMessage = func(m websocket.MessageEvent) {
			fmt.Println(m.Text())
			ws.Close()
		}
		ws.OnClose = func(websocket.CloseEvent) { close(echoed) }
	})
	<-echoed
	cancel()
	fmt.Println(<-done)
	// Output:
	// made later
	// context canceled
}

// A producer that outpaces the server is told so: past
// Config.MaxBufferedAmount, Send returns ErrBufferFull and queues nothing.
func ExampleErrBufferFull() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, _ := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loop, MaxBufferedAmount: 1 << 20})
	ws.OnOpen = func(websocket.OpenEvent) {
		chunk := make([]byte, 256<<10)
		sent := 0
		for {
			// Sends are written when this handler returns, so the
			// backlog grows until the bound.
			if err := ws.Send(chunk); errors.Is(err, websocket.ErrBufferFull) {
				break
			}
			sent++
		}
		fmt.Println("sent:", sent, "buffered:", ws.BufferedAmount())
		ws.Close()
	}
	loop.Run()
	// Output: sent: 4 buffered: 1048576
}

// A proxy, chosen by the program. An empty Config.Proxy reads the
// environment (http_proxy, https_proxy, all_proxy, no_proxy) as curl does,
// and "direct" ignores it. Here the proxy does not answer, and the error
// says which hop failed.
func ExampleConfig_proxy() {
	srv := startEcho()
	defer srv.Close()

	_, err := websocket.Dial(context.Background(), srv.URL(), &websocket.Config{
		Proxy:       "socks5h://user:secret@127.0.0.1:1", // nothing listens on port 1
		ProxyHeader: nil,                                 // extra headers for an http:// proxy's CONNECT
	})
	var pe *websocket.ProxyError
	if errors.As(err, &pe) {
		fmt.Println(pe.Failure)
		fmt.Println(pe.Proxy) // no credentials
		var ce *websocket.ConnectError
		fmt.Println(errors.As(err, &ce))
	}
	// Output:
	// proxy unreachable
	// socks5h://127.0.0.1:1
	// true
}

// NetDial supplies the connection: here a net.Dialer bound to a local
// address, but it could resolve names its own way or dial a Unix socket.
func ExampleConfig_netDial() {
	srv := startEcho()
	defer srv.Close()

	var dialed string
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}}
	ws, err := websocket.Dial(context.Background(), srv.URL(), &websocket.Config{
		NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dialed = network
			return d.DialContext(ctx, network, addr)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer ws.Close()
	fmt.Println("dialed", dialed)
	// Output:
	// dialed tcp
}

// The server's handshake response: in the OpenEvent for a socket from New,
// from ResponseHeader for one from Dial.
func ExampleWebSocket_ResponseHeader() {
	srv := startEcho()
	defer srv.Close()

	ws, err := websocket.Dial(context.Background(), srv.URL(), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer ws.Close()
	fmt.Println(ws.ResponseHeader().Get("Upgrade"))
	// Output:
	// websocket
}

// A cookie jar kept in a curl cookie file: a login made with
// `curl -c cookies.txt https://example.org/login` is sent with the
// handshake, and cookies the server sets are written back for curl.
func ExampleOpenCookieFile() {
	srv := startEcho()
	defer srv.Close()

	dir, err := os.MkdirTemp("", "cookies")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	jar, err := websocket.OpenCookieFile(filepath.Join(dir, "cookies.txt"))
	if err != nil {
		log.Fatal(err)
	}
	ws, err := websocket.Dial(context.Background(), srv.URL(), &websocket.Config{Jar: jar})
	if err != nil {
		log.Fatal(err)
	}
	defer ws.Close()
	fmt.Println("open; file written without error:", jar.Err() == nil)
	// Output:
	// open; file written without error: true
}

// A gateway that wants a login and then redirects to the WebSocket
// server: Username and Password answer its 401 challenge (Basic here;
// Digest too), and MaxRedirects lets the handshake follow its redirect,
// which a browser would refuse. The credentials are not sent on to the
// other server.
func ExampleConfig_credentials() {
	srv := startEcho()
	defer srv.Close()
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, pass, ok := r.BasicAuth(); !ok || user != "alice" || pass != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="gateway"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, srv.URL(), http.StatusTemporaryRedirect)
	}))
	defer gateway.Close()

	url := strings.Replace(gateway.URL, "http://", "ws://", 1)
	ws, err := websocket.Dial(context.Background(), url, &websocket.Config{
		Username:     "alice",
		Password:     "s3cret",
		MaxRedirects: 1,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer ws.Close()
	fmt.Println(ws.ReadyState())

	_, err = websocket.Dial(context.Background(), url, &websocket.Config{Username: "alice", Password: "wrong"})
	var he *websocket.HandshakeError
	if errors.As(err, &he) {
		fmt.Println(he.StatusCode)
	}
	// Output:
	// OPEN
	// 401
}

// TLS: the system's roots by default, TLSConfig for a private CA, and a
// refused certificate sorted by TLSError.Reason.
func ExampleTLSError() {
	srv := httptest.NewTLSServer(http.NotFoundHandler()) // not a WebSocket server: the TLS part is the point
	defer srv.Close()
	url := strings.Replace(srv.URL, "https://", "wss://", 1)

	_, err := websocket.Dial(context.Background(), url, nil) // the system's roots do not know its CA
	var te *websocket.TLSError
	if errors.As(err, &te) {
		fmt.Println(te.Reason)
	}

	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	_, err = websocket.Dial(context.Background(), url, &websocket.Config{TLSConfig: &tls.Config{RootCAs: roots}})
	var he *websocket.HandshakeError
	if errors.As(err, &he) {
		fmt.Println("TLS done; then the server answered", he.StatusCode)
	}
	// Output:
	// certificate signed by an unknown authority
	// TLS done; then the server answered 404
}
