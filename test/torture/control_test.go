package torture_test

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"

	websocket "github.com/wsloop/websocket"
)

// Control frames: floods, the largest ones, between fragments, and the
// close frame where a message should be.

const burst = 10000

// burstPings is 10 000 pings in one write, payloads "ping-00000" on.
func burstPings() []byte {
	var b []byte
	for i := 0; i < burst; i++ {
		b = appendFrame(b, true, opPing, pingPayload(i))
	}
	return b
}

func pingPayload(i int) []byte { return fmt.Appendf(nil, "ping-%05d", i) }

// checkPongs checks the client's answers to burstPings: RFC 6455 5.5.3 lets
// it answer only the latest of pings it had no time to answer, so the pongs
// must be answers to distinct pings, in the pings' order, the last ping
// answered; nothing else.
func checkPongs(c *rawConn, frames []clientFrame) (pongs int) {
	last := -1
	for _, f := range frames {
		if f.op != opPong {
			continue
		}
		p := string(f.payload)
		i, err := strconv.Atoi(strings.TrimPrefix(p, "ping-"))
		if !strings.HasPrefix(p, "ping-") || err != nil || !bytes.Equal(f.payload, pingPayload(i)) || i >= burst {
			c.fatalf("pong %d carries %q, which no ping did", pongs, p)
		}
		if i <= last {
			c.fatalf("pong for ping %d after the pong for ping %d", i, last)
		}
		last = i
		pongs++
	}
	if last != burst-1 {
		c.fatalf("the last pong answers ping %d; want the last ping, %d", last, burst-1)
	}
	return pongs
}

// wantPings checks that OnPing fired for every ping, in order.
func (c *client) wantPings(n int) {
	c.t.Helper()
	if len(c.pings) != n {
		c.t.Errorf("%d ping events; want %d", len(c.pings), n)
		return
	}
	for i, p := range c.pings {
		if !bytes.Equal(p, pingPayload(i)) {
			c.t.Errorf("ping event %d carries %q; want %q", i, p, pingPayload(i))
			return
		}
	}
}

// 10 000 pings in one burst, while the server reads: every ping fires
// OnPing in order, and the pongs follow the rules of checkPongs; then a
// clean close.
func TestPingBurstWhileReading(t *testing.T) {
	input := burstPings()
	srv := serve(t, func(c *rawConn) {
		r := c.startReader()
		c.write(input)
		var frames []clientFrame
		// Until the answer to the last ping.
		for {
			f, ok := r.next()
			if !ok {
				c.fatalf("the client's output ended before the pong for the last ping; got %d frames", len(frames))
			}
			frames = append(frames, f)
			if f.op == opPong && bytes.Equal(f.payload, pingPayload(burst-1)) {
				break
			}
		}
		c.logf("%d pings answered by %d pongs", burst, checkPongs(c, frames))
		c.write(closeFrame(1000, "enough"))
		if f, ok := r.next(); !ok || f.op != opClose || f.closeCode() != 1000 {
			c.fatalf("after the pongs the client sent %v (%t); want close(1000)", f, ok)
		}
	})
	cl := newClient(t, srv.URL, nil)
	cl.quietPings = true
	cl.run()
	srv.wait(t)
	cl.wantTrace(traceOpen, `close CLOSED 1000 "enough" clean=true`)
	cl.wantPings(burst)
	cl.wantHeap(8*MiB, retainBound)
}

// 10 000 pings in one burst from a server that reads nothing until it has
// sent its close frame: the client may answer only the latest pings, but
// what it sends is still pongs in order, ending with the last ping's, then
// the echo of the close.
func TestPingBurstUnread(t *testing.T) {
	input := append(burstPings(), closeFrame(1000, "read now")...)
	srv := serve(t, func(c *rawConn) {
		c.write(input)
		var frames []clientFrame
		for {
			f := c.mustFrame()
			if f.op == opClose {
				if f.closeCode() != 1000 {
					c.fatalf("client closed with %v; want the echo of 1000", f)
				}
				break
			}
			frames = append(frames, f)
		}
		c.logf("%d pings answered by %d pongs", burst, checkPongs(c, frames))
	})
	cl := newClient(t, srv.URL, nil)
	cl.quietPings = true
	cl.run()
	srv.wait(t)
	cl.wantTrace(traceOpen, `close CLOSED 1000 "read now" clean=true`)
	cl.wantPings(burst)
	cl.wantHeap(8*MiB, retainBound)
}

// maxControl is a control payload of the largest size, 125 bytes, tagged
// with i.
func maxControl(tag string, i int) []byte {
	p := fmt.Appendf(nil, "%s-%03d:", tag, i)
	for len(p) < 125 {
		p = append(p, byte('a'+len(p)%26))
	}
	return p
}

