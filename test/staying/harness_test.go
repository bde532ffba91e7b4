// Package staying_test checks that the client stays up when the network
// does not: keepalive that finds a silent server, reconnection that comes
// back after a reset, a FIN, a half-open path or a refusing host, messages
// that are neither lost silently nor sent twice across a reconnect, a
// thousand reconnections that leak nothing, and streams (MessageWriter,
// NetConn) against real peers. Every fault is made by the chaos proxy
// (test/internal/chaos) in front of a real server (test/internal/peers):
// Python websockets, Node ws, gorilla/websocket.
//
// This file holds what the tests share: the peers, a proxy in front of
// one, and a socket on an event loop of its own, run on the test goroutine
// under a watchdog, whose handlers script the test.
package staying_test

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/test/internal/chaos"
	"github.com/wsloop/websocket/test/internal/leakcheck"
	"github.com/wsloop/websocket/test/internal/peers"
)

// TestMain runs every test on the default poller, then again on the
// portable one, and fails the run when goroutines outlive the tests.
func TestMain(m *testing.M) { os.Exit(leakcheck.BothPollers(m)) }

// watchdog bounds one scenario: a loop still running after it is a
// failure. It is a bound, never a wait: every scenario ends on events, in
// well under a second but for the cycles (a few seconds under the race
// detector).
const watchdog = 30 * time.Second

// peer is a real echo server: it echoes every message with its type and
// understands the text commands "!close CODE REASON" and "!ping PAYLOAD"
// (reported by "pong:PAYLOAD" once the client's pong arrives).
type peer struct {
	name  string
	start func(t testing.TB, protocols ...string) string
}

var (
	python  = peer{"Python", peers.PythonEcho}
	node    = peer{"Node", peers.NodeEcho}
	gorilla = peer{"Gorilla", peers.GorillaEcho}
)

// proxied starts a chaos proxy in front of the echo server at serverURL
// and returns it with the ws:// URL that goes through it. The proxy is
// closed by t.Cleanup, before the server (cleanups run last in, first
// out, and the server was started first).
func proxied(t testing.TB, serverURL string) (*chaos.Proxy, string) {
	t.Helper()
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatalf("server URL %q: %v", serverURL, err)
	}
	p, err := chaos.Listen(u.Host)
	if err != nil {
		t.Fatalf("chaos.Listen(%q): %v", u.Host, err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("the proxy stopped accepting: %v", err)
		}
	})
	return p, "ws://" + p.Addr() + u.Path
}

// script is a socket made by NewWithConfig on an event loop of its own.
// Its handlers, which the test sets before run, script the test; run
// drives the loop on the test goroutine, so handlers may use t freely
// (but not t.Fatal, which would leave the loop: they call fail).
type script struct {
	t    *testing.T
	loop *websocket.EventLoop
	ws   *websocket.WebSocket
}

// newScript starts connecting to u with cfg (its Loop replaced by a new
// one). No handler is set.
func newScript(t *testing.T, u string, cfg websocket.Config) *script {
	t.Helper()
	s := &script{t: t, loop: websocket.NewEventLoop()}
	s.loop.OnPanic = func(v any, stack []byte) {
		t.Errorf("panic in a callback: %v\n%s", v, stack)
	}
	cfg.Loop = s.loop
	ws, err := websocket.NewWithConfig(u, &cfg)
	if err != nil {
		t.Fatalf("NewWithConfig(%q): %v", u, err)
	}
	s.ws = ws
	return s
}

// fail reports a failure from a handler and closes the socket, so that
// the loop ends rather than waiting for the watchdog.
func (s *script) fail(format string, args ...any) {
	s.t.Helper()
	s.t.Errorf(format, args...)
	s.ws.Close()
}

