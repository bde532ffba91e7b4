package serverside_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"

	websocket "github.com/wsloop/websocket"
)

// RFC 6455 from the server's side, as the Autobahn suite tests a server:
// what a client may not send, each case on a connection of its own. The
// root package's TestServerFraming has the unmasked frame, a fragmented
// echo with a ping, and a close each way; these are the rest.

// framingServers are the servers a case may run against.
type framingServers struct {
	plain   *httptest.Server // no compression
	deflate *httptest.Server // permessage-deflate offered by the client
	limited *httptest.Server // MaxMessageSize 1024, permessage-deflate offered
	echo    map[*httptest.Server]*echoer
}

// offerDeflate is the raw client's offer: the server's answer is then
// "permessage-deflate; server_no_context_takeover".
const offerDeflate = "Sec-WebSocket-Extensions: permessage-deflate\r\n"

func startFramingServers(t *testing.T) *framingServers {
	loop := startLoop(t)
	fs := &framingServers{echo: map[*httptest.Server]*echoer{}}
	for _, s := range []struct {
		srv **httptest.Server
		up  *websocket.Upgrader
	}{
		{&fs.plain, &websocket.Upgrader{Loop: loop, NoCompression: true}},
		{&fs.deflate, &websocket.Upgrader{Loop: loop}},
		{&fs.limited, &websocket.Upgrader{Loop: loop, MaxMessageSize: 1024}},
	} {
		e := newEchoer()
		srv := httptest.NewServer(s.up.Handler(e.handle))
		t.Cleanup(srv.Close)
		*s.srv = srv
		fs.echo[srv] = e
	}
	return fs
}

// dial connects the raw client to srv (offering permessage-deflate to all
// but the plain server) and returns it with the server's socket.
func (fs *framingServers) dial(t *testing.T, srv *httptest.Server, after ...[]byte) (*rawConn, *session) {
	t.Helper()
	extra := offerDeflate
	if srv == fs.plain {
		extra = ""
	}
	c := dialRaw(t, srv, "/", extra, after...)
	return c, fs.echo[srv].next(t)
}

// violation is what a client may not send and the close code the server
// must fail the connection with.
type violation struct {
	name string
	// server is "plain", "deflate" or "limited".
	server string
	frames [][]byte
	// echoes are what the server answers before failing: text messages,
	// "" for a pong.
	echoes []string
	code   uint16
}

