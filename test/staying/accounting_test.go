package staying_test

// Message accounting across a lost connection, the library's contract
// (ReconnectPolicy's documentation): every message whose Send returned
// nil is handed to the kernel of a connection, or carried whole to the
// next connection after a reconnect (and then reaches the server), or
// counted in BufferedAmount at the final close. Nothing is dropped
// silently, and nothing is sent twice. What was handed to the kernel of
// the lost connection may never reach the server, as with any TCP
// client: the test does not pretend otherwise, and asserts nothing of
// those messages but that they do not come back on the new connection.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/test/internal/chaos"
)

// TestNothingDroppedSilently: numbered messages (of random bytes, which
// do not compress, so that the kernel's buffers take no more than they
// hold) flow through the proxy to
// an echo server; the path stalls while the program goes on sending, so
// that the kernel's buffers fill and the library's backlog grows;
// keepalive finds the connection dead, and the socket reconnects over a
// path that passes again. At the ReconnectEvent, BufferedAmount is the
// payload of the whole messages carried over: the new connection's echoes
// must be exactly those messages, in order, then the ones sent after,
// and the echoes of before the stall must all have come back.
//
// Not parallel: its megabytes keep both cores busy under the race
// detector, which would delay the pongs of the keepalive tests past their
// PongTimeout. It runs alone, before the parallel tests.
func TestNothingDroppedSilently(t *testing.T) {
	concurrently(t, []peer{python, node, gorilla}, peerName, func(t *testing.T, p peer) {
		carryOver(t, p.start(t))
	})
}

