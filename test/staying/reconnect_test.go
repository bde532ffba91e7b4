package staying_test

// Reconnection through the chaos proxy: the connection to a real server
// is reset, closed, half-opened (found by keepalive) or lost while the
// host refuses connections for a while; each time the same socket fires
// ReconnectEvents, opens again, and echoes flow again. Twice in a row,
// for a socket on an event loop and for one made by Dial.

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/test/internal/chaos"
)

// The policy of these tests: fast, and without jitter, so that each
// ReconnectEvent's Delay is exactly the policy's.
const (
	initialDelay = 10 * time.Millisecond
	maxDelay     = 80 * time.Millisecond
)

func fastRetry() *websocket.ReconnectPolicy {
	return &websocket.ReconnectPolicy{InitialDelay: initialDelay, MaxDelay: maxDelay, Jitter: -1}
}

// policyDelay is the wait before attempt n under fastRetry.
func policyDelay(n int) time.Duration {
	return min(initialDelay<<(n-1), maxDelay)
}

// rounds is how many times each test breaks the connection.
const rounds = 2

// refusedAttempts is how many attempts the refusing host fails before it
// lets one through.
const refusedAttempts = 3

// breakage is a way the connection is lost, and how the path heals.
type breakage struct {
	name string
	// configure adds what the breakage needs to the socket's Config.
	configure func(*websocket.Config)
	// inflict breaks the open connection.
	inflict func(*chaos.Proxy)
	// heal runs in OnReconnect with the round's n-th event (0: the loss);
	// it lets the next attempt through, or not yet.
	heal func(p *chaos.Proxy, n int)
	// failures is how many attempts of each round fail: ReconnectEvents
	// after the loss's.
	failures int
	// lossErr checks the Err of the loss's ReconnectEvent.
	lossErr func(error) bool
}

func noError(err error) bool { return err == nil }

func isKeepalive(err error) bool {
	var ke *websocket.KeepaliveError
	return errors.As(err, &ke) && ke.PingUnanswered
}

// refusedAttempt reports whether err is how an attempt fails at a host
// that resets connections: at connect, or during the handshake, before
// any HTTP status.
func refusedAttempt(err error) bool {
	var ce *websocket.ConnectError
	var he *websocket.HandshakeError
	return errors.As(err, &ce) || errors.As(err, &he) && he.StatusCode == 0
}

func healAt(n int) func(*chaos.Proxy, int) {
	return func(p *chaos.Proxy, i int) {
		if i == n {
			p.SetFault(chaos.Pass)
		}
	}
}

var breakages = []breakage{
	{
		name:    "ResetAll",
		inflict: (*chaos.Proxy).ResetAll,
		lossErr: noError,
	},
	{
		name:    "CloseAll",
		inflict: (*chaos.Proxy).CloseAll,
		lossErr: noError,
	},
	{
		// The server's half is reset, the client's left open and silent:
		// only keepalive finds it. New connections are half-opened too,
		// until the path heals, at the loss's ReconnectEvent.
		name: "HalfOpen",
		configure: func(c *websocket.Config) {
			c.PingInterval, c.PongTimeout = pingInterval, pongTimeout
		},
		inflict: func(p *chaos.Proxy) { p.SetFault(chaos.HalfOpen) },
		heal:    healAt(0),
		lossErr: isKeepalive,
	},
	{
		// The connection is reset, and the host refuses the next
		// attempts, as a restarting server does, then lets one through:
		// with RetryTransient, the default.
		name: "Refuse",
		inflict: func(p *chaos.Proxy) {
			p.SetFault(chaos.Refuse)
			p.ResetAll()
		},
		heal:     healAt(refusedAttempts),
		failures: refusedAttempts,
		lossErr:  noError,
	},
}

// TestReconnectRecovers: for each peer, each breakage, twice, on an event
// loop and with Dial.
func TestReconnectRecovers(t *testing.T) {
	t.Parallel()
	concurrently(t, []peer{python, node, gorilla}, peerName, func(t *testing.T, p peer) {
		server := p.start(t)
		concurrently(t, breakages, func(b breakage) string { return b.name }, func(t *testing.T, b breakage) {
			apis := []string{"Loop", "Dial"}
			concurrently(t, apis, func(s string) string { return s }, func(t *testing.T, api string) {
				if api == "Loop" {
					reconnectOnLoop(t, server, b)
				} else {
					reconnectDialed(t, server, b)
				}
			})
		})
	})
}

func (b breakage) config() websocket.Config {
	cfg := websocket.Config{Reconnect: fastRetry()}
	if b.configure != nil {
		b.configure(&cfg)
	}
	return cfg
}

