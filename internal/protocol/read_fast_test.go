package protocol

import (
	"bytes"
	"testing"

	"github.com/gobwas/ws"
)

// TestTakeMessage: the fast path takes every whole, unfragmented, valid
// data frame, as Next would, and declines everything else without
// touching the Conn, so that Next then sees what it would have seen.
func TestTakeMessage(t *testing.T) {
	big := bytes.Repeat([]byte{7}, 70000) // a 64-bit length
	mid := bytes.Repeat([]byte{9}, 1024)  // a 16-bit length
	for _, tc := range []struct {
		name string
		in   []byte
		data []byte
		bin  bool
	}{
		{"text", textFrame("héllo"), []byte("héllo"), false},
		{"empty text", textFrame(""), []byte{}, false},
		{"binary 1 KiB", frame(true, ws.OpBinary, mid), mid, true},
		{"binary 70 000", frame(true, ws.OpBinary, big), big, true},
		{"followed by more", cat(textFrame("a"), pingFrame("p")), []byte("a"), false},
	} {
		c := NewConn(Config{})
		ev, n, ok := c.TakeMessage(tc.in)
		if !ok {
			t.Fatalf("%s: declined", tc.name)
		}
		want, wn, err := NewConn(Config{}).Next(tc.in)
		if err != nil || n != wn || ev.Kind != want.Kind || ev.Binary != want.Binary || !bytes.Equal(ev.Data, want.Data) {
			t.Fatalf("%s: TakeMessage = %v %d, Next = %v %d %v", tc.name, ev, n, want, wn, err)
		}
		if ev.Binary != tc.bin || !bytes.Equal(ev.Data, tc.data) {
			t.Fatalf("%s: got binary=%v %q", tc.name, ev.Binary, ev.Data)
		}
	}

	started := NewConn(Config{})
	if _, _, err := started.Next(frame(false, ws.OpText, []byte("part"))); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    *Conn
		in   []byte
	}{
		{"first fragment", NewConn(Config{}), frame(false, ws.OpText, []byte("a"))},
		{"continuation", started, frame(true, ws.OpContinuation, []byte("b"))},
		{"text while a message is in progress", started, textFrame("c")},
		{"ping", NewConn(Config{}), pingFrame("p")},
		{"partial header", NewConn(Config{}), frame(true, ws.OpBinary, mid)[:3]},
		{"partial payload", NewConn(Config{}), frame(true, ws.OpBinary, mid)[:100]},
		{"one byte", NewConn(Config{}), []byte{0x81}},
		{"masked", NewConn(Config{}), []byte{0x81, 0x81, 1, 2, 3, 4, 'a'}},
		{"rsv1", NewConn(Config{}), []byte{0xc1, 1, 'a'}},
		{"reserved opcode", NewConn(Config{}), []byte{0x83, 1, 'a'}},
		{"invalid UTF-8", NewConn(Config{}), textFrame("\xff")},
		{"truncated UTF-8", NewConn(Config{}), textFrame("\xe2\x82")},
		{"over the limit", NewConn(Config{MaxMessageSize: 10}), frame(true, ws.OpBinary, mid)},
	} {
		partial := tc.c.Partial()
		if _, _, ok := tc.c.TakeMessage(tc.in); ok {
			t.Fatalf("%s: taken", tc.name)
		}
		if tc.c.Partial() != partial || tc.c.Failed() != nil || len(tc.c.Output()) != 0 {
			t.Fatalf("%s: declining changed the Conn", tc.name)
		}
	}

	failed := NewConn(Config{})
	failed.Next([]byte{0x83, 0})
	closed := NewConn(Config{})
	closed.Next(closeCode(1000, ""))
	for name, c := range map[string]*Conn{"failed": failed, "closed": closed} {
		if _, _, ok := c.TakeMessage(textFrame("a")); ok {
			t.Fatalf("%s Conn: taken", name)
		}
	}
}