func carryOver(t *testing.T, server string) {
	const (
		size = 16 << 10
		// before: messages echoed before the stall.
		before = 32
		// backlog: the level the sender tops the library's backlog up
		// to, every tick, while the path is stalled; once the kernel's
		// buffers are full it stays there.
		backlog = 1 << 20
		tick    = 5 * time.Millisecond
		// whileConnecting and afterOpen: messages sent at the
		// ReconnectEvent, and once the socket is open again.
		whileConnecting = 8
		afterOpen       = 8
		// Keepalive, slow enough that the kernel's buffers (3 MiB or
		// so, filled in about 100 ms) are full before it finds the
		// stalled path dead.
		interval = 500 * time.Millisecond
	)
	p, u := proxied(t, server)
	s := newScript(t, u, websocket.Config{
		PingInterval: interval,
		Reconnect:    fastRetry(),
	})
	var (
		sent      int // messages whose Send returned nil: 0..sent-1
		echoed    int // echoes received on the first connection
		stalled   bool
		sender    *websocket.Timer
		reconnect *websocket.ReconnectEvent
		carried   int // BufferedAmount at the ReconnectEvent
		first     int // the first message carried over
		next      int // the next echo expected on the new connection
		opens     int
		closes    []websocket.CloseEvent
		stallAt   time.Time
	)
	send := func() bool {
		if err := s.ws.Send(numbered(sent, size)); err != nil {
			s.fail("Send(message %d): %v (BufferedAmount %d)", sent, err, s.ws.BufferedAmount())
			return false
		}
		sent++
		return true
	}
	// number is the message an echo carries, checked whole.
	number := func(m websocket.MessageEvent) (int, bool) {
		if !m.Binary || len(m.Data) != size {
			return -1, false
		}
		i := int(binary.BigEndian.Uint32(m.Data))
		return i, bytes.Equal(m.Data, numbered(i, size))
	}
	s.ws.OnOpen = func(websocket.OpenEvent) {
		if opens++; opens == 1 {
			for range before {
				send()
			}
			return
		}
		// The carried messages and those sent while connecting, before
		// this task's end lets the loop write them.
		if got, want := s.ws.BufferedAmount(), carried+whileConnecting*size; got != want {
			s.fail("BufferedAmount %d at the reopen; want %d carried and %d sent while connecting", got, carried, whileConnecting*size)
		}
		for range afterOpen {
			send()
		}
	}
	s.ws.OnMessage = func(m websocket.MessageEvent) {
		i, whole := number(m)
		switch {
		case reconnect == nil && stalled:
			s.fail("echo %d came through a stalled path", i)
		case reconnect == nil:
			if !whole || i != echoed {
				s.fail("echo %d (whole: %t) before the stall; want %d", i, whole, echoed)
				return
			}
			if echoed++; echoed < before {
				return
			}
			// Every message sent so far is echoed: stall the path, and
			// go on sending.
			p.SetFault(chaos.Stall)
			stalled, stallAt = true, time.Now()
			sender = s.loop.SetInterval(func() {
				for s.ws.BufferedAmount() < backlog {
					if !send() {
						return
					}
				}
			}, tick)
		default:
			if !whole || i != next {
				s.fail("echo %d (whole: %t) on the new connection; want %d: the carried messages %d..%d, then the later ones up to %d",
					i, whole, next, first, first+carried/size-1, sent-1)
				return
			}
			if next++; next < sent || opens < 2 {
				return
			}
			if n := s.ws.BufferedAmount(); n != 0 {
				s.fail("BufferedAmount %d once every message came back; want 0", n)
			}
			if err := s.ws.CloseWith(websocket.CloseNormal, "done"); err != nil {
				s.fail("CloseWith: %v", err)
			}
		}
	}
	s.ws.OnReconnect = func(e websocket.ReconnectEvent) {
		if reconnect != nil {
			s.fail("a second reconnect event %s", reconnectString(e))
			return
		}
		reconnect = &e
		if sender != nil {
			sender.Stop()
		}
		carried = s.ws.BufferedAmount()
		first = sent - carried/size
		next = first
		// The lost connection's bytes, stuck in the kernels and the
		// stalled proxy, are thrown away (a Pass would forward them to
		// the server on the old connection, whose echoes could reach
		// nobody); new connections pass.
		p.ResetAll()
		p.SetFault(chaos.Pass)
		for range whileConnecting {
			if !send() {
				return
			}
		}
		if got, want := s.ws.BufferedAmount(), carried+whileConnecting*size; got != want {
			s.fail("BufferedAmount %d after %d sends while connecting; want %d", got, whileConnecting, want)
		}
	}
	s.ws.OnError = func(e websocket.ErrorEvent) { s.fail("error event %v; a socket that reconnects fires none", e.Err) }
	s.ws.OnClose = func(e websocket.CloseEvent) { closes = append(closes, e) }
	s.run()

	if reconnect == nil {
		t.Fatalf("no reconnect: %d sent, %d echoed before the stall, stalled %t", sent, echoed, stalled)
	}
	t.Logf("%d messages of %d KiB echoed before the stall; %d sent by the ReconnectEvent %v after it; %d (%d KiB) carried over, from %d; %d handed to the lost connection's kernel; %d sent after",
		before, size>>10, first+carried/size, time.Since(stallAt).Round(time.Millisecond), carried/size, carried>>10, first, first-before, whileConnecting+afterOpen)
	var ke *websocket.KeepaliveError
	if !errors.As(reconnect.Err, &ke) {
		t.Errorf("the loss: %s; want a *KeepaliveError", reconnectString(*reconnect))
	}
	if reconnect.Lost != 0 {
		t.Errorf("ReconnectEvent.Lost = %d; want 0: Send's messages are never cut", reconnect.Lost)
	}
	if carried <= 0 || carried%size != 0 {
		t.Errorf("BufferedAmount %d at the ReconnectEvent; want whole messages of %d bytes, at least one (the backlog was topped up to %d)", carried, size, backlog)
	}
	if first < before {
		t.Errorf("message %d carried over, which was echoed before the stall", first)
	}
	if next != sent {
		t.Errorf("echoes on the new connection up to %d; want up to %d", next-1, sent-1)
	}
	wantClosedNormally(t, closes)
}
