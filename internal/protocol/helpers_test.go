package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// hdr builds an unmasked header with a minimal length encoding. b0 is the
// whole first byte (FIN, RSV, opcode), so tests can set any bit. Frames are
// built unmasked, as a server sends them; maskFrames makes a client's of
// them.
func hdr(b0 byte, n int) []byte {
	switch {
	case n <= 125:
		return []byte{b0, byte(n)}
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16([]byte{b0, 126}, uint16(n))
	default:
		return binary.BigEndian.AppendUint64([]byte{b0, 127}, uint64(n))
	}
}

// raw builds an unmasked server frame from its first byte and payload.
func raw(b0 byte, payload []byte) []byte {
	return append(hdr(b0, len(payload)), payload...)
}

// frame builds an unmasked server frame.
func frame(fin bool, op ws.OpCode, payload []byte) []byte {
	b0 := byte(op)
	if fin {
		b0 |= 0x80
	}
	return raw(b0, payload)
}

func textFrame(s string) []byte  { return frame(true, ws.OpText, []byte(s)) }
func binFrame(p []byte) []byte   { return frame(true, ws.OpBinary, p) }
func pingFrame(s string) []byte  { return frame(true, ws.OpPing, []byte(s)) }
func pongFrame(s string) []byte  { return frame(true, ws.OpPong, []byte(s)) }
func closeFrame(p []byte) []byte { return frame(true, ws.OpClose, p) }
func closeCode(code uint16, reason string) []byte {
	return closeFrame(append(binary.BigEndian.AppendUint16(nil, code), reason...))
}

// maskFrames masks every frame of in, a conversation of unmasked frames
// as the helpers build them, as a client sends them: the mask bit set, a
// key after the length, the payload masked with it. The keys come from
// seed, so that a test repeats. A last frame cut short is masked as far as
// it goes (a header cut inside its length gets the mask bit alone).
func maskFrames(in []byte, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 0x6d61736b))
	var out []byte
	for len(in) >= 2 {
		hn := headerSize(in[1] &^ bitMask)
		if len(in) < hn {
			break
		}
		var key [4]byte
		binary.LittleEndian.PutUint32(key[:], r.Uint32())
		out = append(out, in[0], in[1]|bitMask)
		out = append(out, in[2:hn]...)
		out = append(out, key[:]...)
		p := framePayload(in, hn)
		start := len(out)
		out = append(out, p...)
		ws.Cipher(out[start:], key, 0)
		in = in[hn+len(p):]
	}
	if len(in) > 0 { // a header cut short
		out = append(out, in...)
		if len(in) > 1 {
			out[len(out)-len(in)+1] |= bitMask
		}
	}
	return out
}

