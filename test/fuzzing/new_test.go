package fuzzing_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
)

// FuzzNew fuzzes the constructor's URL and protocol validation:
// websocket.NewWithConfig(rawURL, &Config{Protocols: ..., Loop: a private
// loop, not the default one}), the protocols being protocols split at commas (none when it is
// empty). It must never panic, and return either
//
//   - a *SyntaxError or a *ConfigError, and no socket; or
//   - a CONNECTING socket whose URL() is an absolute ws:// or wss:// URL
//     in printable ASCII, with a host and no fragment, which NewWithConfig
//     accepts again and maps to itself: URL() round-trips unchanged.
//
// The sockets never reach the network: the handshake's deadline has passed
// before the dial starts (HandshakeTimeout of 1ns), and name resolution is
// disabled in this package. Each socket is then closed and the loop run,
// which must return, every socket CLOSED.
func FuzzNew(f *testing.F) {
	f.Add("ws://example.com/chat", "chat,superchat")
	// One private loop serves every input, one after the other: its Run
	// returns once the input's sockets are closed, and the next input's
	// run starts afresh.
	loop := websocket.NewEventLoop()
	f.Fuzz(func(t *testing.T, rawURL, protocols string) {
		var protos []string
		if protocols != "" {
			protos = strings.Split(protocols, ",")
		}
		loop.OnPanic = func(v any, stack []byte) {
			t.Errorf("panic on the loop: %v\n%s", v, stack)
		}
		cfg := func() *websocket.Config {
			return &websocket.Config{
				Protocols:        append([]string(nil), protos...),
				Loop:             loop,
				HandshakeTimeout: time.Nanosecond,
			}
		}
		ws, err := websocket.NewWithConfig(rawURL, cfg())
		if err != nil {
			if ws != nil {
				t.Fatalf("NewWithConfig returned a socket and the error %v", err)
			}
			var se *websocket.SyntaxError
			var ce *websocket.ConfigError
			if !errors.As(err, &se) && !errors.As(err, &ce) {
				t.Fatalf("NewWithConfig(%q, %q): %v (%T); want a *SyntaxError or a *ConfigError", rawURL, protos, err, err)
			}
			return
		}
		var sockets = []*websocket.WebSocket{ws}
		// Whatever happens below, the loop ends with every socket closed.
		defer func() {
			for _, s := range sockets {
				s.Close()
			}
			runLoop(t, loop)
			for _, s := range sockets {
				if st := s.ReadyState(); st != websocket.Closed {
					t.Errorf("readyState after Close and Run = %v; want CLOSED", st)
				}
			}
		}()

		if st := ws.ReadyState(); st != websocket.Connecting {
			t.Fatalf("readyState after NewWithConfig = %v; want CONNECTING", st)
		}
		// URL() is the URL standard's serialization: printable ASCII (it
		// goes on the request line), ws or wss, a host, no fragment. It may
		// hold what net/url refuses, such as a path's "%zz".
		got := ws.URL()
		rest, ok := strings.CutPrefix(got, "ws://")
		if !ok {
			rest, ok = strings.CutPrefix(got, "wss://")
		}
		authority, _, _ := strings.Cut(rest, "/")
		host := authority[strings.LastIndexByte(authority, '@')+1:]
		switch {
		case !ok:
			t.Fatalf("URL() %q (from %q) is not ws:// or wss://", got, rawURL)
		case strings.ContainsFunc(got, func(r rune) bool { return r <= ' ' || r >= 0x7f }):
			t.Fatalf("URL() %q (from %q) is not printable ASCII", got, rawURL)
		case host == "" || strings.HasPrefix(host, ":"):
			t.Fatalf("URL() %q (from %q) has no host", got, rawURL)
		case strings.Contains(got, "#"):
			t.Fatalf("URL() %q (from %q) has a fragment", got, rawURL)
		}
		again, err := websocket.NewWithConfig(got, cfg())
		if err != nil {
			t.Fatalf("NewWithConfig(%q) (the URL() of %q) failed: %v", got, rawURL, err)
		}
		sockets = append(sockets, again)
		if again.URL() != got {
			t.Fatalf("URL() does not round-trip: %q -> %q -> %q", rawURL, got, again.URL())
		}
		for _, p := range protos {
			if p == "" || strings.ContainsAny(p, " \t\"(),/:;<=>?@[\\]{}") {
				t.Fatalf("protocol %q accepted", p)
			}
		}
	})
}

// runLoop runs loop, which must return by itself once its sockets are
// closed.
func runLoop(t *testing.T, loop *websocket.EventLoop) {
	t.Helper()
	var stopped atomic.Bool
	watchdog := time.AfterFunc(hangBound, func() {
		stopped.Store(true)
		loop.Stop()
	})
	err := loop.Run()
	watchdog.Stop()
	if stopped.Load() {
		t.Fatalf("the loop did not return within %v of its sockets' Close", hangBound)
	}
	if err != nil {
		t.Fatalf("loop.Run: %v", err)
	}
}
