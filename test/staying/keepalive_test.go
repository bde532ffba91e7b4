package staying_test

// Keepalive against a path that goes silent: the chaos proxy stalls,
// blackholes or half-opens the connection to a real server, and the
// client must find the server dead within PingInterval + PongTimeout of
// the last byte it received, and not before a ping has gone unanswered
// for PongTimeout, the ping going out after PingInterval of silence.
//
// What the test can know of "the last byte received": the library reads
// it on its loop, and no event marks the read itself. So the test sends a
// message at L and, when its echo arrives, applies the fault from the
// echo's handler, on the loop, at F (once SetFault has returned). The
// echo was read after L, so the last read R is at or after L, and the
// silence the library saw when it found the server dead at D, D-R, is at
// most D-L. The library promises a silence of at least PingInterval and
// PongTimeout, so D-L must be at least that, strictly: a library that
// counted from its ping, or from the fault, or left PingInterval out,
// fails it. The other way, R is at F at the latest (after a pong, no ping
// is out: nothing is on its way to the client when the fault is set), so
// D-F is bounded by PingInterval+PongTimeout plus the machine's lateness,
// for which the bound is generous: timers on a loaded 2-core machine
// running the race detector fire late, never early.

import (
	"errors"
	"fmt"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/test/internal/chaos"
)

const (
	// PingInterval and PongTimeout: a ping after 100 ms of silence,
	// and the server dead when 500 ms more pass without an answer.
	// PongTimeout is not shorter because the pass phase must survive
	// the machine: with this package run twice at once under the race
	// detector, as the repository's tests are run on a loaded 2-core
	// machine, echoes and pongs through the proxy were seen to take up
	// to 200 ms (the peers' processes and this one waiting for a core);
	// a PongTimeout of 100 ms then fails a live connection, as keepalive
	// should.
	pingInterval = 100 * time.Millisecond
	pongTimeout  = 500 * time.Millisecond
	// pingSilence is the least silence after which a ping goes out.
	pingSilence = pingInterval
	// idleTimeout is IdleTimeout's, for the same reason.
	idleTimeout = 500 * time.Millisecond
	// lateness bounds how late a detection may come past its due time:
	// the loop's timer, and the scheduling of a loaded machine.
	lateness = 2 * time.Second
	// pongsWhilePassing is how many keepalive pongs must come back
	// before the fault: the socket stays open across that many intervals
	// of silence.
	pongsWhilePassing = 3
)

// silences are the faults after which the server is heard no more, and
// nothing tells the client: no FIN, no RST.
var silences = []struct {
	name  string
	fault chaos.Fault
}{
	{"Stall", chaos.Stall},
	{"Blackhole", chaos.Blackhole},
	{"HalfOpen", chaos.HalfOpen},
}

// TestKeepaliveFindsSilence: for each peer and each silent fault, the
// socket stays open while pongs come back, then fails with a
// *KeepaliveError and closes 1006 once the path is silent, within
// PingInterval+PongTimeout of the last byte received; and with
// IdleTimeout alone, no pings, within IdleTimeout.
func TestKeepaliveFindsSilence(t *testing.T) {
	t.Parallel()
	type scenario struct {
		name string
		run  func(t *testing.T, server string)
	}
	var scenarios []scenario
	for _, f := range silences {
		scenarios = append(scenarios, scenario{f.name, func(t *testing.T, server string) { pingsFindSilence(t, server, f.fault) }})
	}
	scenarios = append(scenarios, scenario{"IdleTimeout", idleFindsSilence})
	concurrently(t, []peer{python, node, gorilla}, peerName, func(t *testing.T, p peer) {
		server := p.start(t)
		concurrently(t, scenarios, func(s scenario) string { return s.name }, func(t *testing.T, s scenario) {
			s.run(t, server)
		})
	})
}

// deathWatch is what a test of a dying socket records from its handlers.
type deathWatch struct {
	s        *script
	errAt    time.Time
	err      error
	closes   []websocket.CloseEvent
	errFirst bool // the error event came before the close event
}