// checkRound checks the ReconnectEvents of one round: the loss (Close
// 1006, Err as lossErr says), then b.failures failed attempts, with
// consecutive attempt numbers and the policy's delays; prev is the last
// attempt of the round before (0 for none): a round starts again from 1,
// or goes on from prev when the connection between was short.
func (b breakage) checkRound(t *testing.T, round int, events []websocket.ReconnectEvent, prev int) {
	t.Helper()
	if len(events) != 1+b.failures {
		t.Errorf("round %d: %d reconnect events; want %d", round, len(events), 1+b.failures)
		for _, e := range events {
			t.Errorf("  %s", reconnectString(e))
		}
		return
	}
	for i, e := range events {
		want := "the loss"
		ok := e.Close.Code == websocket.CloseAbnormal && !e.Close.WasClean && e.Lost == 0
		if i == 0 {
			ok = ok && b.lossErr(e.Err)
			if e.Attempt != 1 && e.Attempt != prev+1 {
				t.Errorf("round %d: the loss's attempt is %d; want 1, or %d", round, e.Attempt, prev+1)
			}
		} else {
			want = "a refused attempt"
			ok = ok && refusedAttempt(e.Err)
			if e.Attempt != events[i-1].Attempt+1 {
				t.Errorf("round %d: attempt %d after %d", round, e.Attempt, events[i-1].Attempt)
			}
		}
		if !ok {
			t.Errorf("round %d: reconnect event %d %s; want %s (close 1006, nothing lost)", round, i, reconnectString(e), want)
		}
		if want := policyDelay(e.Attempt); e.Delay != want {
			t.Errorf("round %d: attempt %d waits %v; want %v, without jitter", round, e.Attempt, e.Delay, want)
		}
	}
}

// reconnectOnLoop: a socket on an event loop echoes, loses its
// connection, reconnects and echoes again, rounds times, then closes.
func reconnectOnLoop(t *testing.T, server string, b breakage) {
	p, u := proxied(t, server)
	s := newScript(t, u, b.config())
	var (
		round      int
		opens      int
		events     [][]websocket.ReconnectEvent // per round
		connecting = true                       // readyState in every OnReconnect
		got        []string
		errs       []error
		closes     []websocket.CloseEvent
	)
	s.ws.OnOpen = func(websocket.OpenEvent) {
		opens++
		if opens != round+1 {
			s.fail("open %d in round %d", opens, round)
			return
		}
		if err := s.ws.SendText(fmt.Sprint("echo ", round)); err != nil {
			s.fail("SendText: %v", err)
		}
	}
	s.ws.OnMessage = func(m websocket.MessageEvent) {
		got = append(got, m.Text())
		if want := fmt.Sprint("echo ", round); m.Text() != want {
			s.fail("message %q; want %q", m.Data, want)
			return
		}
		if round++; round <= rounds {
			events = append(events, nil)
			b.inflict(p)
			return
		}
		if err := s.ws.CloseWith(websocket.CloseNormal, "done"); err != nil {
			s.fail("CloseWith: %v", err)
		}
	}
	s.ws.OnReconnect = func(e websocket.ReconnectEvent) {
		connecting = connecting && s.ws.ReadyState() == websocket.Connecting
		r := len(events) - 1
		if r < 0 {
			s.fail("reconnect event %s before any fault", reconnectString(e))
			return
		}
		events[r] = append(events[r], e)
		if b.heal != nil {
			b.heal(p, len(events[r])-1)
		}
	}
	s.ws.OnError = func(e websocket.ErrorEvent) { errs = append(errs, e.Err) }
	s.ws.OnClose = func(e websocket.CloseEvent) { closes = append(closes, e) }
	s.run()

	for _, err := range errs {
		t.Errorf("error event %v; a socket that reconnects fires none", err)
	}
	if !connecting {
		t.Errorf("readyState in OnReconnect was not always CONNECTING")
	}
	prev := 0
	for r, ev := range events {
		b.checkRound(t, r, ev, prev)
		if len(ev) > 0 {
			prev = ev[len(ev)-1].Attempt
		}
	}
	if round != rounds+1 || opens != rounds+1 {
		t.Errorf("%d opens, %d echoes (%q); want %d of each", opens, len(got), got, rounds+1)
	}
	if want := 1 + rounds*(1+b.failures); p.Accepted() != want {
		t.Errorf("the proxy accepted %d connections; want %d", p.Accepted(), want)
	}
	wantClosedNormally(t, closes)
}

