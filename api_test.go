package websocket_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
)

func TestNewURLSyntax(t *testing.T) {
	bad := []string{
		"", "example.org/x", "/relative", "//host/x", "ftp://host/", "file:///etc/passwd",
		"ws://host/#", "ws://host/x#frag", "wss://host#a", "ws://", "ws:///", "ws://host:99999/",
		"ws://host:port/", "ws://[::1/", "ws://ho st/", "ws://a<b/", "ws://a%zz/", "ws://a|b/",
		"ws://1.2.3.4.5/", "ws://0x100000000/", "ws://256.1.1.1/", "ws://foo.09/", "ws://[::1::2]/",
		"ws://user@/x", "ws://h:1:2/",
	}
	for _, u := range bad {
		ws, err := websocket.New(u)
		var se *websocket.SyntaxError
		if !errors.As(err, &se) || ws != nil {
			t.Errorf("New(%q) = %v, %v; want *SyntaxError", u, ws, err)
		}
	}
}

func TestNewURLMapping(t *testing.T) {
	cases := map[string]string{
		"ws://127.0.0.1:1":          "ws://127.0.0.1:1/",
		"WS://127.0.0.1:1/a?b=c":    "ws://127.0.0.1:1/a?b=c",
		"http://127.0.0.1:1/x":      "ws://127.0.0.1:1/x",
		"https://127.0.0.1:1/x?y":   "wss://127.0.0.1:1/x?y",
		"wss://LOCALHOST:1/Path":    "wss://localhost:1/Path",
		"ws://[::1]:1/":             "ws://[::1]:1/",
		"ws://user:pw@127.0.0.1:1/": "ws://user:pw@127.0.0.1:1/",
		// The WHATWG URL standard, as a browser parses the constructor's URL.
		"ws:127.0.0.1:1/x":                 "ws://127.0.0.1:1/x",
		"ws:/127.0.0.1:1/x":                "ws://127.0.0.1:1/x",
		`ws:\\127.0.0.1:1\x`:               "ws://127.0.0.1:1/x",
		"ws:///127.0.0.1:1/x":              "ws://127.0.0.1:1/x",
		"ws://127.0.0.1:1/?q=a b&r=é":      "ws://127.0.0.1:1/?q=a%20b&r=%C3%A9",
		"ws://127.0.0.1:1/p ath/é":         "ws://127.0.0.1:1/p%20ath/%C3%A9",
		"ws://127.0.0.1:1/./a/../b/%2e%2E": "ws://127.0.0.1:1/",
		"ws://127.0.0.1:1/./a/../b":        "ws://127.0.0.1:1/b",
		"ws://127.0.0.1:80/":               "ws://127.0.0.1/",
		"wss://127.0.0.1:443/":             "wss://127.0.0.1/",
		"ws://127.0.0.1:00001/":            "ws://127.0.0.1:1/",
		"ws://0x7f.1:1/":                   "ws://127.0.0.1:1/",
		"ws://2130706433:1/":               "ws://127.0.0.1:1/",
		"ws://[0:0:0:0:0:0:0:1]:1/":        "ws://[::1]:1/",
		"ws://[::ffff:127.0.0.1]:1/":       "ws://[::ffff:7f00:1]:1/",
		"ws://MÜNCHEN.invalid:1/":          "ws://xn--mnchen-3ya.invalid:1/",
		"ws://%6C%6F%63alhost:1/":          "ws://localhost:1/",
		" ws://127.0.0.1:1/\t?a\nb ":       "ws://127.0.0.1:1/?ab",
	}
	l := websocket.NewEventLoop()
	for in, want := range cases {
		ws, err := websocket.NewWithConfig(in, &websocket.Config{Loop: l, HandshakeTimeout: time.Second})
		if err != nil {
			t.Errorf("New(%q): %v", in, err)
			continue
		}
		if got := ws.URL(); got != want {
			t.Errorf("New(%q).URL() = %q, want %q", in, got, want)
		}
		if ws.ReadyState() != websocket.Connecting {
			t.Errorf("New(%q) state %v", in, ws.ReadyState())
		}
	}
	runLoop(t, l, 10*time.Second) // every dial fails: port 1 is closed
}

func TestNewProtocolSyntax(t *testing.T) {
	bad := [][]string{{""}, {"a b"}, {"a,b"}, {"chat", "chat"}, {"x\x7f"}, {"é"}, {"a/b"}, {"a", ""}}
	for _, p := range bad {
		_, err := websocket.New("ws://127.0.0.1:1/", p...)
		var se *websocket.SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("New(protocols %q) err = %v; want *SyntaxError", p, err)
		}
	}
	l := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig("ws://127.0.0.1:1/", &websocket.Config{Loop: l, Protocols: []string{"chat", "Chat", "v2.chat", "x-y_z~!#$%&'*+^`|"}})
	if err != nil || ws == nil {
		t.Fatalf("valid protocols refused: %v", err)
	}
	runLoop(t, l, 10*time.Second)
}

// Every code RFC 6455 lets a client send is accepted and goes on the wire,
// where a browser takes only 1000 and 3000-4999: a Go client shutting down
// says 1001.
func TestCloseWithClientCodes(t *testing.T) {
	for _, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 3000, 4999} {
		srv := startRawServer(t, func(c *rawConn) {
			c.accept()
			c.answerClose(uint16(code), "")
		})
		tc := newTraceClient(t, srv.URL, nil)
		tc.OnOpen = func(ws *websocket.WebSocket) {
			if err := ws.CloseWith(code, "bye"); err != nil {
				t.Errorf("CloseWith(%d) = %v", code, err)
			}
		}
		tc.run()
		rep := srv.report(t)
		if len(rep.Frames) != 1 {
			t.Fatalf("code %d: the server got %v", code, rep.Frames)
		}
		checkCloseFrame(t, rep.Frames[0], code)
	}
}