// A message of ten fragments with a 125-byte ping and a 125-byte pong
// between every two, each ping answered before the next fragment comes:
// the message is delivered whole, every ping fires OnPing and is answered
// with its exact payload, every pong fires OnPong; then a close frame of
// 125 bytes (code and a 123-byte reason) closes cleanly with that reason.
func TestMaxSizeControlFramesBetweenFragments(t *testing.T) {
	const fragments = 10
	reason := strings.Repeat("r", 123)
	srv := serve(t, func(c *rawConn) {
		for i := 0; i < fragments; i++ {
			op := opCont
			if i == 0 {
				op = opText
			}
			parts := [][]byte{frame(i == fragments-1, op, fmt.Appendf(nil, "<%d>", i))}
			if i < fragments-1 {
				parts = append(parts, frame(true, opPing, maxControl("ping", i)), frame(true, opPong, maxControl("pong", i)))
			}
			c.write(parts...)
			if i < fragments-1 {
				if f := c.mustFrame(); f.op != opPong || !bytes.Equal(f.payload, maxControl("ping", i)) {
					c.fatalf("client answered ping %d with %v; want its 125-byte pong", i, f)
				}
			}
		}
		c.write(closeFrame(4000, reason))
		c.expectClose(4000)
	})
	cl := newClient(t, srv.URL, nil)
	cl.run()
	srv.wait(t)
	want := []string{traceOpen}
	msg := ""
	for i := 0; i < fragments; i++ {
		msg += fmt.Sprintf("<%d>", i)
		if i < fragments-1 {
			want = append(want, "ping OPEN len=125", "pong OPEN len=125")
		}
	}
	want = append(want, fmt.Sprintf("message OPEN text %q", msg), fmt.Sprintf("close CLOSED 4000 %q clean=true", reason))
	cl.wantTrace(want...)
	for i, p := range cl.pings {
		if !bytes.Equal(p, maxControl("ping", i)) {
			t.Errorf("ping event %d carries %q", i, p)
		}
	}
	cl.wantHeap(4*MiB, retainBound)
}

// A control frame one byte over the maximum, in every length form that
// can say so, and a fragmented one: 1002 at its header.
func TestControlFrameTooLong(t *testing.T) {
	for _, op := range []byte{opPing, opPong, opClose} {
		for _, tc := range []struct {
			name  string
			input []byte
		}{
			{"126", appendHeader(nil, true, op, 126, 16)},
			{"65535", appendHeader(nil, true, op, 65535, 16)},
			{"2^32", appendHeader(nil, true, op, 1<<32, 64)},
			{"Unfinished", append(appendHeader(nil, false, op, 2, 7), 0x03, 0xe8)},
		} {
			t.Run(fmt.Sprintf("op%#x/%s", op, tc.name), func(t *testing.T) {
				violation(t, nil, websocket.CloseProtocolError, 2*MiB, tc.input)
			})
		}
	}
}

// A close frame in the middle of a fragmented message ends the connection
// cleanly: the partial message is dropped, the close echoed.
func TestCloseAfterPartialMessage(t *testing.T) {
	for _, tc := range []struct {
		name  string
		input []byte
	}{
		{"Text", frame(false, opText, []byte("part"))},
		{"Binary", frame(false, opBinary, []byte{1, 2, 3})},
		{"AfterContinuations", cat(frame(false, opText, []byte("a")), frame(false, opCont, []byte("b")), frame(false, opCont, nil))},
		{"TruncatedUTF8", frame(false, opText, []byte("price: \xe2\x82"))},
		{"AfterPing", cat(frame(false, opText, []byte("a")), frame(true, opPing, []byte("p")))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, func(c *rawConn) {
				c.write(tc.input, closeFrame(1000, "bye"))
				for {
					f := c.mustFrame()
					if f.op == opPong {
						continue
					}
					if f.op != opClose || f.closeCode() != 1000 {
						c.fatalf("client sent %v; want close(1000)", f)
					}
					break
				}
			})
			cl := newClient(t, srv.URL, nil)
			cl.quietPings = true
			cl.run()
			srv.wait(t)
			cl.wantTrace(traceOpen, `close CLOSED 1000 "bye" clean=true`)
			cl.wantHeap(2*MiB, retainBound)
		})
	}
}

// The server ending TCP inside a frame or a fragmented message: close
// 1006 alone, no error, as a browser reports an abrupt end.
func TestEndInsidePartialInput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		input []byte
	}{
		{"InsideHeader", []byte{0x81}},
		{"InsideExtendedLength", []byte{0x82, 127, 0, 0}},
		{"InsidePayload", append(appendHeader(nil, true, opBinary, 100, 0), make([]byte, 10)...)},
		{"InsideFragmentedMessage", frame(false, opText, []byte("part"))},
		{"InsideControlPayload", append(appendHeader(nil, true, opPing, 10, 0), 'p')},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, func(c *rawConn) {
				c.write(tc.input)
				c.nc.CloseWrite()
				// The client, left without input, closes its side too.
				if _, err := c.readFrame(); err == nil {
					c.fatalf("client sent a frame after the server's FIN; want its FIN")
				}
			})
			cl := newClient(t, srv.URL, nil)
			cl.run()
			srv.wait(t)
			cl.wantTrace(traceOpen, traceAbnormal)
			cl.wantHeap(2*MiB, retainBound)
		})
	}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