// watch sets OnError and OnClose to record the socket's end, and calls
// stop (may be nil) at the close.
func watch(s *script, stop func()) *deathWatch {
	d := &deathWatch{s: s}
	s.ws.OnError = func(e websocket.ErrorEvent) {
		if d.err == nil {
			d.errAt, d.err = time.Now(), e.Err
		}
	}
	s.ws.OnClose = func(e websocket.CloseEvent) {
		d.errFirst = d.err != nil
		d.closes = append(d.closes, e)
		if stop != nil {
			stop()
		}
	}
	return d
}

// keepaliveError checks that the socket failed as keepalive fails it: one
// *KeepaliveError, then exactly one close 1006, not clean; and returns
// the error.
func (d *deathWatch) keepaliveError(t *testing.T, pingUnanswered bool, atLeast time.Duration) *websocket.KeepaliveError {
	t.Helper()
	var ke *websocket.KeepaliveError
	if !errors.As(d.err, &ke) {
		t.Fatalf("error event %v (%T); want a *websocket.KeepaliveError", d.err, d.err)
	}
	if ke.PingUnanswered != pingUnanswered {
		t.Errorf("KeepaliveError.PingUnanswered = %t; want %t (%v)", ke.PingUnanswered, pingUnanswered, ke)
	}
	if ke.Silence < atLeast {
		t.Errorf("KeepaliveError.Silence = %v; want at least %v", ke.Silence, atLeast)
	}
	if !ke.Timeout() {
		t.Errorf("KeepaliveError.Timeout() = false")
	}
	switch {
	case len(d.closes) != 1:
		t.Errorf("%d close events; want exactly one", len(d.closes))
	case !d.errFirst:
		t.Errorf("the close event came before the error event")
	case d.closes[0].Code != websocket.CloseAbnormal || d.closes[0].WasClean:
		t.Errorf("close event %s; want code 1006, not clean", closeString(d.closes[0]))
	}
	if st := d.s.ws.ReadyState(); st != websocket.Closed {
		t.Errorf("readyState after the loop = %v; want CLOSED", st)
	}
	return ke
}

// pingsFindSilence runs one silent fault against keepalive pings.
func pingsFindSilence(t *testing.T, server string, fault chaos.Fault) {
	p, u := proxied(t, server)
	// Keepalive's clock starts as the socket opens, before OnOpen's
	// handler runs (by a millisecond or more on a loaded machine), so the
	// time the socket has stayed open is measured from before the dial.
	dialed := time.Now()
	s := newScript(t, u, websocket.Config{PingInterval: pingInterval, PongTimeout: pongTimeout})
	d := watch(s, nil)
	var (
		pongs       int
		markSent    time.Time // L: the mark is sent; the last read comes after
		faultSet    time.Time // F: the fault is in effect
		openAtFault bool
		maxRTT      time.Duration
	)
	s.ws.OnPong = func(e websocket.PongEvent) {
		if !faultSet.IsZero() {
			return // a pong already on its way; it only moves the last read
		}
		if e.RTT <= 0 {
			s.fail("keepalive pong %q with RTT %v; want the round trip measured", e.Data, e.RTT)
			return
		}
		maxRTT = max(maxRTT, e.RTT)
		if pongs++; pongs == pongsWhilePassing {
			// Right after a pong, no ping is out: the mark's echo is
			// the last byte the server sends before the fault.
			markSent = time.Now()
			if err := s.ws.SendText("mark"); err != nil {
				s.fail("SendText: %v", err)
			}
		}
	}
	s.ws.OnMessage = func(m websocket.MessageEvent) {
		if m.Text() != "mark" || !faultSet.IsZero() {
			s.fail("message %q; want the mark's echo, once", m.Data)
			return
		}
		p.SetFault(fault)
		faultSet = time.Now()
		openAtFault = s.ws.ReadyState() == websocket.Open
	}
	s.run()
	if faultSet.IsZero() {
		t.Fatalf("the fault was never set: %d keepalive pongs came back, %v", pongs, d.err)
	}
	// Each pong answers a ping sent after pingSilence at least.
	if stayed := faultSet.Sub(dialed); !openAtFault || stayed < pongsWhilePassing*pingSilence {
		t.Errorf("open %t for %v at the fault; want open, for at least %v", openAtFault, stayed, pongsWhilePassing*pingSilence)
	}
	// Dead once a ping, sent after pingSilence at the earliest, is
	// PongTimeout unanswered; found within PingInterval+PongTimeout.
	least, due := pingSilence+pongTimeout, pingInterval+pongTimeout
	ke := d.keepaliveError(t, true, least)
	early, late := d.errAt.Sub(markSent), d.errAt.Sub(faultSet)
	t.Logf("%v: found dead %v after the mark was sent, %v after the fault (%v); keepalive pongs took up to %v", fault, early.Round(time.Millisecond), late.Round(time.Millisecond), ke, maxRTT)
	if early < least {
		t.Errorf("found dead %v after the mark was sent, whose echo came after: want at least PingInterval + PongTimeout, %v", early, least)
	}
	if late > due+lateness {
		t.Errorf("found dead %v after the fault; want within PingInterval+PongTimeout (%v) and %v of lateness", late, due, lateness)
	}
}

