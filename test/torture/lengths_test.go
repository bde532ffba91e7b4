package torture_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
)

// Frame lengths no client can buffer, and messages in absurd numbers of
// pieces.

// A 64-bit length with the most significant bit set is a protocol error
// (RFC 6455 5.2), whatever the opcode: it must fail the connection with
// 1002 and allocate nothing.
func TestLength2To63(t *testing.T) {
	for _, op := range []byte{opText, opBinary, opCont} {
		t.Run(fmt.Sprintf("op%#x", op), func(t *testing.T) {
			var input []byte
			if op == opCont {
				input = frame(false, opText, []byte("started"))
			}
			input = appendHeader(input, true, op, 1<<63, 64)
			violation(t, nil, websocket.CloseProtocolError, 2*MiB, input)
		})
	}
	// The largest value with the top bit set.
	t.Run("AllOnes", func(t *testing.T) {
		violation(t, nil, websocket.CloseProtocolError, 2*MiB, appendHeader(nil, true, opBinary, 1<<64-1, 64))
	})
}

// The largest valid length is over any limit: 1009 at once, with the
// default limits, and nothing allocated for it.
func TestLength2To63Minus1(t *testing.T) {
	violation(t, nil, websocket.CloseMessageTooBig, 2*MiB, appendHeader(nil, true, opBinary, 1<<63-1, 64))
}

// A header announcing one byte over the default 32 MiB limit fails with
// 1009 before any of the payload is sent: the server writes the header
// alone and waits for the close frame.
func TestAnnounced32MiBPlus1(t *testing.T) {
	for _, op := range []byte{opText, opBinary} {
		t.Run(fmt.Sprintf("op%#x", op), func(t *testing.T) {
			violation(t, nil, websocket.CloseMessageTooBig, 2*MiB,
				appendHeader(nil, true, op, websocket.DefaultMaxMessageSize+1, 0))
		})
	}
	// The limit counts the whole message: a continuation that takes a
	// fragmented message one byte over it fails at its header.
	t.Run("Continuation", func(t *testing.T) {
		input := appendHeader(nil, false, opBinary, 1<<20, 0)
		input = append(input, make([]byte, 1<<20)...)
		input = appendHeader(input, true, opCont, websocket.DefaultMaxMessageSize-(1<<20)+1, 0)
		violation(t, nil, websocket.CloseMessageTooBig, 6*MiB, input)
	})
	// The same with a 16-bit length and a small configured limit.
	t.Run("Length16Limit1000", func(t *testing.T) {
		violation(t, &websocket.Config{MaxMessageSize: 1000}, websocket.CloseMessageTooBig, 2*MiB,
			appendHeader(nil, true, opText, 1001, 16))
	})
}

// A message of exactly the limit is delivered.
func TestExactly32MiB(t *testing.T) {
	if testing.Short() {
		t.Skip("32 MiB over loopback")
	}
	data := bytes.Repeat([]byte{0xa5}, websocket.DefaultMaxMessageSize)
	input := frame(true, opBinary, data)
	srv := serve(t, func(c *rawConn) {
		c.write(input)
		c.write(closeFrame(1000, ""))
		c.expectClose(1000)
	})
	cl := newClient(t, srv.URL, nil)
	cl.run()
	srv.wait(t)
	cl.wantTrace(traceOpen, "message OPEN binary len=33554432", `close CLOSED 1000 "" clean=true`)
	if len(cl.messages) == 1 && !bytes.Equal(cl.messages[0].Data, data) {
		t.Errorf("the 32 MiB message arrived corrupted")
	}
	cl.messages = nil
	// The message's buffer grows by doubling to its final size (twice
	// the size in all); the reads may allocate up to the size once more
	// (the race detector makes sync.Pool drop buffers).
	cl.wantHeap(3*websocket.DefaultMaxMessageSize+16*MiB, retainBound)
}

// fragmentBound bounds the time a message of 100 000 fragments may take,
// under the race detector on a loaded machine: a per-fragment cost that
// grows with the message (copying it whole per fragment, say) takes far
// longer.
const fragmentBound = 15 * time.Second

// A text message of 100 000 one-byte fragments, mixing one- to four-byte
// characters so that every character is split across fragments: delivered
// whole, in bounded time and memory.
func TestHundredThousandOneByteFragments(t *testing.T) {
	const n = 100000
	const unit = "aé€😀" // 1+2+3+4 bytes
	msg := strings.Repeat(unit, n/len(unit))
	if len(msg) != n {
		t.Fatalf("message of %d bytes", len(msg))
	}
	input := make([]byte, 0, 3*n+16)
	for i := 0; i < n; i++ {
		op := opCont
		if i == 0 {
			op = opText
		}
		input = appendFrame(input, i == n-1, op, []byte{msg[i]})
	}
	input = append(input, closeFrame(1000, "done")...)
	srv := serve(t, func(c *rawConn) {
		c.write(input)
		c.expectClose(1000)
	})
	cl := newClient(t, srv.URL, nil)
	cl.run()
	srv.wait(t)
	cl.wantTrace(traceOpen, fmt.Sprintf("message OPEN text len=%d", n), `close CLOSED 1000 "done" clean=true`)
	if len(cl.messages) == 1 && string(cl.messages[0].Data) != msg {
		t.Errorf("the message arrived corrupted")
	}
	if cl.elapsed > fragmentBound {
		t.Errorf("%d fragments took %v; bound %v", n, cl.elapsed, fragmentBound)
	}
	t.Logf("%d fragments in %v", n, cl.elapsed)
	cl.messages = nil
	cl.wantHeap(4*MiB, retainBound)
}

