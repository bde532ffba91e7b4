package websocket_test

// Dialed sockets on the background loop: cancellation, file descriptors,
// where their handlers run.

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/internal/echoserver"
)

// A context cancelled before Dial gives its error, every time, whatever the
// server would have answered: never a socket, never a dial error.
func TestDialWithCancelledContext(t *testing.T) {
	srv, err := echoserver.Listen("127.0.0.1:0", echoserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "ws://" + ln.Addr().String() + "/"
	ln.Close()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range 2000 {
		url := srv.URL()
		if i%2 == 1 {
			url = refused
		}
		ws, err := websocket.Dial(ctx, url, nil)
		if ws != nil || !errors.Is(err, context.Canceled) {
			t.Fatalf("dial %d to %s: socket %v, error %v; want context.Canceled alone", i, url, ws, err)
		}
	}
}

// A context cancelled during the handshake: Dial returns its error, even
// though the server then accepts, and the socket that opened anyway is
// closed, not left open.
func TestDialCancelledDuringHandshake(t *testing.T) {
	requested := make(chan struct{})
	cancelled := make(chan struct{})
	srv := startRawServer(t, func(c *rawConn) {
		close(requested)
		<-cancelled
		c.accept()
		// The client either had given up before the 101 arrived (EOF, or
		// a reset for the 101 it did not read) or closes at once.
		rest, _ := io.ReadAll(c.br)
		if len(rest) > 0 && rest[0] != 0x80|opClose {
			c.fail("after the cancelled dial the client sent % x", rest)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-requested
		cancel()
		close(cancelled)
	}()
	ws, err := websocket.Dial(ctx, srv.URL, &websocket.Config{CloseTimeout: time.Second})
	if ws != nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("Dial = %v, %v; want context.Canceled alone", ws, err)
	}
	srv.report(t)
}

// holdServer answers every upgrade and holds the connections open until
// the test ends: one descriptor each on the server side.
func holdServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
			req, err := http.ReadRequest(bufio.NewReader(nc))
			if err != nil {
				continue
			}
			nc.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: " + acceptFor(req.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n"))
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return "ws://" + ln.Addr().String() + "/"
}

// 100 dialed sockets take 100 descriptors (and the background loop's
// poller two), not three each; closed, they give them all back.
func TestDialedSocketsTakeOneDescriptorEach(t *testing.T) {
	if openFDs() < 0 {
		t.Skip("no /proc/self/fd")
	}
	url := holdServer(t)
	const n = 100
	before := openFDs()
	var socks []*websocket.WebSocket
	for range n {
		ctx, cancel := context.WithTimeout(context.Background(), rawFailBound)
		ws, err := websocket.Dial(ctx, url, &websocket.Config{CloseTimeout: 50 * time.Millisecond})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		socks = append(socks, ws)
	}
	// The server's side of each connection is in this process too.
	if got := openFDs() - before; got > 2*n+2 {
		t.Errorf("%d dialed sockets (and their server sides) took %d descriptors, want at most %d", n, got, 2*n+2)
	}
	var wg sync.WaitGroup
	for _, ws := range socks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws.Close() // the server never answers: CloseTimeout ends each
		}()
	}
	wg.Wait()
	// The loop's goroutine ends, and gives its poller back, once its last
	// socket is gone: asynchronously to Close.
	deadline := time.Now().Add(rawFailBound)
	for openFDs()-before > n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := openFDs() - before; got > n {
		t.Errorf("%d descriptors left after closing the dialed sockets, want at most the server's %d", got, n)
	}
}

// Handlers set on a dialed socket (from a task on its loop) run on the
// loop's goroutine, before the event goes to the inbox; a blocking call
// made there that would wait returns ErrLoopRunning.
func TestDialedSocketHandlersRunOnItsLoop(t *testing.T) {
	srv, err := echoserver.Listen("127.0.0.1:0", echoserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), rawFailBound)
	defer cancel()
	ws, err := websocket.Dial(ctx, srv.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	me := currentGoroutine()
	type seen struct {
		text    string
		other   bool  // on a goroutine other than the test's
		waitErr error // WaitForNextMessage from the handler
	}
	got := make(chan seen, 1)
	set := make(chan struct{})
	ws.Loop().Post(func() {
		ws.OnMessage = func(m websocket.MessageEvent) {
			s := seen{text: m.Text(), other: currentGoroutine() != me}
			wctx, wcancel := context.WithTimeout(context.Background(), rawFailBound)
			_, s.waitErr = ws.WaitForNextMessage(wctx) // the inbox is still empty
			wcancel()
			got <- s
		}
		close(set)
	})
	<-set
	if err := ws.SendText("hi"); err != nil {
		t.Fatal(err)
	}
	s := <-got
	if s.text != "hi" || !s.other {
		t.Errorf("handler saw %q, on another goroutine: %v", s.text, s.other)
	}
	if !errors.Is(s.waitErr, websocket.ErrLoopRunning) {
		t.Errorf("WaitForNextMessage from the handler = %v, want ErrLoopRunning", s.waitErr)
	}
	m, err := ws.WaitForNextMessage(ctx)
	if err != nil || m.Text() != "hi" {
		t.Errorf("WaitForNextMessage = %q, %v; want the message the handler saw", m.Text(), err)
	}
	// Dial from a handler on the background loop would wait for itself.
	dialErr := make(chan error, 1)
	ws.Loop().Post(func() {
		_, err := websocket.Dial(ctx, srv.URL(), nil)
		dialErr <- err
	})
	if err := <-dialErr; !errors.Is(err, websocket.ErrLoopRunning) {
		t.Errorf("Dial from the background loop = %v, want ErrLoopRunning", err)
	}
}

// A blocking call from any of the program's code that a loop runs, a
// timer or an Upgrader's function as well as a handler or a posted task,
// returns ErrLoopRunning rather than waiting for itself.
func TestBlockingCallFromTimerAndUpgraderFunction(t *testing.T) {
	srv, ws, ctx := dialEcho(t, nil)
	defer ws.Close()
	fromTimer := make(chan error, 1)
	ws.Loop().SetTimeout(func() {
		_, err := websocket.Dial(ctx, srv.URL(), nil)
		fromTimer <- err
	}, 0)
	if err := <-fromTimer; !errors.Is(err, websocket.ErrLoopRunning) {
		t.Errorf("Dial from a timer on the background loop = %v, want ErrLoopRunning", err)
	}
	// The Upgrader's function on a loop of its own, whose run has called
	// nothing of the program before.
	loop := websocket.NewEventLoop()
	lctx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- loop.RunContext(lctx) }()
	defer func() { stop(); <-ran }()
	up := &websocket.Upgrader{Loop: loop}
	fromUpgrader := make(chan error, 1)
	hs := httptest.NewServer(up.Handler(func(*websocket.WebSocket, *http.Request) {
		_, err := websocket.Dial(ctx, srv.URL(), &websocket.Config{Loop: loop})
		fromUpgrader <- err
	}))
	defer hs.Close()
	defer up.Shutdown(ctx)
	c, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := <-fromUpgrader; !errors.Is(err, websocket.ErrLoopRunning) {
		t.Errorf("Dial from an Upgrader's function on its loop = %v, want ErrLoopRunning", err)
	}
}

// currentGoroutine is the calling goroutine's "goroutine N".
func currentGoroutine() string {
	buf := make([]byte, 64)
	return goroutineID(string(buf[:runtime.Stack(buf, false)]))
}