// idleFindsSilence: IdleTimeout alone, no pings. The socket sends a
// message every IdleTimeout/10 and the echoes keep it open across several
// IdleTimeouts; then the path stalls while the socket goes on sending
// (bytes sent prove nothing), and it must fail within IdleTimeout of the
// last echo read, and not before.
func idleFindsSilence(t *testing.T, server string) {
	const (
		period = idleTimeout / 10
		echoes = 3 * int(idleTimeout/period) // open across 3 IdleTimeouts
	)
	p, u := proxied(t, server)
	s := newScript(t, u, websocket.Config{IdleTimeout: idleTimeout})
	var tick *websocket.Timer
	d := watch(s, func() { tick.Stop() })
	var (
		sentAt   []time.Time // when message i was sent
		lastSent time.Time   // L: the send time of the last echo read
		faultSet time.Time
		maxEcho  time.Duration
	)
	s.ws.OnOpen = func(websocket.OpenEvent) {
		tick = s.loop.SetInterval(func() {
			sentAt = append(sentAt, time.Now())
			if err := s.ws.SendText(fmt.Sprint(len(sentAt) - 1)); err != nil {
				s.fail("SendText: %v", err)
			}
		}, period)
	}
	got := 0
	s.ws.OnMessage = func(m websocket.MessageEvent) {
		if !faultSet.IsZero() {
			// An echo the proxy had written before the fault; it moves
			// the last read, which the upper bound's margin covers.
			lastSent = sentAt[got]
			got++
			return
		}
		if want := fmt.Sprint(got); m.Text() != want {
			s.fail("echo %q; want %q", m.Data, want)
			return
		}
		lastSent = sentAt[got]
		maxEcho = max(maxEcho, time.Since(sentAt[got]))
		if got++; got == echoes {
			p.SetFault(chaos.Stall)
			faultSet = time.Now()
		}
	}
	s.run()
	if faultSet.IsZero() {
		t.Fatalf("the fault was never set: %d echoes, %v", got, d.err)
	}
	ke := d.keepaliveError(t, false, idleTimeout)
	early, late := d.errAt.Sub(lastSent), d.errAt.Sub(faultSet)
	t.Logf("found dead %v after the last echoed message was sent, %v after the stall, %d messages sent (%v); echoes took up to %v",
		early.Round(time.Millisecond), late.Round(time.Millisecond), len(sentAt), ke, maxEcho)
	if early < idleTimeout {
		t.Errorf("found dead %v after the last echoed message was sent: want at least IdleTimeout, %v", early, idleTimeout)
	}
	if late > idleTimeout+lateness {
		t.Errorf("found dead %v after the stall; want within IdleTimeout (%v) and %v of lateness", late, idleTimeout, lateness)
	}
}