func TestConfigErrors(t *testing.T) {
	cases := map[string]*websocket.Config{
		"Header":           {Header: map[string][]string{"sec-websocket-key": {"x"}}},
		"HandshakeTimeout": {HandshakeTimeout: -1},
		"CloseTimeout":     {CloseTimeout: -1},
		"MaxMessageSize":   {MaxMessageSize: -1},
	}
	for field, cfg := range cases {
		_, err := websocket.NewWithConfig("ws://127.0.0.1:1/", cfg)
		var ce *websocket.ConfigError
		if !errors.As(err, &ce) || ce.Field != field {
			t.Errorf("%s: err = %v, want *ConfigError for it", field, err)
		}
	}
}

func TestCloseWithValidation(t *testing.T) {
	l := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig("ws://127.0.0.1:1/", &websocket.Config{Loop: l})
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []int{0, 999, 1004, 1005, 1006, 1011, 1012, 1014, 1015, 2999, 5000, 65536} {
		var ia *websocket.InvalidAccessError
		if err := ws.CloseWith(code, ""); !errors.As(err, &ia) || ia.Code != code {
			t.Errorf("CloseWith(%d) = %v, want *InvalidAccessError", code, err)
		}
	}
	for _, reason := range []string{strings.Repeat("a", 124), strings.Repeat("é", 62), "\xff"} {
		var se *websocket.SyntaxError
		if err := ws.CloseWith(1000, reason); !errors.As(err, &se) {
			t.Errorf("CloseWith(1000, %d bytes) = %v, want *SyntaxError", len(reason), err)
		}
	}
	if ws.ReadyState() != websocket.Connecting {
		t.Fatalf("refused CloseWith changed the state to %v", ws.ReadyState())
	}
	if err := ws.CloseWith(4999, strings.Repeat("a", 123)); err != nil {
		t.Fatalf("valid CloseWith: %v", err)
	}
	if ws.ReadyState() != websocket.Closing {
		t.Fatalf("state after close while connecting: %v, want CLOSING", ws.ReadyState())
	}
	runLoop(t, l, 10*time.Second)
}

func TestReadyStateString(t *testing.T) {
	for s, want := range map[websocket.ReadyState]string{
		websocket.Connecting: "CONNECTING", websocket.Open: "OPEN",
		websocket.Closing: "CLOSING", websocket.Closed: "CLOSED", 7: "ReadyState(7)",
	} {
		if s.String() != want {
			t.Errorf("%d: %q", int(s), s.String())
		}
	}
}

func TestIDsAreUnique(t *testing.T) {
	l := websocket.NewEventLoop()
	a, _ := websocket.NewWithConfig("ws://127.0.0.1:1/", &websocket.Config{Loop: l})
	b, _ := websocket.NewWithConfig("ws://127.0.0.1:1/", &websocket.Config{Loop: l})
	if a.ID() == b.ID() || a.ID() == 0 {
		t.Fatalf("IDs %d and %d", a.ID(), b.ID())
	}
	runLoop(t, l, 10*time.Second)
}

// A listener for an event a WebSocket never fires is a bug: it panics at
// once, naming the type, instead of never firing.
func TestAddEventListenerUnknownTypePanics(t *testing.T) {
	ws, err := websocket.NewWithConfig("ws://127.0.0.1:1/", &websocket.Config{Loop: websocket.NewEventLoop()})
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"mesage", "Message", "", "onmessage"} {
		func() {
			defer func() {
				v := recover()
				if s, ok := v.(string); !ok || !strings.Contains(s, strconv.Quote(typ)) {
					t.Errorf("AddEventListener(%q) panicked with %v, want a message naming the type", typ, v)
				}
			}()
			ws.AddEventListener(typ, func(websocket.Event) {})
		}()
	}
	for _, typ := range []string{"open", "message", "error", "close", "ping", "pong", "bufferedamountlow"} {
		ws.AddEventListener(typ, func(websocket.Event) {})()
	}
	ws.Close()
	ws.Loop().Run()
}

// Every event has the same shape: its type and its socket, through the
// Event interface as through the Target field.
func TestEventShape(t *testing.T) {
	ws, err := websocket.NewWithConfig("ws://127.0.0.1:1/", &websocket.Config{Loop: websocket.NewEventLoop()})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []websocket.Event{
		websocket.OpenEvent{Target: ws}, websocket.MessageEvent{Target: ws}, websocket.ErrorEvent{Target: ws},
		websocket.CloseEvent{Target: ws}, websocket.PingEvent{Target: ws}, websocket.PongEvent{Target: ws},
		websocket.BufferedAmountLowEvent{Target: ws},
	} {
		if e.Socket() != ws || e.Type() == "" {
			t.Errorf("%T: Socket %p, Type %q", e, e.Socket(), e.Type())
		}
	}
	var opened websocket.OpenEvent
	ws.OnOpen = func(e websocket.OpenEvent) { opened = e } // a concrete type, as the other On* fields
	_ = opened
	ws.Close()
	ws.Loop().Run()
}
