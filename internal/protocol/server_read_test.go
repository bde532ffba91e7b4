package protocol

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/gobwas/ws"
)

// The read side of the server role: what differs from the client's is the
// masking, so these tests are about the key and where it is removed; the
// rules both ends share run on both through expectViolation and the split
// tests.

// maskWith masks f, one unmasked frame, with key.
func maskWith(f []byte, key [4]byte) []byte {
	hn := headerSize(f[1])
	out := append(slices.Clone(f[:hn]), key[:]...)
	out[1] |= bitMask
	out = append(out, f[hn:]...)
	ws.Cipher(out[hn+4:], key, 0)
	return out
}

// An unmasked frame from the client fails the connection with 1002 (RFC
// 6455 5.1), whatever the frame, at once or a byte at a time, with the
// close frame queued unmasked (checkFailed decodes it so); the events
// before it stand.
func TestUnmaskedClientFrame(t *testing.T) {
	server := Config{Server: true}
	for _, in := range [][]byte{
		textFrame("abcd"),
		binFrame(nil),
		pingFrame("p"),
		closeCode(1000, ""),
		hdr(0x82, 70000), // a header alone: the second byte decides
		cat(maskFrames(frame(false, ws.OpText, []byte("a")), 1), frame(true, ws.OpContinuation, []byte("b"))),
	} {
		expectViolationAs(t, server, in, 1002)
	}
	c := NewConn(server)
	evs, err := feedAll(c, cat(maskFrames(cat(textFrame("a"), pingFrame("b")), 2), textFrame("c")))
	if len(evs) != 2 || evs[0].Kind != KindMessage || evs[1].Kind != KindPing {
		t.Fatalf("events %v", eventsString(evs))
	}
	frames := mustDecodeRole(t, true, allOutput(c))
	if len(frames) != 2 || frames[0].op != ws.OpPong || checkClose(t, frames, 1002) != reasonUnmasked {
		t.Fatalf("frames %+v", frames)
	}
	checkFailed(t, c, err, 1002)
	if _, _, ok := NewConn(server).TakeMessage(textFrame("x")); ok {
		t.Fatal("TakeMessage took an unmasked frame")
	}
}

// Text is checked once unmasked, not as it travels: a key that makes
// invalid UTF-8 look valid on the wire does not get it through, and one
// that makes valid text look invalid does not stop it. Whole, fragmented,
// in a close reason, through TakeMessage and in Stream's parts.
func TestServerChecksUnmaskedText(t *testing.T) {
	hide := [4]byte{0xbf, 0xbe, 0xbf, 0xbe}   // "\xff\xfe" masks to "@@"
	garble := [4]byte{0x80, 0x80, 0x80, 0x80} // "ab" masks to "\xe1\xe2"
	bad, good := []byte("\xff\xfe\xff\xfe"), []byte("abab")
	if m := maskWith(textFrame(string(bad)), hide); string(m[6:]) != "@@@@" {
		t.Fatalf("the key does not hide: %q", m[6:])
	}
	cases := []struct {
		name string
		in   []byte
		code uint16 // 0: valid
	}{
		{"hidden invalid text", maskWith(textFrame(string(bad)), hide), 1007},
		{"garbled valid text", maskWith(textFrame(string(good)), garble), 0},
		{"hidden invalid fragment", cat(maskWith(frame(false, ws.OpText, good), garble), maskWith(frame(true, ws.OpContinuation, bad), hide)), 1007},
		{"hidden invalid close reason", maskWith(closeCode(1000, string(bad)), hide), 1007},
		{"garbled valid close reason", maskWith(closeCode(1000, string(good)), garble), 0},
	}
	for _, tc := range cases {
		for _, cfg := range []Config{{Server: true}, {Server: true, Stream: true}} {
			for _, how := range []string{"whole", "bytewise", "fast"} {
				c := NewConn(cfg)
				var err error
				switch how {
				case "whole":
					_, err = feedAll(c, tc.in)
				case "bytewise":
					_, err = feed(c, bytewise(tc.in)...)
				default:
					_, err = feedFast(c, tc.in)
				}
				if tc.code == 0 && err != nil {
					t.Fatalf("%s (stream %v, %s): %v", tc.name, cfg.Stream, how, err)
				}
				if tc.code != 0 {
					checkFailed(t, c, err, tc.code)
				}
			}
		}
	}
}

// Next and TakeMessage only read their input in the server role too: the
// payload is unmasked where it is copied to, so the driver's buffer holds
// the same bytes after as before, and may be fed again.
func TestServerInputUntouched(t *testing.T) {
	in := maskFrames(stream(), 3)
	orig := slices.Clone(in)
	whole := run(t, true, [][]byte{in})
	fast := NewConn(Config{Server: true})
	fastEvs, fastErr := feedFast(fast, in)
	bytewiseRun := run(t, true, bytewise(in))
	if !bytes.Equal(in, orig) {
		t.Fatal("the input was written")
	}
	if fastErr != nil || !slices.Equal(eventsString(fastEvs), whole.events) {
		t.Fatalf("TakeMessage first: %v, %v", eventsString(fastEvs), fastErr)
	}
	sameOutcome(t, "again, byte at a time", bytewiseRun, whole)
}

