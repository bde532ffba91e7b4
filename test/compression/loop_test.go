package compression_test

import (
	"sync/atomic"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/test/internal/peers"
)

// TestEventLoop echoes the burst on an event loop of the test's own
// (NewWithConfig, callbacks), where TestMatrix uses the blocking API: in
// the default mode, and with the smallest windows both ways and no
// takeover at all.
func TestEventLoop(t *testing.T) {
	loopModes := []mode{
		{name: "Default"},
		{name: "ServerSets_s8_c8_snct_cnct", server: peers.Deflate{
			ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 8, ClientMaxWindowBits: 8,
		}},
	}
	for _, p := range allPeers {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			for _, m := range loopModes {
				t.Run(m.name, func(t *testing.T) {
					t.Parallel()
					testLoop(t, p, m)
				})
			}
		})
	}
}

func testLoop(t *testing.T, p peer, m mode) {
	want := settle(p, m)
	url := p.start(t, m.server)
	loop := websocket.NewEventLoop()
	loop.OnPanic = func(v any, stack []byte) {
		t.Errorf("panic in a callback: %v\n%s", v, stack)
	}
	cfg := m.config()
	cfg.Loop = loop
	ws, err := websocket.NewWithConfig(url, cfg)
	if err != nil {
		t.Fatalf("NewWithConfig(%q): %v", url, err)
	}
	burst := messages(false)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf(format, args...)
		ws.Close()
	}
	next := 0
	ws.OnOpen = func(websocket.OpenEvent) {
		checkExtensions(t, ws.Extensions(), want)
		for i, msg := range burst {
			if err := msg.send(ws); err != nil {
				fail("sending message %d, %v: %v", i, msg, err)
				return
			}
		}
	}
	ws.OnMessage = func(e websocket.MessageEvent) {
		if next == len(burst) {
			fail("a message after the last echo: %d bytes", len(e.Data))
			return
		}
		if !burst[next].is(e) {
			fail("echo %d: binary=%t, %d bytes; want %v, the same bytes", next, e.Binary, len(e.Data), burst[next])
			return
		}
		e.Release()
		next++
		if next == len(burst) {
			if err := ws.CloseWith(websocket.CloseNormal, "done"); err != nil {
				fail("CloseWith: %v", err)
			}
		}
	}
	ws.OnError = func(e websocket.ErrorEvent) { t.Errorf("error event: %v", e.Err) }
	var closes []websocket.CloseEvent
	ws.OnClose = func(e websocket.CloseEvent) { closes = append(closes, e) }

	var stopped atomic.Bool
	watchdog := time.AfterFunc(timeout, func() {
		stopped.Store(true)
		loop.Stop()
	})
	err = loop.Run()
	watchdog.Stop()
	if err != nil {
		t.Fatalf("loop.Run: %v", err)
	}
	if stopped.Load() {
		t.Fatalf("loop still running after %v, %d echoes of %d", timeout, next, len(burst))
	}
	if next != len(burst) {
		t.Errorf("%d echoes of %d", next, len(burst))
	}
	wantClose := websocket.CloseEvent{Target: ws, Code: websocket.CloseNormal, Reason: "done", WasClean: true}
	if len(closes) != 1 || closes[0] != wantClose {
		t.Errorf("close events %+v; want one, %+v", closes, wantClose)
	}
}