// 100 000 empty continuation frames between a message's first and last
// frames add nothing to it, and cost neither time nor memory per frame.
func TestHundredThousandEmptyContinuations(t *testing.T) {
	const n = 100000
	for _, tc := range []struct {
		name        string
		op          byte
		first, last string
		want        string
	}{
		{"Text", opText, "x", "y", `message OPEN text "xy"`},
		{"Binary", opBinary, "\x00", "\xff", `message OPEN binary "\x00\xff"`},
		{"AllEmpty", opText, "", "", `message OPEN text ""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			input := frame(false, tc.op, []byte(tc.first))
			for i := 0; i < n; i++ {
				input = appendFrame(input, false, opCont, nil)
			}
			input = appendFrame(input, true, opCont, []byte(tc.last))
			input = append(input, closeFrame(1000, "")...)
			srv := serve(t, func(c *rawConn) {
				c.write(input)
				c.expectClose(1000)
			})
			cl := newClient(t, srv.URL, nil)
			cl.run()
			srv.wait(t)
			cl.wantTrace(traceOpen, tc.want, `close CLOSED 1000 "" clean=true`)
			if cl.elapsed > fragmentBound {
				t.Errorf("%d empty frames took %v; bound %v", n, cl.elapsed, fragmentBound)
			}
			cl.messages = nil
			cl.wantHeap(4*MiB, retainBound)
		})
	}
}

// floodUntilClosed writes the frames made by next, one at a time, until
// the client's close frame arrives (read concurrently) or the writes fail
// because the client went away; it returns the client's frames and the
// number of frames written.
func floodUntilClosed(c *rawConn, next func(i int) []byte) (frames []clientFrame, written int) {
	r := c.startReader()
	for ; ; written++ {
		select {
		case f, ok := <-r.frames:
			if ok {
				frames = append(frames, f)
			}
			for f := range r.frames {
				frames = append(frames, f)
			}
			return frames, written
		default:
		}
		if _, err := c.nc.Write(next(written)); err != nil {
			// The client closed after failing: collect what it sent.
			for f := range r.frames {
				frames = append(frames, f)
			}
			return frames, written
		}
	}
}

// A server that sends fragments without end: once the message passes
// MaxMessageSize the client fails with 1009, having buffered at most the
// limit.
func TestFragmentFloodOverLimit(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cfg      *websocket.Config
		limit    int
		fragment int
	}{
		{"Default32MiB/64KiBFragments", nil, websocket.DefaultMaxMessageSize, 64 << 10},
		{"1MiB/1KiBFragments", &websocket.Config{MaxMessageSize: 1 << 20}, 1 << 20, 1 << 10},
		{"1000B/1BFragments", &websocket.Config{MaxMessageSize: 1000}, 1000, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first := frame(false, opBinary, make([]byte, tc.fragment))
			cont := frame(false, opCont, make([]byte, tc.fragment))
			srv := serve(t, func(c *rawConn) {
				frames, written := floodUntilClosed(c, func(i int) []byte {
					if i == 0 {
						return first
					}
					return cont
				})
				if written*tc.fragment <= tc.limit {
					c.fatalf("the client closed after %d bytes, within its %d-byte limit", written*tc.fragment, tc.limit)
				}
				if len(frames) != 1 || frames[0].op != opClose || frames[0].closeCode() != websocket.CloseMessageTooBig {
					c.fatalf("client sent %v; want close(1009) alone", frames)
				}
			})
			cl := newClient(t, srv.URL, tc.cfg)
			cl.run()
			srv.wait(t)
			cl.wantTrace(openThenFailed(websocket.CloseMessageTooBig)...)
			cl.wantProtocolError(websocket.CloseMessageTooBig)
			// What it gave up with, the partial message, is gone by
			// then.
			// The partial message grows by doubling, so its buffers
			// add up to at most four times the limit; the reads may
			// allocate up to the bytes read once more (the race
			// detector makes sync.Pool drop buffers). Bounded by the
			// limit, whatever the server sends.
			cl.wantHeap(6*int64(tc.limit)+8*MiB, retainBound)
		})
	}
}