// run runs the loop until it returns by itself, as it does once the
// socket has closed; the watchdog stops it after watchdog and fails the
// test.
func (s *script) run() {
	s.t.Helper()
	var stopped atomic.Bool
	dog := time.AfterFunc(watchdog, func() {
		stopped.Store(true)
		s.loop.Stop()
	})
	err := s.loop.Run()
	dog.Stop()
	if err != nil {
		s.t.Fatalf("loop.Run: %v", err)
	}
	if stopped.Load() {
		// The socket is left to the loop, which no longer runs: close
		// it so that nothing of it outlives the test.
		s.ws.Close()
		s.t.Fatalf("loop still running after %v: stopped by the watchdog (readyState %v, BufferedAmount %d)",
			watchdog, s.ws.ReadyState(), s.ws.BufferedAmount())
	}
}

// closeString shows a close event without its target.
func closeString(e websocket.CloseEvent) string {
	return fmt.Sprintf("{code %d, reason %q, wasClean %t}", e.Code, e.Reason, e.WasClean)
}

// reconnectString shows a reconnect event without its target.
func reconnectString(e websocket.ReconnectEvent) string {
	return fmt.Sprintf("{attempt %d, delay %v, close %s, err %v, lost %d}", e.Attempt, e.Delay, closeString(e.Close), e.Err, e.Lost)
}

// concurrently runs f for each case as a subtest named name(c), all at
// once, and returns when all are done. t.Run may be called from several
// goroutines; unlike t.Parallel, which -parallel limits to GOMAXPROCS (2
// on the project's machine), it lets every scenario wait on its timers at
// the same time instead of in turn.
func concurrently[C any](t *testing.T, cases []C, name func(C) string, f func(*testing.T, C)) {
	t.Helper()
	var wg sync.WaitGroup
	for _, c := range cases {
		wg.Go(func() { t.Run(name(c), func(t *testing.T) { f(t, c) }) })
	}
	wg.Wait()
}

func peerName(p peer) string { return p.name }

// closesString shows close events without their targets.
func closesString(es []websocket.CloseEvent) string {
	var b strings.Builder
	b.WriteString("[")
	for i, e := range es {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(closeString(e))
	}
	b.WriteString("]")
	return b.String()
}

// describe shows an event: its type, and for a message, its kind and
// start.
func describe(e websocket.Event) string {
	switch e := e.(type) {
	case websocket.MessageEvent:
		kind, p, more := "text", e.Data, ""
		if e.Binary {
			kind = "binary"
		}
		if len(p) > 40 {
			p, more = p[:40], "..."
		}
		return fmt.Sprintf("%s message [%d] %q%s", kind, len(e.Data), p, more)
	case websocket.PingEvent:
		return fmt.Sprintf("ping %q", e.Data)
	case websocket.PongEvent:
		return fmt.Sprintf("pong %q", e.Data)
	case websocket.ReconnectEvent:
		return "reconnect " + reconnectString(e)
	case websocket.CloseEvent:
		return "close " + closeString(e)
	}
	return e.Type()
}

// wantClosedNormally checks that exactly one close event fired, 1000 and
// clean.
func wantClosedNormally(t *testing.T, closes []websocket.CloseEvent) {
	t.Helper()
	if len(closes) != 1 || closes[0].Code != websocket.CloseNormal || !closes[0].WasClean {
		t.Errorf("close events %s; want one, 1000 and clean", closesString(closes))
	}
}

// noise is random bytes, made once: payloads cut from it do not compress,
// so that the kernel's buffers fill with as many bytes as were sent, as
// the tests that stall a path need, whether or not the connection
// negotiated permessage-deflate.
var noise = sync.OnceValue(func() []byte {
	p := make([]byte, 1<<20)
	rand.NewChaCha8([32]byte{'s', 't', 'a', 'y', 'i', 'n', 'g'}).Read(p)
	return p
})

// numbered is message i of size bytes (at least 4, at most 512 KiB): i as
// 4 big-endian bytes, then random bytes that depend on i.
func numbered(i, size int) []byte {
	n := noise()
	off := i * 4099 % (len(n) - size)
	p := make([]byte, size)
	binary.BigEndian.PutUint32(p, uint32(i))
	copy(p[4:], n[off:])
	return p
}
