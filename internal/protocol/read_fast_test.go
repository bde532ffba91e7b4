package protocol

import (
	"bytes"
	"testing"

	"github.com/gobwas/ws"
)

// TestTakeMessage: the fast path takes every whole, unfragmented, valid
// data frame, as Next would, and declines everything else without
// touching the Conn or its input, so that Next then sees what it would
// have seen; at both ends.
func TestTakeMessage(t *testing.T) {
	for _, role := range roles {
		testTakeMessage(t, role.server)
	}
}

func testTakeMessage(t *testing.T, server bool) {
	cfg := Config{Server: server}
	wire := func(in []byte) []byte { return wireFor(server, in) }
	big := bytes.Repeat([]byte{7, 8, 9}, 70000/3) // a 64-bit length, not a multiple of 4
	mid := bytes.Repeat([]byte{9}, 1021)          // a 16-bit length
	for _, tc := range []struct {
		name string
		in   []byte
		data []byte
		bin  bool
	}{
		{"text", textFrame("héllo"), []byte("héllo"), false},
		{"empty text", textFrame(""), []byte{}, false},
		{"binary 1021", frame(true, ws.OpBinary, mid), mid, true},
		{"binary 69999", frame(true, ws.OpBinary, big), big, true},
		{"followed by more", cat(textFrame("a"), pingFrame("p")), []byte("a"), false},
	} {
		in := wire(tc.in)
		c := NewConn(cfg)
		ev, n, ok := c.TakeMessage(in)
		if !ok {
			t.Fatalf("server %v, %s: declined", server, tc.name)
		}
		want, wn, err := NewConn(cfg).Next(in)
		if err != nil || n != wn || ev.Kind != want.Kind || ev.Binary != want.Binary || !bytes.Equal(ev.Data, want.Data) {
			t.Fatalf("server %v, %s: TakeMessage = %d bytes, Next = %d (%v)", server, tc.name, n, wn, err)
		}
		if ev.Binary != tc.bin || !bytes.Equal(ev.Data, tc.data) {
			t.Fatalf("server %v, %s: got binary=%v %.40q", server, tc.name, ev.Binary, ev.Data)
		}
	}

	started := NewConn(cfg)
	if _, _, err := started.Next(wire(frame(false, ws.OpText, []byte("part")))); err != nil {
		t.Fatal(err)
	}
	wrongMask := []byte{0x81, 0x81, 1, 2, 3, 4, 'a'}
	if server {
		wrongMask = textFrame("a")
	}
	for _, tc := range []struct {
		name string
		c    *Conn
		in   []byte
	}{
		{"first fragment", NewConn(cfg), wire(frame(false, ws.OpText, []byte("a")))},
		{"continuation", started, wire(frame(true, ws.OpContinuation, []byte("b")))},
		{"text while a message is in progress", started, wire(textFrame("c"))},
		{"ping", NewConn(cfg), wire(pingFrame("p"))},
		{"partial header", NewConn(cfg), wire(frame(true, ws.OpBinary, mid))[:3]},
		{"partial payload", NewConn(cfg), wire(frame(true, ws.OpBinary, mid))[:100]},
		{"one byte", NewConn(cfg), []byte{0x81}},
		{"masked the wrong way", NewConn(cfg), wrongMask},
		{"rsv1", NewConn(cfg), wire([]byte{0xc1, 1, 'a'})},
		{"reserved opcode", NewConn(cfg), wire([]byte{0x83, 1, 'a'})},
		{"invalid UTF-8", NewConn(cfg), wire(textFrame("\xff"))},
		{"truncated UTF-8", NewConn(cfg), wire(textFrame("\xe2\x82"))},
		{"over the limit", NewConn(Config{Server: server, MaxMessageSize: 10}), wire(frame(true, ws.OpBinary, mid))},
	} {
		partial := tc.c.Partial()
		orig := bytes.Clone(tc.in)
		if _, _, ok := tc.c.TakeMessage(tc.in); ok {
			t.Fatalf("server %v, %s: taken", server, tc.name)
		}
		if tc.c.Partial() != partial || tc.c.Failed() != nil || len(tc.c.Output()) != 0 || !bytes.Equal(tc.in, orig) {
			t.Fatalf("server %v, %s: declining changed the Conn or its input", server, tc.name)
		}
	}

	failed := NewConn(cfg)
	failed.Next(wire([]byte{0x83, 0}))
	closed := NewConn(cfg)
	closed.Next(wire(closeCode(1000, "")))
	for name, c := range map[string]*Conn{"failed": failed, "closed": closed} {
		if _, _, ok := c.TakeMessage(wire(textFrame("a"))); ok {
			t.Fatalf("server %v, %s Conn: taken", server, name)
		}
	}
}
