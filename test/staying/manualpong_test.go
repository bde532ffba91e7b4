package staying_test

// Keepalive with ManualPong, against real peers that report the pongs they
// get: the "!ping PAYLOAD" command makes the server ping, and once a pong
// with that payload arrives it sends "pong:PAYLOAD". With ManualPong the
// library leaves the server's pings to the program, while its own
// keepalive pings are answered by the server as ever.
//
// That the library did not answer is seen by round trips: had it answered
// the ping when it read it, its pong would have gone out before anything
// the program sent after OnPing, and the server (Node's ws and gorilla
// report a pong before they read the next frame; Python's websockets
// reports it from a task made ready before that frame is read) would have
// sent "pong:PAYLOAD" before echoing the program's next two messages.

import (
	"context"
	"slices"
	"testing"

	websocket "github.com/wsloop/websocket"
)

func TestManualPong(t *testing.T) {
	t.Parallel()
	concurrently(t, []peer{python, node, gorilla}, peerName, func(t *testing.T, p peer) {
		server := p.start(t)
		concurrently(t, []string{"Loop", "Dial"}, func(s string) string { return s }, func(t *testing.T, api string) {
			if api == "Loop" {
				manualPongOnLoop(t, server)
			} else {
				manualPongDialed(t, server)
			}
		})
	})
}

// manualPongOnLoop: the ping "left" is not answered: two round trips after
// it, the server has reported no pong. The ping "right" is answered from
// OnPing, and the server reports it. Meanwhile the socket's keepalive
// pings get their pongs, with RTT measured.
func manualPongOnLoop(t *testing.T, server string) {
	_, u := proxied(t, server)
	s := newScript(t, u, websocket.Config{ManualPong: true, PingInterval: pingInterval, PongTimeout: pongTimeout})
	var (
		pings         []string
		answeredRight bool
		keepalive     int // keepalive pongs, after "pong:right"
		got           []string
	)
	send := func(msg string) {
		if err := s.ws.SendText(msg); err != nil {
			s.fail("SendText(%q): %v", msg, err)
		}
	}
	s.ws.OnOpen = func(websocket.OpenEvent) { send("!ping left") }
	s.ws.OnPing = func(e websocket.PingEvent) {
		pings = append(pings, string(e.Data))
		switch string(e.Data) {
		case "left":
			send("x1") // and no pong
		case "right":
			if err := s.ws.Pong(e.Data); err != nil {
				s.fail("Pong: %v", err)
			}
			answeredRight = true
		default:
			s.fail("ping %q from a server told to send \"left\" and \"right\"", e.Data)
		}
	}
	s.ws.OnMessage = func(m websocket.MessageEvent) {
		got = append(got, m.Text())
		switch m.Text() {
		case "x1":
			send("x2")
		case "x2":
			send("!ping right")
		case "pong:left":
			// Python's websockets takes a pong as the answer to every
			// ping sent before the one it answers, so "right"'s pong
			// answers "left" too: only before it is this a failure.
			if !answeredRight {
				s.fail("the server got a pong for the ping \"left\", which nobody answered: the library answered it despite ManualPong")
			}
		case "pong:right":
			if !answeredRight {
				s.fail("\"pong:right\" before the program answered")
			}
		default:
			s.fail("message %q", m.Data)
		}
	}
	s.ws.OnPong = func(e websocket.PongEvent) {
		if !answeredRight || !slices.Contains(got, "pong:right") {
			return
		}
		if e.RTT <= 0 {
			s.fail("keepalive pong with RTT %v", e.RTT)
			return
		}
		if keepalive++; keepalive == 2 {
			if err := s.ws.CloseWith(websocket.CloseNormal, "done"); err != nil {
				s.fail("CloseWith: %v", err)
			}
		}
	}
	var closes []websocket.CloseEvent
	s.ws.OnError = func(e websocket.ErrorEvent) { s.fail("error event: %v", e.Err) }
	s.ws.OnClose = func(e websocket.CloseEvent) { closes = append(closes, e) }
	s.run()
	if want := []string{"left", "right"}; !slices.Equal(pings, want) {
		t.Errorf("pings %q; want %q", pings, want)
	}
	if !slices.Contains(got, "pong:right") {
		t.Errorf("messages %q; want \"pong:right\", the server's report of the program's pong", got)
	}
	if keepalive < 2 {
		t.Errorf("%d keepalive pongs after the server's pings; want 2", keepalive)
	}
	wantClosedNormally(t, closes)
}

// manualPongDialed: the same with Dial, where the program gets the ping
// from LowLevelReceive.
func manualPongDialed(t *testing.T, server string) {
	_, u := proxied(t, server)
	ctx, cancel := context.WithTimeout(context.Background(), watchdog)
	defer cancel()
	ws, err := websocket.Dial(ctx, u, &websocket.Config{ManualPong: true})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer ws.Close()
	next := func() websocket.Event {
		t.Helper()
		e, err := ws.LowLevelReceive(ctx)
		if err != nil {
			t.Fatalf("LowLevelReceive: %v", err)
		}
		return e
	}
	send := func(msg string) {
		t.Helper()
		if err := ws.SendText(msg); err != nil {
			t.Fatalf("SendText(%q): %v", msg, err)
		}
	}
	send("!ping d")
	e := next()
	ping, ok := e.(websocket.PingEvent)
	if !ok || string(ping.Data) != "d" {
		t.Fatalf("%s; want the ping \"d\"", describe(e))
	}
	send("y1")
	send("y2")
	for _, want := range []string{"y1", "y2"} {
		if e := next(); !isText(e, want) {
			t.Fatalf("%s; want the echo %q, and no report of a pong nobody sent", describe(e), want)
		}
	}
	if err := ws.Pong(ping.Data); err != nil {
		t.Fatalf("Pong: %v", err)
	}
	if e := next(); !isText(e, "pong:d") {
		t.Fatalf("%s; want \"pong:d\", the server's report of the program's pong", describe(e))
	}
}

// isText reports whether e is the text message want.
func isText(e websocket.Event, want string) bool {
	m, ok := e.(websocket.MessageEvent)
	return ok && !m.Binary && m.Text() == want
}
