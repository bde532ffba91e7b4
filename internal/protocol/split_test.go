package protocol

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gobwas/ws"
)

// stream is a multi-frame conversation covering every header size, split
// text, interleaved control frames and a close.
func stream() []byte {
	return cat(
		textFrame("hello"),
		frame(false, ws.OpText, []byte("fr€"[:3])),
		pingFrame("ping-1"),
		frame(false, ws.OpContinuation, []byte("fr€"[3:4])),
		frame(true, ws.OpContinuation, []byte("fr€"[4:]+"agments")),
		binFrame(bytes.Repeat([]byte{0x5a}, 300)),   // 16-bit length
		binFrame(bytes.Repeat([]byte{0xa5}, 70000)), // 64-bit length
		frame(true, ws.OpBinary, nil),               // empty
		pongFrame(""),
		frame(false, ws.OpBinary, []byte{1}),
		frame(false, ws.OpContinuation, nil),
		frame(true, ws.OpContinuation, []byte{2}),
		textFrame(""),
		closeCode(4001, "bye"),
		// Nothing may follow the close frame: that is a failure (see close_test.go).
	)
}

type outcome struct {
	events []string
	err    error
	frames []outFrame
}

// run feeds chunks to a fresh Conn in the given role.
func run(t *testing.T, server bool, chunks [][]byte) outcome {
	t.Helper()
	c := NewConn(Config{Server: server})
	evs, err := feed(c, chunks...)
	frames := mustDecodeRole(t, server, allOutput(c))
	for i := range frames {
		frames[i].key = [4]byte{}
	}
	return outcome{eventsString(evs), err, frames}
}

// roles names the two ends for the tests that run on both.
var roles = []struct {
	name   string
	server bool
}{{"client", false}, {"server", true}}

// wireFor is in, a conversation of unmasked frames, as the peer of a Conn
// in the given role sends it: masked to a server.
func wireFor(server bool, in []byte) []byte {
	if server {
		return maskFrames(in, 7)
	}
	return in
}

// bytewise cuts in into one-byte chunks.
func bytewise(in []byte) [][]byte {
	var chunks [][]byte
	for i := range in {
		chunks = append(chunks, in[i:i+1])
	}
	return chunks
}

func sameOutcome(t *testing.T, what string, got, want outcome) {
	t.Helper()
	if !slices.Equal(got.events, want.events) {
		t.Fatalf("%s: events\n%q\nwant\n%q", what, got.events, want.events)
	}
	if (got.err == nil) != (want.err == nil) || got.err != nil && got.err.Error() != want.err.Error() {
		t.Fatalf("%s: error %v, want %v", what, got.err, want.err)
	}
	if len(got.frames) != len(want.frames) {
		t.Fatalf("%s: %d frames, want %d", what, len(got.frames), len(want.frames))
	}
	for i := range got.frames {
		g, w := got.frames[i], want.frames[i]
		if g.op != w.op || !bytes.Equal(g.payload, w.payload) {
			t.Fatalf("%s: frame %d differs", what, i)
		}
	}
}

// Both ends see the same events and answer with the same frames however
// the input is cut: one byte at a time, and in two pieces cut anywhere in
// the first frames and around the start of every frame (so inside each
// header of every length, masked or not).
func TestSplitEveryByte(t *testing.T) {
	whole := run(t, false, [][]byte{stream()})
	if whole.err != nil || len(whole.events) != 10 {
		t.Fatalf("whole: %q %v", whole.events, whole.err)
	}
	for _, role := range roles {
		in := wireFor(role.server, stream())
		sameOutcome(t, role.name+" whole", run(t, role.server, [][]byte{in}), whole)
		sameOutcome(t, role.name+" byte at a time", run(t, role.server, bytewise(in)), whole)
		cuts := map[int]bool{}
		for cut := 0; cut <= 200; cut++ {
			cuts[cut] = true
		}
		for start := 0; start < len(in); {
			for cut := max(0, start-2); cut <= min(len(in), start+16); cut++ {
				cuts[cut] = true
			}
			h, pl, _ := parseHeader(in[start:])
			start += h + pl
		}
		for cut := range cuts {
			sameOutcome(t, fmt.Sprintf("%s cut at %d", role.name, cut), run(t, role.server, [][]byte{in[:cut], in[cut:]}), whole)
		}
	}
}

func TestSplitRandomChunks(t *testing.T) {
	whole := run(t, false, [][]byte{stream()})
	rounds := 300
	if raceEnabled {
		rounds = 100 // the race detector makes each ten times slower
	}
	for _, role := range roles {
		in := wireFor(role.server, stream())
		r := rand.New(rand.NewPCG(3, 4))
		for range rounds {
			var chunks [][]byte
			for q := in; len(q) > 0; {
				n := min(len(q), r.IntN(1<<uint(r.IntN(17)))+1)
				chunks = append(chunks, q[:n])
				q = q[n:]
			}
			// Empty chunks are legal and do nothing.
			chunks = slices.Insert(chunks, r.IntN(len(chunks)), []byte{})
			sameOutcome(t, role.name+" random chunks", run(t, role.server, chunks), whole)
		}
	}
}

func TestSplitViolations(t *testing.T) {
	// Violations surface identically however the input is split, with the
	// events that preceded them, at both ends.
	inputs := [][]byte{
		cat(textFrame("a"), pingFrame("b"), frame(false, ws.OpText, []byte("x\xe2")), frame(true, ws.OpContinuation, []byte("\x28"))),
		cat(textFrame("a"), []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}),
		cat(binFrame([]byte{1}), closeCode(1005, "")),
		cat(textFrame("a"), frame(false, ws.OpText, []byte("b")), textFrame("c")),
	}
	for _, in := range inputs {
		whole := run(t, false, [][]byte{in})
		if whole.err == nil {
			t.Fatal("no violation")
		}
		for _, role := range roles {
			in := wireFor(role.server, in)
			sameOutcome(t, role.name+" whole", run(t, role.server, [][]byte{in}), whole)
			sameOutcome(t, role.name+" byte at a time", run(t, role.server, bytewise(in)), whole)
		}
	}
}