// reconnectDialed: a dialed socket echoes, loses its connection, and
// LowLevelReceive shows the ReconnectEvents and the OpenEvent before the
// next echo; in the next round a message sent while reconnecting is the
// next thing WaitForNextMessage returns, across the reconnect.
func reconnectDialed(t *testing.T, server string, b breakage) {
	p, u := proxied(t, server)
	ctx, cancel := context.WithTimeout(context.Background(), watchdog)
	defer cancel()
	ws, err := websocket.Dial(ctx, u, ptr(b.config()))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer ws.Close()

	// The handler heals the path, and tells the test of each event; it
	// is set on the socket's loop.
	heard := make(chan websocket.ReconnectEvent, 64)
	n := 0 // events of the round so far, on the loop
	set := make(chan struct{})
	ws.Loop().Post(func() {
		ws.OnReconnect = func(e websocket.ReconnectEvent) {
			if b.heal != nil {
				b.heal(p, n)
			}
			n++
			heard <- e
		}
		close(set)
	})
	<-set

	echo := func(msg string) {
		t.Helper()
		if err := ws.SendText(msg); err != nil {
			t.Fatalf("SendText(%q): %v", msg, err)
		}
		m, err := ws.WaitForNextMessage(ctx)
		if err != nil {
			t.Fatalf("waiting for the echo of %q: %v", msg, err)
		}
		if m.Text() != msg {
			t.Fatalf("message %q; want the echo of %q", m.Data, msg)
		}
	}
	// newRound inflicts the fault on the loop, where the handler counts
	// the round's events.
	newRound := func() {
		done := make(chan struct{})
		ws.Loop().Post(func() {
			n = 0
			b.inflict(p)
			close(done)
		})
		<-done
	}
	closedBy := func(err error) {
		t.Helper()
		t.Fatalf("the socket ended: %v", err)
	}

	echo("before")
	prev := 0

	// Round 0: LowLevelReceive shows the events.
	newRound()
	var events []websocket.ReconnectEvent
	for {
		e, err := ws.LowLevelReceive(ctx)
		if err != nil {
			closedBy(err)
		}
		switch e := e.(type) {
		case websocket.ReconnectEvent:
			events = append(events, e)
			continue
		case websocket.PingEvent, websocket.PongEvent:
			continue // keepalive's pongs, before the loss
		case websocket.OpenEvent:
		default:
			t.Fatalf("%s while reconnecting; want ReconnectEvents, then an OpenEvent", describe(e))
		}
		break
	}
	if st := ws.ReadyState(); st != websocket.Open {
		t.Errorf("readyState %v after the OpenEvent; want OPEN", st)
	}
	b.checkRound(t, 0, events, prev)
	prev = events[len(events)-1].Attempt
	if len(heard) != len(events) {
		t.Errorf("OnReconnect fired %d times; LowLevelReceive returned %d ReconnectEvents", len(heard), len(events))
	}
	for range len(heard) {
		<-heard
	}
	echo("after 0")

	// Round 1: a message sent while reconnecting comes back next;
	// WaitForNextMessage passes the ReconnectEvents and the OpenEvent.
	newRound()
	next := func() websocket.ReconnectEvent {
		t.Helper()
		select {
		case e := <-heard:
			return e
		case <-ctx.Done():
			t.Fatalf("no ReconnectEvent within %v", watchdog)
			return websocket.ReconnectEvent{}
		}
	}
	loss := next()
	if err := ws.SendText("queued"); err != nil {
		t.Fatalf("SendText while reconnecting: %v", err)
	}
	m, err := ws.WaitForNextMessage(ctx)
	if err != nil {
		closedBy(err)
	}
	if m.Text() != "queued" {
		t.Fatalf("message %q; want the echo of the message sent while reconnecting", m.Data)
	}
	events = []websocket.ReconnectEvent{loss}
	for range b.failures {
		events = append(events, next())
	}
	b.checkRound(t, 1, events, prev)
	echo("after 1")

	if want := 1 + rounds*(1+b.failures); p.Accepted() != want {
		t.Errorf("the proxy accepted %d connections; want %d", p.Accepted(), want)
	}
	if err := ws.CloseWith(websocket.CloseNormal, "done"); err != nil {
		t.Fatalf("CloseWith: %v", err)
	}
	_, err = ws.WaitForNextMessage(ctx)
	var ce *websocket.ClosedError
	if !errors.As(err, &ce) || ce.Err != nil || ce.Event.Code != websocket.CloseNormal || !ce.Event.WasClean {
		t.Errorf("after CloseWith: %v; want a ClosedError, 1000 and clean", err)
	}
}

func ptr[T any](v T) *T { return &v }