// Control frames from the client: a ping's payload comes out unmasked and
// goes back in an unmasked pong, whole or split; pongs are reported.
func TestServerControlFrames(t *testing.T) {
	payload := bytes.Repeat([]byte{0xfe, 0x01, 0x02}, 41) // 123 bytes
	in := maskFrames(cat(frame(true, ws.OpPing, payload), pingFrame(""), pongFrame("beat")), 6)
	for _, chunks := range [][][]byte{{in}, bytewise(in), {in[:3], in[3:9], in[9:]}} {
		c := NewConn(Config{Server: true})
		evs, err := feed(c, chunks...)
		if err != nil || len(evs) != 3 || evs[0].Kind != KindPing || !bytes.Equal(evs[0].Data, payload) ||
			evs[1].Kind != KindPing || len(evs[1].Data) != 0 || evs[2].Kind != KindPong || string(evs[2].Data) != "beat" {
			t.Fatalf("%d chunks: %v %v", len(chunks), eventsString(evs), err)
		}
		frames := mustDecodeRole(t, true, allOutput(c))
		if len(frames) != 2 || frames[0].op != ws.OpPong || !bytes.Equal(frames[0].payload, payload) ||
			frames[1].op != ws.OpPong || len(frames[1].payload) != 0 {
			t.Fatalf("%d chunks: frames %+v", len(chunks), frames)
		}
	}
}

// The closing handshake from the server's side: the client's close is
// echoed unmasked with its code; after the server's own close, the
// client's answer is reported and not echoed; a byte after the client's
// close fails the connection.
func TestServerCloseHandshake(t *testing.T) {
	c := NewConn(Config{Server: true})
	evs, err := feed(c, bytewise(maskFrames(closeCode(1001, "going away"), 8))...)
	if err != nil || len(evs) != 1 || evs[0].Code != 1001 || evs[0].Reason != "going away" || !c.CloseReceived() || !c.CloseSent() {
		t.Fatalf("%v %v", eventsString(evs), err)
	}
	if r := checkClose(t, mustDecodeRole(t, true, allOutput(c)), 1001); r != "going away" {
		t.Fatalf("echoed reason %q", r)
	}
	_, err = feedAll(c, maskFrames(textFrame("late"), 8))
	if e, ok := err.(*Error); !ok || e.Code != 1002 || e.Reason != reasonAfterClose {
		t.Fatalf("data after close: %v", err)
	}

	c = NewConn(Config{Server: true})
	if err := c.WriteClose(1000, "bye"); err != nil {
		t.Fatal(err)
	}
	evs, err = feedAll(c, maskFrames(cat(textFrame("still delivered"), closeFrame(nil)), 9))
	if err != nil || len(evs) != 2 || evs[1].Kind != KindClose || evs[1].Code != 0 {
		t.Fatalf("%v %v", eventsString(evs), err)
	}
	frames := mustDecodeRole(t, true, allOutput(c))
	if len(frames) != 1 || checkClose(t, frames, 1000) != "bye" {
		t.Fatalf("frames %+v", frames)
	}
}

// Stream hands a masked message on in parts, each unmasked from where the
// last ended in the key, whatever the cut.
func TestServerStreamParts(t *testing.T) {
	msg := strings.Repeat("stréam ", 50)
	in := maskFrames(cat(frame(false, ws.OpText, []byte(msg[:101])), pingFrame("p"), frame(true, ws.OpContinuation, []byte(msg[101:]))), 10)
	for _, step := range []int{1, 3, 5, 7, 64} {
		c := NewConn(Config{Server: true, Stream: true, MaxMessageSize: int64(len(msg))})
		var got []byte
		pings := 0
		for i := 0; i < len(in); i += step {
			evs, err := feedAll(c, in[i:min(i+step, len(in))])
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			for _, e := range evs {
				if e.Kind == KindPing {
					pings++
					continue
				}
				got = append(got, e.Data...)
				if !e.More && len(got) != len(msg) {
					t.Fatalf("step %d: the last part ends %d bytes in", step, len(got))
				}
			}
		}
		if string(got) != msg || pings != 1 {
			t.Fatalf("step %d: %d pings, parts make %q", step, pings, got)
		}
	}
}

// The server role costs the allocations the client's does: a message, its
// buffer; a ping, the event's copy (the pong costs none); a write, none.
func TestAllocsServer(t *testing.T) {
	skipAllocsUnderRace(t)
	c := NewConn(Config{Server: true})
	in := maskFrames(textFrame("a small text message of 32 bytes"), 11)
	if n := testing.AllocsPerRun(1000, func() { drain(c, in) }); n != 1 {
		t.Errorf("Next of a whole message: %v allocs, want 1", n)
	}
	if n := testing.AllocsPerRun(1000, func() { drain(c, in[:3]); drain(c, in[3:12]); drain(c, in[12:]) }); n != 1 {
		t.Errorf("Next of a split message: %v allocs, want 1", n)
	}
	if n := testing.AllocsPerRun(1000, func() { c.TakeMessage(in) }); n != 1 {
		t.Errorf("TakeMessage: %v allocs, want 1", n)
	}
	ping := maskFrames(pingFrame("heartbeat"), 11)
	if n := testing.AllocsPerRun(1000, func() { drain(c, ping); c.Advance(len(c.Output())) }); n != 1 {
		t.Errorf("ping with automatic pong: %v allocs, want 1", n)
	}
	p := make([]byte, 1000)
	c.WriteMessage(true, p)
	c.Advance(len(c.Output()))
	if n := testing.AllocsPerRun(1000, func() { c.WriteMessage(true, p); c.Advance(len(c.Output())) }); n != 0 {
		t.Errorf("WriteMessage: %v allocs, want 0", n)
	}
}
