package protocol

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gobwas/ws"
)

// writeEverySize queues a message of every header size, text and binary in
// turn, checking that the caller's slice stays as it was, and returns what
// it queued and the payload bytes counted.
func writeEverySize(t *testing.T, c *Conn) (sent []outFrame, total int) {
	t.Helper()
	for i, n := range []int{0, 1, 125, 126, 65535, 65536, 100000} {
		p := bytes.Repeat([]byte{byte(i + 1)}, n)
		orig := bytes.Clone(p)
		if err := c.WriteMessage(i%2 == 1, p); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(p, orig) {
			t.Fatal("WriteMessage modified the caller's slice")
		}
		op := ws.OpText
		if i%2 == 1 {
			op = ws.OpBinary
		}
		sent = append(sent, outFrame{fin: true, op: op, payload: p})
		total += n
	}
	return sent, total
}

func TestWriteFramesMasked(t *testing.T) {
	c := NewConn(Config{})
	sent, total := writeEverySize(t, c)
	if err := c.WriteText("text ☃"); err != nil {
		t.Fatal(err)
	}
	frames := mustDecode(t, allOutput(c)) // checks mask bit and minimal lengths
	if len(frames) != len(sent)+1 {
		t.Fatalf("%d frames", len(frames))
	}
	for i, s := range sent {
		if frames[i].op != s.op || !bytes.Equal(frames[i].payload, s.payload) {
			t.Fatalf("frame %d: op %v, %d bytes", i, frames[i].op, len(frames[i].payload))
		}
	}
	if f := frames[len(sent)]; f.op != ws.OpText || string(f.payload) != "text ☃" {
		t.Fatalf("WriteText frame %+v", f)
	}
	total += len("text ☃")
	if c.BufferedPayload() != total {
		t.Fatalf("BufferedPayload %d, want %d", c.BufferedPayload(), total)
	}
}

func TestWireBytesAreMasked(t *testing.T) {
	// The plaintext must not appear on the wire (with overwhelming
	// probability for a random key).
	c := NewConn(Config{})
	msg := strings.Repeat("secret", 20)
	c.WriteText(msg)
	if bytes.Contains(c.Output(), []byte("secretsecret")) {
		t.Fatal("payload not masked")
	}
}

func TestMaskKeysDiffer(t *testing.T) {
	c := NewConn(Config{})
	const n = 300 // crosses several refills of a 64-key buffer
	for i := range n {
		switch i % 3 {
		case 0:
			c.WriteText("x")
		case 1:
			c.WritePing(nil)
		default:
			c.WriteMessage(true, nil)
		}
	}
	seen := map[[4]byte]bool{}
	for _, f := range mustDecode(t, allOutput(c)) {
		seen[f.key] = true
	}
	// Among 300 random 32-bit keys a collision has odds of about 1e-5.
	if len(seen) < n-1 {
		t.Fatalf("only %d distinct keys among %d frames", len(seen), n)
	}
}

func TestControlWrites(t *testing.T) {
	c := NewConn(Config{})
	long := bytes.Repeat([]byte{'p'}, 126)
	if c.WritePing(long) != ErrControlTooLong || c.WritePong(long) != ErrControlTooLong {
		t.Fatal("126-byte control payload accepted")
	}
	if err := c.WriteClose(1000, strings.Repeat("r", 124)); err != ErrControlTooLong {
		t.Fatalf("long close reason: %v", err)
	}
	if c.CloseSent() || len(c.Output()) != 0 {
		t.Fatal("rejected writes had an effect")
	}
	if c.WritePing(long[:125]) != nil || c.WritePong([]byte("p")) != nil {
		t.Fatal("valid control rejected")
	}
	if err := c.WriteClose(4000, strings.Repeat("r", 123)); err != nil {
		t.Fatal(err)
	}
	frames := mustDecode(t, allOutput(c))
	if len(frames) != 3 || frames[0].op != ws.OpPing || len(frames[0].payload) != 125 || frames[1].op != ws.OpPong {
		t.Fatalf("frames %+v", frames)
	}
	if r := checkClose(t, frames, 4000); r != strings.Repeat("r", 123) {
		t.Fatalf("reason %q", r)
	}
	if c.BufferedPayload() != 0 {
		t.Fatal("control payload counted")
	}
	for _, err := range []error{
		c.WriteMessage(false, nil), c.WriteText("x"), c.WritePing(nil), c.WritePong(nil), c.WriteClose(1000, ""),
	} {
		if err != ErrClosed {
			t.Fatalf("write after close: %v", err)
		}
	}
}

func TestWriteCloseWithoutCode(t *testing.T) {
	c := NewConn(Config{})
	if err := c.WriteClose(0, "dropped"); err != nil {
		t.Fatal(err)
	}
	checkClose(t, mustDecode(t, allOutput(c)), 0)
	if !c.CloseSent() {
		t.Fatal("CloseSent false")
	}
}

func TestWriteAfterCloseEcho(t *testing.T) {
	c := NewConn(Config{})
	feedAll(c, closeCode(1000, ""))
	if err := c.WriteText("x"); err != ErrClosed {
		t.Fatalf("write after echo: %v", err)
	}
}