func violations() []violation {
	var vs []violation
	add := func(name, server string, code uint16, frames ...[]byte) {
		vs = append(vs, violation{name: name, server: server, frames: frames, code: code})
	}
	// Reserved opcodes, alone and inside a fragmented message.
	for _, op := range []byte{3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf} {
		add(fmt.Sprintf("opcode %#x", op), "plain", 1002, frame(bitFin|op, []byte("x")))
		add(fmt.Sprintf("opcode %#x inside a message", op), "plain", 1002, frame(opText, []byte("a")), frame(bitFin|op, nil))
	}
	// RSV bits no extension defines.
	for _, bit := range []byte{bitRSV1, bitRSV2, bitRSV3} {
		add(fmt.Sprintf("RSV %08b without an extension", bit), "plain", 1002, frame(bitFin|bit|opText, []byte("x")))
	}
	add("RSV2 with permessage-deflate", "deflate", 1002, frame(bitFin|bitRSV2|opText, []byte("x")))
	add("RSV3 with permessage-deflate", "deflate", 1002, frame(bitFin|bitRSV3|opBinary, []byte("x")))
	add("RSV1 on a ping", "deflate", 1002, frame(bitFin|bitRSV1|opPing, nil))
	add("RSV1 on a continuation", "deflate", 1002, frame(bitRSV1|opText, deflate([]byte("ab"))), frame(bitFin|bitRSV1|opCont, deflate([]byte("cd"))))
	add("RSV1 on data that is not deflate", "deflate", 1002, frame(bitFin|bitRSV1|opBinary, []byte{0xff, 0xff, 0xff, 0xff}))
	// Control frames: at most 125 bytes, never fragmented.
	for _, op := range []byte{opPing, opPong, opClose} {
		p := append([]byte{0x03, 0xe8}, bytes.Repeat([]byte("c"), 124)...)
		add(fmt.Sprintf("control %#x of 126 bytes", op), "plain", 1002, frame(bitFin|op, p))
		add(fmt.Sprintf("control %#x without FIN", op), "plain", 1002, frame(op, []byte{0x03, 0xe8}), frame(bitFin|opCont, nil))
	}
	// Text that is not UTF-8: 1007, as soon as the bad bytes are in,
	// without waiting for the rest of the message (fail fast).
	for _, bad := range []struct{ name, text string }{
		{"byte ff", "ok \xff"},
		{"overlong slash", "\xc0\xaf"},
		{"surrogate", "a\xed\xa0\x80"},
		{"past U+10FFFF", "\xf4\x90\x80\x80"},
		{"lone continuation byte", "\x80"},
		{"cut at the end", "€\xe2\x82"},
	} {
		add("text "+bad.name, "plain", 1007, frame(bitFin|opText, []byte(bad.text)))
	}
	add("text bad in the second fragment", "plain", 1007, frame(opText, []byte("\xce")), frame(opCont, []byte("\xba\xff")))
	add("text bad in the first fragment, the rest unsent", "plain", 1007, frame(opText, []byte("ab\xf8")))
	add("text bad, compressed", "deflate", 1007, frame(bitFin|bitRSV1|opText, deflate([]byte("valid then \xed\xbf\xbf"))))
	// Fragmentation.
	add("continuation without a start", "plain", 1002, frame(bitFin|opCont, []byte("x")))
	add("unfinished continuation without a start", "plain", 1002, frame(opCont, []byte("x")))
	add("text inside a text message", "plain", 1002, frame(opText, []byte("a")), frame(bitFin|opText, []byte("b")))
	add("binary inside a text message", "plain", 1002, frame(opText, []byte("a")), frame(opBinary, []byte("b")))
	add("text inside a binary message", "plain", 1002, frame(opBinary, []byte("a")), frame(opCont, []byte("b")), frame(bitFin|opText, []byte("c")))
	// Close payloads.
	add("close of one byte", "plain", 1002, frame(bitFin|opClose, []byte{0x03}))
	for _, code := range []uint16{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		add(fmt.Sprintf("close code %d", code), "plain", 1002, closeFrame(code, ""))
	}
	add("close reason not UTF-8", "plain", 1007, closeFrame(1000, "bye \xff"))
	// MaxMessageSize 1024: 1009, before the payload when the header says.
	add("1025 bytes announced", "limited", 1009, header(bitFin|opBinary, 1025))
	add("2^40 bytes announced", "limited", 1009, header(bitFin|opBinary, 1<<40))
	add("1025 bytes in fragments", "limited", 1009, frame(opBinary, make([]byte, 1000)), frame(bitFin|opCont, make([]byte, 25)))
	add("compressed, 100 KiB inflated", "limited", 1009, frame(bitFin|bitRSV1|opBinary, deflate(make([]byte, 100<<10))))
	add("64-bit length with its top bit set", "plain", 1002, header(bitFin|opBinary, 1<<63))
	vs = append(vs, violation{name: "bad text after a ping and a good message", server: "plain", code: 1007,
		frames: [][]byte{frame(opText, []byte("fine ")), frame(bitFin|opPing, nil), frame(bitFin|opCont, []byte("msg")), frame(bitFin|opText, []byte("\xff"))},
		echoes: []string{"", "fine msg"}})
	return vs
}

// Every violation: the server sends a close frame with the code, ends TCP
// without waiting for the client's close, and fires error (a
// *ProtocolError with the code) then close 1006.
func TestFramingViolations(t *testing.T) {
	t.Parallel()
	fs := startFramingServers(t)
	servers := map[string]*httptest.Server{"plain": fs.plain, "deflate": fs.deflate, "limited": fs.limited}
	for _, v := range violations() {
		t.Run(v.name, func(t *testing.T) {
			c, s := fs.dial(t, servers[v.server])
			c.write(v.frames...)
			for _, want := range v.echoes {
				if want == "" {
					if f := c.read(); f.op != opPong {
						t.Fatalf("opcode %d, want the pong", f.op)
					}
					continue
				}
				c.expectMessage(opText, []byte(want))
			}
			c.expectClose(v.code)
			c.expectEnd()
			ev := s.closed(t)
			var pe *websocket.ProtocolError
			if ev.Code != websocket.CloseAbnormal || ev.WasClean || len(s.errs) != 1 || !errors.As(s.errs[0], &pe) || pe.Code != int(v.code) {
				t.Errorf("the server's socket: close %+v, errors %v; want error with %d then close 1006", ev, s.errs, v.code)
			}
		})
	}
}

