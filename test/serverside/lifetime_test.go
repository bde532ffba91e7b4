package serverside_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/test/internal/peers"
)

// What keeps a server's sockets going, and what ends them: keepalive,
// Shutdown's deadline, and Broadcast past a client that does not read.

// Keepalive on the server's sockets: a client that answers pings stays
// open through many intervals; one that is silent is found dead, gets a
// close 1011 and the end of TCP, and its socket fires a *KeepaliveError.
func TestServerKeepalive(t *testing.T) {
	t.Parallel()
	const interval, timeout = 100 * time.Millisecond, 500 * time.Millisecond
	up := &websocket.Upgrader{Loop: startLoop(t), PingInterval: interval, PongTimeout: timeout}

	t.Run("Python answers", func(t *testing.T) {
		t.Parallel()
		cl, _, d, _ := connect(t, clientPeers[1], up, peers.ClientOptions{})
		// Five pongs in a row, with no close between: a second and a
		// half of pings answered, longer than PongTimeout.
		for i := 0; i < 5; {
			e, err := d.recv()
			if err != nil {
				t.Fatalf("after %d pongs: %v", i, err)
			}
			if _, ok := e.(websocket.PongEvent); ok {
				i++
			}
		}
		d.command("!close 1000")
		if ev := d.closed(); ev.Code != 1000 || !ev.WasClean {
			t.Errorf("the server's close: %+v", ev)
		}
		clientClose(t, cl)
	})

	t.Run("silent client", func(t *testing.T) {
		t.Parallel()
		e := newEchoer()
		srv := httptestServer(t, up.Handler(e.handle))
		start := time.Now() // before the server's last receive: the silence measured is no shorter
		c := dialRaw(t, srv, "/", "")
		s := e.next(t)
		pings := 0
		for {
			f := c.read()
			if f.op == opPing {
				pings++
				continue
			}
			if f.op != opClose || len(f.payload) < 2 || f.payload[0] != 0x03 || f.payload[1] != 0xf3 { // 1011
				t.Fatalf("opcode %d %q, want pings then close 1011", f.op, f.payload)
			}
			break
		}
		c.expectEnd()
		silence := time.Since(start)
		ev := s.closed(t)
		var ke *websocket.KeepaliveError
		if ev.Code != 1006 || len(s.errs) != 1 || !errors.As(s.errs[0], &ke) || pings == 0 {
			t.Errorf("the server's socket: close %+v, errors %v, after %d pings", ev, s.errs, pings)
		}
		if silence < timeout {
			t.Errorf("found dead after %v of silence, before PongTimeout %v", silence, timeout)
		}
	})
}

