package protocol

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gobwas/ws"
)

// firstDiff is where a and b first differ, for failures over long output.
func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// A server's frames go out unmasked, byte for byte as the helpers' own
// encoder makes them: FIN and opcode, the length in its minimal 2, 4 or
// 10 bytes, the payload as given, which stays the caller's.
func TestServerWritesUnmasked(t *testing.T) {
	c := NewConn(Config{Server: true})
	sent, total := writeEverySize(t, c)
	var want []byte
	for _, s := range sent {
		want = append(want, frame(true, s.op, s.payload)...)
	}
	c.WriteText("text ☃")
	c.WritePing([]byte("p"))
	c.WriteFragment(true, []byte("ab"), false)
	c.WritePong(nil)
	c.WriteFragment(true, []byte("cd"), true)
	c.WriteClose(1000, "bye")
	want = cat(want, textFrame("text ☃"), pingFrame("p"), frame(false, ws.OpBinary, []byte("ab")), pongFrame(""),
		frame(true, ws.OpContinuation, []byte("cd")), closeCode(1000, "bye"))
	total += len("text ☃") + 4
	if got := allOutput(c); !bytes.Equal(got, want) {
		i := firstDiff(got, want)
		t.Fatalf("%d bytes queued, want %d; first difference at %d", len(got), len(want), i)
	}
	if c.BufferedPayload() != total {
		t.Fatalf("BufferedPayload %d, want %d", c.BufferedPayload(), total)
	}
}

// A server's messages carried over to a next server-role state go out
// unmasked there: the one partly written again whole, a compressed one
// again uncompressed.
func TestServerCarryOver(t *testing.T) {
	c := NewConn(Config{Server: true, Deflate: &Deflate{}})
	text := strings.Repeat("carried ", 100)
	c.WriteText("sent")
	c.WriteText(text) // compressed
	c.WriteMessage(true, []byte("plain"))
	c.Advance(len(textFrame("sent")) + 3)
	next := NewConn(Config{Server: true})
	carried, lost, interrupted := c.CarryOver(next)
	if carried != len(text)+5 || lost != 0 || interrupted || next.BufferedPayload() != carried {
		t.Fatalf("carried %d lost %d buffered %d", carried, lost, next.BufferedPayload())
	}
	if got, want := allOutput(next), cat(textFrame(text), binFrame([]byte("plain"))); !bytes.Equal(got, want) {
		t.Fatalf("next holds %d bytes, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
	}
}