// framePayload returns the payload bytes f holds of the frame it starts
// with, whose header of hn bytes is whole: all of it, or what there is of
// it when f is cut short.
func framePayload(f []byte, hn int) []byte {
	n := uint64(f[1] & bitsLen7)
	switch n {
	case len7Ext16:
		n = uint64(binary.BigEndian.Uint16(f[2:]))
	case len7Ext64:
		n = binary.BigEndian.Uint64(f[2:])
	}
	p := f[hn:]
	if uint64(len(p)) > n {
		p = p[:n]
	}
	return p
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// outFrame is a frame decoded from Output, unmasked.
type outFrame struct {
	fin     bool
	rsv     byte
	op      ws.OpCode
	key     [4]byte
	payload []byte
}

// decodeClientFrames decodes the frames a client-role Conn queued.
func decodeClientFrames(out []byte) ([]outFrame, error) {
	return decodeFrames(out, true)
}

// decodeFrames decodes the frames a Conn queued. Every frame must be masked
// (a client's) or not (a server's) as masked says, complete and minimally
// encoded (the core always writes minimal lengths); out itself is not
// modified.
func decodeFrames(out []byte, masked bool) ([]outFrame, error) {
	var frames []outFrame
	keyLen := 0
	if masked {
		keyLen = 4
	}
	for len(out) > 0 {
		if len(out) < 2 {
			return frames, errors.New("truncated header")
		}
		f := outFrame{fin: out[0]&0x80 != 0, rsv: out[0] >> 4 & 7, op: ws.OpCode(out[0] & 0xf)}
		if out[1]&0x80 == 0 && masked {
			return frames, errors.New("client frame without the mask bit")
		}
		if out[1]&0x80 != 0 && !masked {
			return frames, errors.New("server frame with the mask bit")
		}
		n, i := uint64(out[1]&0x7f), 2
		switch n {
		case 126:
			if len(out) < 4 {
				return frames, errors.New("truncated header")
			}
			n, i = uint64(binary.BigEndian.Uint16(out[2:])), 4
			if n < 126 {
				return frames, errors.New("non-minimal 16-bit length")
			}
		case 127:
			if len(out) < 10 {
				return frames, errors.New("truncated header")
			}
			n, i = binary.BigEndian.Uint64(out[2:]), 10
			if n <= 0xffff {
				return frames, errors.New("non-minimal 64-bit length")
			}
		}
		if uint64(len(out)) < uint64(i+keyLen)+n {
			return frames, errors.New("truncated frame")
		}
		copy(f.key[:], out[i:i+keyLen])
		i += keyLen
		f.payload = append([]byte{}, out[i:i+int(n)]...)
		for j := range f.payload {
			f.payload[j] ^= f.key[j%4]
		}
		frames = append(frames, f)
		out = out[i+int(n):]
	}
	return frames, nil
}

// mustDecode decodes a client-role Conn's output, every frame final and
// without RSV bits.
func mustDecode(t testing.TB, out []byte) []outFrame {
	t.Helper()
	return mustDecodeRole(t, false, out)
}

// mustDecodeRole is mustDecode for either role's output.
func mustDecodeRole(t testing.TB, server bool, out []byte) []outFrame {
	t.Helper()
	frames, err := decodeFrames(out, !server)
	if err != nil {
		t.Fatalf("decoding output: %v (% .64x)", err, out)
	}
	for _, f := range frames {
		if !f.fin || f.rsv != 0 {
			t.Fatalf("client frame fin=%v rsv=%d", f.fin, f.rsv)
		}
	}
	return frames
}

// feed feeds each chunk in turn and collects the events up to the first
// error.
func feed(c *Conn, chunks ...[]byte) ([]Event, error) {
	var all []Event
	for _, ch := range chunks {
		evs, err := feedAll(c, ch)
		all = append(all, evs...)
		if err != nil {
			return all, err
		}
	}
	return all, nil
}

// feedFast is feed as the root package drives a Conn: TakeMessage first,
// Next when it declines.
func feedFast(c *Conn, chunks ...[]byte) ([]Event, error) {
	var all []Event
	for _, p := range chunks {
		for {
			if ev, n, ok := c.TakeMessage(p); ok {
				if n <= 0 || n > len(p) || ev.Kind != KindMessage {
					panic("TakeMessage returned a bad message or length")
				}
				all = append(all, ev)
				p = p[n:]
				if len(p) == 0 {
					break
				}
				continue
			}
			ev, n, err := c.Next(p)
			if ev.Kind != 0 {
				all = append(all, ev)
			}
			p = p[n:]
			if err != nil {
				return all, err
			}
			if len(p) == 0 {
				break
			}
		}
	}
	return all, nil
}

// feedAll calls Next until p is used up, as a driver does, and collects
// the events up to the first error. Called with nothing, it still calls
// Next once, so that the state of a failed Conn shows.
func feedAll(c *Conn, p []byte) ([]Event, error) {
	var evs []Event
	for {
		ev, n, err := c.Next(p)
		if n < 0 || n > len(p) {
			panic("Next consumed outside its input")
		}
		if ev.Kind != 0 {
			if err != nil {
				panic("Next returned an event with an error")
			}
			evs = append(evs, ev)
		} else if n < len(p) && err == nil {
			panic("Next stopped early without an event")
		}
		p = p[n:]
		if err != nil || len(p) == 0 {
			return evs, err
		}
	}
}

// drain calls Next until p is used up and drops the events, for the
// allocation tests and benchmarks.
func drain(c *Conn, p []byte) error {
	for len(p) > 0 {
		_, n, err := c.Next(p)
		if err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// checkClose asserts that frames ends with exactly one close frame carrying
// code (0: empty payload) and returns its reason.
func checkClose(t testing.TB, frames []outFrame, code uint16) string {
	t.Helper()
	if len(frames) == 0 {
		t.Fatalf("no frame queued, want close %d", code)
	}
	f := frames[len(frames)-1]
	if f.op != ws.OpClose {
		t.Fatalf("last frame opcode %v, want close", f.op)
	}
	for _, g := range frames[:len(frames)-1] {
		if g.op == ws.OpClose {
			t.Fatalf("more than one close frame queued")
		}
	}
	if code == 0 {
		if len(f.payload) != 0 {
			t.Fatalf("close payload % x, want empty", f.payload)
		}
		return ""
	}
	if len(f.payload) < 2 {
		t.Fatalf("close payload % x, want code %d", f.payload, code)
	}
	if got := binary.BigEndian.Uint16(f.payload); got != code {
		t.Fatalf("close code %d, want %d", got, code)
	}
	reason := f.payload[2:]
	if len(reason) > 123 || !utf8.Valid(reason) {
		t.Fatalf("bad close reason %q", reason)
	}
	return string(reason)
}

// checkFailed asserts that err is a violation with code, that the matching
// close frame is the last thing queued, and that the Conn stays failed.
func checkFailed(t testing.TB, c *Conn, err error, code uint16) {
	t.Helper()
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v, want *Error with code %d", err, code)
	}
	if pe.Code != code {
		t.Fatalf("error code %d (%s), want %d", pe.Code, pe.Reason, code)
	}
	checkClose(t, mustDecodeRole(t, c.server, allOutput(c)), code)
	if !c.CloseSent() {
		t.Fatal("CloseSent false after failure")
	}
	if c.Failed() != err {
		t.Fatalf("Failed() = %v, want %v", c.Failed(), err)
	}
	if c.Partial() {
		t.Fatal("Partial after failure")
	}
	evs, err2 := feedAll(c, textFrame("late"))
	if err2 != err || len(evs) != 0 {
		t.Fatalf("Feed after failure = %v, %v; want no events and the same error", evs, err2)
	}
	if e := c.WriteMessage(false, []byte("x")); e != ErrClosed {
		t.Fatalf("WriteMessage after failure: %v", e)
	}
	if e := c.WritePing(nil); e != ErrClosed {
		t.Fatalf("WritePing after failure: %v", e)
	}
}

// expectViolation feeds input to a fresh client-role Conn, and input
// masked to a fresh server-role one (at once, and again one byte at a
// time), and asserts the violation code and the queued close frame: the
// rules are the same for both ends.
func expectViolation(t *testing.T, input []byte, code uint16) {
	t.Helper()
	expectViolationAs(t, Config{}, input, code)
	expectViolationAs(t, Config{Server: true}, maskFrames(input, 1), code)
}

// expectViolationAs is expectViolation for one Config, input as given.
func expectViolationAs(t *testing.T, cfg Config, input []byte, code uint16) {
	t.Helper()
	c := NewConn(cfg)
	_, err := feedAll(c, input)
	checkFailed(t, c, err, code)

	c = NewConn(cfg)
	for i := range input {
		if _, err = feedAll(c, input[i:i+1]); err != nil {
			break
		}
	}
	checkFailed(t, c, err, code)
}

// eventString renders an event compactly for comparisons and failures.
func eventString(e Event) string {
	switch e.Kind {
	case KindMessage:
		return fmt.Sprintf("message binary=%v %q", e.Binary, e.Data)
	case KindClose:
		return fmt.Sprintf("close %d %q", e.Code, e.Reason)
	}
	return fmt.Sprintf("%v %q", e.Kind, e.Data)
}

func eventsString(evs []Event) []string {
	s := make([]string, len(evs))
	for i, e := range evs {
		s[i] = eventString(e)
	}
	return s
}

// allOutput is every byte queued and not yet written, across the output's
// buffers: what Output and Advance give out one buffer at a time.
func allOutput(c *Conn) []byte {
	var all []byte
	for i, b := range c.backlog() {
		if i == 0 {
			b = b[c.head:]
		}
		all = append(all, b...)
	}
	return append(all, c.out[c.tailStart():]...)
}