// Close codes a client may send are echoed, with the reason, and the
// server ends TCP first. An empty close frame is answered with an empty
// one, and reported as 1005.
func TestFramingCloseCodes(t *testing.T) {
	t.Parallel()
	fs := startFramingServers(t)
	for _, code := range []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999, 0} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			c, s := fs.dial(t, fs.plain)
			reason := "reason ✓"
			cf := closeFrame(code, reason)
			if code == 0 {
				reason, cf = "", frame(bitFin|opClose, nil)
			}
			c.write(cf)
			f := c.read()
			switch {
			case f.op != opClose:
				t.Fatalf("opcode %d, want the close echo", f.op)
			case code == 0 && len(f.payload) != 0:
				t.Fatalf("close %q in answer to an empty close", f.payload)
			case code != 0 && (len(f.payload) < 2 || binary.BigEndian.Uint16(f.payload) != code || string(f.payload[2:]) != reason):
				t.Fatalf("close %q, want %d %q echoed", f.payload, code, reason)
			}
			c.expectEnd()
			want := int(code)
			if code == 0 {
				want = websocket.CloseNoStatus
			}
			if ev := s.closed(t); ev.Code != want || ev.Reason != reason || !ev.WasClean || len(s.errs) > 0 {
				t.Errorf("the server's socket: close %+v, errors %v", ev, s.errs)
			}
		})
	}
	// A message behind the close frame is not echoed: the server answers
	// the close and ends TCP. (Its socket reports the message as a
	// failure, 1002 "data after the close frame", as Chromium does.)
	t.Run("message after the close", func(t *testing.T) {
		c, s := fs.dial(t, fs.plain)
		c.write(closeFrame(1000, ""), frame(bitFin|opText, []byte("after the close")))
		c.expectClose(1000)
		c.expectEnd()
		t.Logf("the server's socket: close %+v, errors %v", s.closed(t), s.errs)
	})
	// The server closes: it still ends TCP first, once the client answers.
	t.Run("server first", func(t *testing.T) {
		c, s := fs.dial(t, fs.plain)
		c.write(frame(bitFin|opText, []byte("!close 4001 server ✓")))
		if r := c.expectClose(4001); r != "server ✓" {
			t.Fatalf("reason %q", r)
		}
		c.write(closeFrame(4001, ""))
		c.expectEnd()
		if ev := s.closed(t); ev.Code != 4001 || !ev.WasClean {
			t.Errorf("the server's socket: close %+v", ev)
		}
	})
}

// Masked frames of every length encoding, cut at arbitrary bytes: each
// piece is read by the server (its BytesIn shows it) before the next is
// written, so the server parses every partial header and payload. The
// echo is whole and byte for byte, in the shortest length encoding.
func TestFramingSplits(t *testing.T) {
	t.Parallel()
	fs := startFramingServers(t)
	rng := rand.New(rand.NewPCG(6455, 7692))
	sizes := []int{0, 1, 125, 126, 127, 1000, 65535, 65536, 100000}
	for _, size := range sizes {
		for _, op := range []byte{opText, opBinary} {
			t.Run(fmt.Sprintf("%d bytes op %d", size, op), func(t *testing.T) {
				c, s := fs.dial(t, fs.plain)
				payload := make([]byte, size)
				for i := range payload {
					payload[i] = byte('a' + rng.IntN(26))
					if op == opBinary {
						payload[i] = byte(rng.IntN(256))
					}
				}
				f := frame(bitFin|op, payload)
				var sent uint64
				// The header a byte at a time, then a few random cuts of
				// the rest; then random cuts through the whole frame.
				for _, cuts := range [][]int{headerCuts(f), randomCuts(rng, len(f), 5)} {
					prev := 0
					for _, cut := range append(cuts, len(f)) {
						c.write(f[prev:cut])
						sent += uint64(cut - prev)
						prev = cut
						readBy(t, s, sent)
					}
					c.expectMessage(op, payload)
				}
			})
		}
	}
	// Frames right behind the request, in the same write: the server
	// takes them from what net/http read past the request.
	t.Run("behind the request", func(t *testing.T) {
		c, _ := fs.dial(t, fs.plain, frame(opText, []byte("in the ")), frame(bitFin|opCont, []byte("request's packet")), frame(bitFin|opPing, []byte("p")))
		c.expectMessage(opText, []byte("in the request's packet"))
		if f := c.read(); f.op != opPong || string(f.payload) != "p" {
			t.Fatalf("opcode %d %q, want the pong", f.op, f.payload)
		}
	})
	// A ping of 125 bytes, the most a control frame holds, between
	// fragments: answered at once, the message after it.
	t.Run("125-byte ping inside a message", func(t *testing.T) {
		c, _ := fs.dial(t, fs.plain)
		ping := bytes.Repeat([]byte("p"), 125)
		c.write(frame(opBinary, []byte{1}), frame(bitFin|opPing, ping), frame(opCont, nil), frame(bitFin|opCont, []byte{2}))
		if f := c.read(); f.op != opPong || !bytes.Equal(f.payload, ping) {
			t.Fatalf("opcode %d, %d bytes, want the 125-byte pong", f.op, len(f.payload))
		}
		c.expectMessage(opBinary, []byte{1, 2})
	})
	// Compressed, fragmented: the server inflates across fragments.
	t.Run("compressed in fragments", func(t *testing.T) {
		c, _ := fs.dial(t, fs.deflate)
		text := []byte(strings.Repeat("to be compressed ✓ ", 50))
		z := deflate(text)
		c.write(frame(bitRSV1|opText, z[:3]), frame(opCont, z[3:10]), frame(bitFin|opCont, z[10:]))
		c.expectMessage(opText, text)
	})
}