// Shutdown waits for the closing handshakes it starts until ctx ends,
// then drops the connections left and returns ctx's error: a client that
// answers is closed cleanly, one that does not is cut off.
func TestShutdownDeadline(t *testing.T) {
	t.Parallel()
	loop := startLoop(t)
	// The sockets' own CloseTimeout is long: only ctx ends the wait.
	up := &websocket.Upgrader{Loop: loop, CloseTimeout: time.Minute}
	e := newEchoer()
	srv := httptestServer(t, up.Handler(e.handle))
	mute := dialRaw(t, srv, "/", "")
	muteSession := e.next(t)
	g, _, err := gorilla.DefaultDialer.Dial(wsURL(srv, "/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	goodSession := e.next(t)
	goodRead := make(chan error, 1)
	go func() {
		_, _, err := g.ReadMessage() // answers the close, as gorilla does
		g.Close()
		goodRead <- err
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := up.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want the deadline's error", err)
	}
	if err := await(t, goodRead, "gorilla's read"); !gorilla.IsCloseError(err, 1001) {
		t.Errorf("gorilla read %v, want close 1001", err)
	}
	if ev := goodSession.closed(t); ev.Code != 1001 || !ev.WasClean {
		t.Errorf("the answering client's socket: %+v", ev)
	}
	// The mute client got the close frame, then the end of TCP.
	mute.expectClose(1001)
	var ne net.Error
	if _, err := mute.br.ReadByte(); err == nil {
		t.Error("the server sent more after its close frame")
	} else if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("the mute client's connection was not ended: %v", err)
	}
	if ev := muteSession.closed(t); ev.Code != 1006 || ev.WasClean {
		t.Errorf("the mute client's socket: %+v, want 1006", ev)
	}
	// The close event's task ends with the socket gone from the loop.
	turn(t, loop)
	if n := len(loop.Sockets()); n != 0 {
		t.Errorf("%d sockets left on the loop", n)
	}
}

// Broadcast never waits for a client: one that reads nothing is skipped
// with ErrBufferFull once its backlog would pass MaxBufferedAmount, while
// one that reads gets every message, in order.
func TestBroadcastSlowClient(t *testing.T) {
	t.Parallel()
	loop := startLoop(t)
	up := &websocket.Upgrader{Loop: loop, MaxBufferedAmount: 256 << 10, NoCompression: true}
	e := newEchoer()
	srv := httptestServer(t, up.Handler(e.handle))
	dialRaw(t, srv, "/", "") // it reads nothing
	slowSession := e.next(t)
	g, _, err := gorilla.DefaultDialer.Dial(wsURL(srv, "/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	fastSession := e.next(t)
	g.SetReadDeadline(time.Now().Add(bound))

	msg := make([]byte, 64<<10)
	socks := []*websocket.WebSocket{slowSession.ws, fastSession.ws}
	sent := 0
	var skipped []websocket.Skipped
	// The slow client's kernel buffers take megabytes before its
	// backlog grows; the fast one is read meanwhile.
	for ; sent < 1024 && skipped == nil; sent++ {
		msg[0], msg[1] = byte(sent>>8), byte(sent)
		skipped = websocket.Broadcast(socks, msg)
		_, p, err := g.ReadMessage()
		if err != nil || p[0] != byte(sent>>8) || p[1] != byte(sent) {
			t.Fatalf("the reading client's message %d: %v", sent, err)
		}
	}
	if len(skipped) != 1 || skipped[0].Socket != slowSession.ws || !errors.Is(skipped[0].Err, websocket.ErrBufferFull) {
		t.Fatalf("after %d broadcasts of 64 KiB, skipped %v; want the slow client alone, ErrBufferFull", sent, skipped)
	}
	// The one that reads had the last message too: it was not skipped.
	if b := slowSession.ws.BufferedAmount(); b > up.MaxBufferedAmount {
		t.Errorf("the slow client's backlog is %d, past MaxBufferedAmount", b)
	}
	t.Logf("the slow client skipped at broadcast %d", sent)
}

// A socket made by Upgrade, once its blocking CloseWith has returned (it
// waits "until nothing of it is left on its loop"), or once
// WaitForNextMessage has reported the close ("once it is gone from its
// loop"), is gone from the loop's registry: Socket(id) is nil. The socket
// is signalled released before it is removed from the registry, so the
// program may find it there still; repeated until it shows, or 300 times.
func TestRegistryAfterBlockingClose(t *testing.T) {
	t.Parallel()
	loop := startLoop(t)
	up := &websocket.Upgrader{Loop: loop}
	srv, socks := upgradeServer(t, up)
	for i := range 300 {
		g, _, err := gorilla.DefaultDialer.Dial(wsURL(srv, "/"), nil)
		if err != nil {
			t.Fatal(err)
		}
		read := make(chan error, 1)
		go func() {
			_, _, err := g.ReadMessage() // answers the close
			g.Close()
			read <- err
		}()
		ws := await(t, socks, "the server's socket").ws
		how := "CloseWith"
		if i%2 == 0 {
			ws.CloseWith(1000, "")
		} else {
			how = "WaitForNextMessage's ClosedError"
			g.WriteMessage(gorilla.CloseMessage, gorilla.FormatCloseMessage(1000, ""))
			if _, err := ws.WaitForNextMessage(context.Background()); !errors.Is(err, websocket.ErrClosed) {
				t.Fatalf("WaitForNextMessage: %v", err)
			}
		}
		if loop.Socket(ws.ID()) != nil {
			t.Fatalf("connection %d: after %s returned, the loop's Socket(%d) still finds the socket", i, how, ws.ID())
		}
		await(t, read, "gorilla's read")
	}
}

// Shutdown while clients are upgrading: every client either is refused
// with 503 or gets its socket and then close 1001; Shutdown returns once
// every socket it closed is gone, and none is left.
func TestShutdownDuringUpgrades(t *testing.T) {
	t.Parallel()
	const clients = 100
	loop := startLoop(t)
	up := &websocket.Upgrader{Loop: loop}
	e := newEchoer()
	srv := httptestServer(t, up.Handler(e.handle))
	type outcome struct {
		status int // 101 or the refusal's
		code   int // the close code an upgraded client read
		err    error
	}
	outcomes := make(chan outcome, clients)
	for range clients {
		go func() {
			d := gorilla.Dialer{HandshakeTimeout: bound}
			c, resp, err := d.Dial(wsURL(srv, "/"), nil)
			if err != nil {
				if resp != nil {
					outcomes <- outcome{status: resp.StatusCode}
				} else {
					outcomes <- outcome{err: err}
				}
				return
			}
			defer c.Close()
			c.SetReadDeadline(time.Now().Add(bound))
			_, _, err = c.ReadMessage()
			var ce *gorilla.CloseError
			if !errors.As(err, &ce) {
				outcomes <- outcome{status: 101, err: err}
				return
			}
			outcomes <- outcome{status: 101, code: ce.Code}
		}()
	}
	// Shutdown once a fifth of them are in.
	for range clients / 5 {
		e.next(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	if err := up.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	upgraded, refused := 0, 0
	for range clients {
		o := await(t, outcomes, "a client's outcome")
		switch {
		case o.status == 101 && o.code == 1001:
			upgraded++
		case o.status == 503 && o.err == nil:
			refused++
		default:
			t.Errorf("a client: status %d, close %d, %v", o.status, o.code, o.err)
		}
	}
	turn(t, loop)
	if n := len(loop.Sockets()); n != 0 {
		t.Errorf("%d sockets left on the loop after Shutdown", n)
	}
	t.Logf("%d upgraded and closed with 1001, %d refused with 503", upgraded, refused)
}

// The ends that are not a closing handshake: a client that never answers
// the server's close is cut off after CloseTimeout; one that ends TCP
// without a close frame is a close 1006 without an error event, and the
// server ends its side too.
func TestServerUncleanEnds(t *testing.T) {
	t.Parallel()
	const closeTimeout = 300 * time.Millisecond
	up := &websocket.Upgrader{Loop: startLoop(t), CloseTimeout: closeTimeout}
	e := newEchoer()
	srv := httptestServer(t, up.Handler(e.handle))

	t.Run("no answer to the close", func(t *testing.T) {
		t.Parallel()
		c := dialRaw(t, srv, "/", "")
		s := e.next(t)
		start := time.Now() // before the server's close: the wait measured is no shorter
		c.write(frame(bitFin|opText, []byte("!close 4002 answer me")))
		c.expectClose(4002)
		if _, err := c.br.ReadByte(); err == nil {
			t.Fatal("the server sent more after its close frame")
		}
		if waited := time.Since(start); waited < closeTimeout {
			t.Errorf("cut off after %v, before CloseTimeout %v", waited, closeTimeout)
		}
		if ev := s.closed(t); ev.Code != 1006 || ev.WasClean {
			t.Errorf("the server's close: %+v, want 1006", ev)
		}
	})
	t.Run("TCP ends without a close frame", func(t *testing.T) {
		t.Parallel()
		c := dialRaw(t, srv, "/", "")
		s := e.next(t)
		c.write(frame(bitFin|opText, []byte("one message")))
		c.expectMessage(opText, []byte("one message"))
		c.nc.(*net.TCPConn).CloseWrite()
		c.expectEnd()
		if ev := s.closed(t); ev.Code != 1006 || ev.WasClean || len(s.errs) != 0 {
			t.Errorf("the server's close: %+v, errors %v; want 1006 and no error", ev, s.errs)
		}
	})
}

// The zero Upgrader's sockets live on the background loop that Dial's
// use: they echo, Shutdown closes them with 1001, and the loop, holding
// nothing then, ends (TestMain's leak check sees its goroutine gone).
func TestBackgroundLoop(t *testing.T) {
	t.Parallel()
	up := &websocket.Upgrader{}
	e := newEchoer()
	srv := httptestServer(t, up.Handler(e.handle))
	g, _, err := gorilla.DefaultDialer.Dial(wsURL(srv, "/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	s := e.next(t)
	g.SetReadDeadline(time.Now().Add(bound))
	g.WriteMessage(gorilla.TextMessage, []byte("on the background loop"))
	if _, p, err := g.ReadMessage(); err != nil || string(p) != "on the background loop" {
		t.Fatalf("echo %q %v", p, err)
	}
	read := make(chan error, 1)
	go func() {
		_, _, err := g.ReadMessage()
		g.Close()
		read <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	if err := up.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := await(t, read, "gorilla's read"); !gorilla.IsCloseError(err, 1001) {
		t.Errorf("gorilla read %v, want close 1001", err)
	}
	if ev := s.closed(t); ev.Code != 1001 || !ev.WasClean {
		t.Errorf("the server's close: %+v", ev)
	}
}