// headerCuts cuts f after each byte of its header.
func headerCuts(f []byte) []int {
	n := 2 + 4
	switch f[1] & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	var cuts []int
	for i := 1; i <= n && i < len(f); i++ {
		cuts = append(cuts, i)
	}
	return cuts
}

// randomCuts cuts n bytes at k random places, in order.
func randomCuts(rng *rand.Rand, n, k int) []int {
	var cuts []int
	for range k {
		if n > 1 {
			cuts = append(cuts, 1+rng.IntN(n-1))
		}
	}
	for i := range cuts {
		for j := i + 1; j < len(cuts); j++ {
			if cuts[j] < cuts[i] {
				cuts[i], cuts[j] = cuts[j], cuts[i]
			}
		}
	}
	return cuts
}

// readBy waits until the server's socket has read n bytes. Every turn of
// its loop reads what the kernel holds for it before running the tasks
// posted meanwhile, so each task posted and run is a turn: the bytes are
// read at most a few turns after they are in the kernel.
func readBy(t *testing.T, s *session, n uint64) {
	t.Helper()
	for turns := 0; s.ws.Stats().BytesIn < n; turns++ {
		if turns == 100000 {
			t.Fatalf("the server has read %d bytes after %d turns of its loop, want %d", s.ws.Stats().BytesIn, turns, n)
		}
		turn(t, s.ws.Loop())
	}
	if got := s.ws.Stats().BytesIn; got != n {
		t.Fatalf("the server has read %d bytes, want %d", got, n)
	}
}

// Pings in a burst, as Autobahn's cases 2.10 and 2.11 send them: ten get
// ten pongs, in order; ten thousand written before any pong is read get
// pongs in order, the last one's among them.
func TestFramingPings(t *testing.T) {
	t.Parallel()
	fs := startFramingServers(t)
	for _, n := range []int{10, 10000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			c, _ := fs.dial(t, fs.plain)
			var burst [][]byte
			for i := range n {
				burst = append(burst, frame(bitFin|opPing, []byte(fmt.Sprint(i))))
			}
			burst = append(burst, frame(bitFin|opText, []byte("end")))
			// Written from another goroutine: the server's pongs pile up
			// unread meanwhile, as a flood's do.
			written := make(chan error, 1)
			go func() {
				_, err := c.nc.Write(bytes.Join(burst, nil))
				written <- err
			}()
			last := -1
			for pongs := 0; ; pongs++ {
				f := c.read()
				if f.op == opText {
					if string(f.payload) != "end" || last != n-1 || n == 10 && pongs != 10 {
						t.Fatalf("after %d pongs, the last for ping %d: %q", pongs, last, f.payload)
					}
					break
				}
				var i int
				if _, err := fmt.Sscan(string(f.payload), &i); f.op != opPong || err != nil || i <= last {
					t.Fatalf("opcode %d %q after the pong to ping %d", f.op, f.payload, last)
				}
				last = i
			}
			if err := await(t, written, "the burst's write"); err != nil {
				t.Fatal(err)
			}
		})
	}
}
