package main

import (
	"bufio"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsloop/websocket/bench/internal/payload"
)

// wireProxy sits between the clients and the server and reads the frames
// that pass each way: which data messages had RSV1 on their first frame,
// and how many payload bytes each took on the wire.
type wireProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	up     []wireMsg // client to server
	down   []wireMsg // server to client
	pipes  int       // pipes still copying, two a connection
}

type wireMsg struct {
	compressed bool
	wire       int
}

func newWireProxy(t *testing.T, target string) *wireProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &wireProxy{ln: ln, target: strings.TrimPrefix(target, "ws://")}
	go p.accept()
	t.Cleanup(func() { ln.Close() })
	return p
}

// url is the proxy's ws:// address.
func (p *wireProxy) url() string { return "ws://" + p.ln.Addr().String() }

func (p *wireProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		// Small buffers keep little in flight: a client that closes
		// during recv reads (and inflates) what is on its way first.
		for _, x := range []net.Conn{c, s} {
			x.(*net.TCPConn).SetReadBuffer(16 << 10)
			x.(*net.TCPConn).SetWriteBuffer(16 << 10)
		}
		p.mu.Lock()
		p.pipes += 2
		p.mu.Unlock()
		go p.pipe(s, c, &p.up)
		go p.pipe(c, s, &p.down)
	}
}

// pipe copies src to dst and parses what passes: the HTTP head, then
// frames.
func (p *wireProxy) pipe(dst, src net.Conn, into *[]wireMsg) {
	defer func() {
		p.mu.Lock()
		p.pipes--
		p.mu.Unlock()
	}()
	pr, pw := io.Pipe()
	parsed := make(chan struct{})
	go func() {
		defer close(parsed)
		p.parse(pr, into)
		io.Copy(io.Discard, pr)
	}()
	io.Copy(dst, io.TeeReader(src, pw))
	pw.Close()
	<-parsed
	dst.Close()
	src.Close()
}

func (p *wireProxy) parse(r io.Reader, into *[]wireMsg) {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		if line == "\r\n" {
			break
		}
	}
	var cur wireMsg
	for {
		h, err := ws.ReadHeader(br)
		if err != nil {
			return
		}
		if _, err := io.CopyN(io.Discard, br, h.Length); err != nil {
			return
		}
		if h.OpCode.IsControl() {
			continue
		}
		if h.OpCode != ws.OpContinuation {
			cur = wireMsg{compressed: h.Rsv1()}
		}
		cur.wire += int(h.Length)
		if h.Fin {
			p.mu.Lock()
			*into = append(*into, cur)
			p.mu.Unlock()
		}
	}
}

// take returns what passed each way since the last take, once every
// connection through the proxy has ended.
func (p *wireProxy) take(t *testing.T) (up, down []wireMsg) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		p.mu.Lock()
		if p.pipes == 0 {
			break
		}
		p.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatal("connections through the proxy still open 10 s after the run")
		}
	}
	defer p.mu.Unlock()
	up, down = p.up, p.down
	p.up, p.down = nil, nil
	return up, down
}

// checkWire checks that every message of msgs is compressed as want says
// and, when compressed, took under max payload bytes on the wire; it
// returns the messages' wire bytes in all.
func checkWire(t *testing.T, what string, msgs []wireMsg, want bool, max int) int {
	t.Helper()
	if len(msgs) == 0 {
		t.Errorf("%s: no data message seen", what)
		return 0
	}
	total := 0
	for i, m := range msgs {
		total += m.wire
		if m.compressed != want {
			t.Errorf("%s: message %d of %d compressed %v, want %v", what, i, len(msgs), m.compressed, want)
			return total
		}
		if want && m.wire >= max {
			t.Errorf("%s: message %d took %d bytes on the wire, want under %d", what, i, m.wire, max)
			return total
		}
	}
	return total
}

// TestSmokeDeflate runs the compressed variants at tiny sizes through a
// proxy that reads the frames: each -deflate library must negotiate
// permessage-deflate (the extension as the library reports it) and send
// and receive every message of bulk and recv compressed, in fewer bytes
// than its payload; each plain library, against the paths of the other
// scenarios, must negotiate nothing and see no RSV1 (wsloop offers the
// extension by default: the server must decline it there). idle-deflate's
// variants must have their one message each way compressed or not as
// their name says. The server's stats=1 count must agree.
func TestSmokeDeflate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the server")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs Linux /proc")
	}
	bin, cleanup, err := buildServer("")
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	srv, err := startServer(bin, loopbackAddrs(1))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.stop()
	phaseTimeout = 10 * time.Second
	dialWindow = 8
	p := newWireProxy(t, srv.urls[0])

	const size = 8 << 10
	msg := payload.Text(size, 0)
	plain := map[string]library{}
	for _, l := range allLibs {
		plain[l.name] = l
	}
	for base, variants := range deflateVariants {
		for _, l := range append([]library{plain[base]}, variants...) {
			t.Run(l.name, func(t *testing.T) {
				// bulk: echoes of 8 KiB of text.
				s, err := l.echo(p.url()+"/echo", msg, true, 30*time.Millisecond)
				if err != nil || s.ops < 1 || s.bytes != s.ops*size {
					t.Fatalf("echo: %d messages, %d bytes: %v", s.ops, s.bytes, err)
				}
				if got := strings.Contains(s.ext, "permessage-deflate"); got != l.deflate {
					t.Errorf("echo: extension %q", s.ext)
				}
				up, down := p.take(t)
				checkWire(t, "echo, client to server", up, l.deflate, size*6/10)
				checkWire(t, "echo, server to client", down, l.deflate, size*6/10)

				// recv: 1 KiB texts pushed, 64 read. The server stops
				// after 512 or so: the client reads (and inflates) what is
				// on its way before the server's close, which under the
				// race detector takes 250 µs a message.
				s, err = l.recv(p.url()+"/push?size=1024&text=1&max=512", time.Nanosecond)
				if err != nil || s.ops < 64 {
					t.Fatalf("recv: %d messages: %v", s.ops, err)
				}
				if got := strings.Contains(s.ext, "permessage-deflate"); got != l.deflate {
					t.Errorf("recv: extension %q", s.ext)
				}
				_, down = p.take(t)
				if wire := checkWire(t, "recv, server to client", down, l.deflate, 1024*6/10); !l.deflate && wire != len(down)*1024 {
					t.Errorf("recv: %d bytes for %d plain messages", wire, len(down))
				}
			})
		}
	}

	t.Run("stats", func(t *testing.T) {
		for _, l := range []library{wsloopLib, wsloopDeflateLib} {
			srv.drainStats()
			s, err := l.echo(withStats(srv.urls[0]+"/echo"), msg, true, 20*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			w, err := srv.nextStats(5 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if w.msgs != s.ops || w.inPayload != s.bytes || w.outPayload != s.bytes {
				t.Errorf("%s: the server counted %+v for %d messages, %d bytes", l.name, *w, s.ops, s.bytes)
			}
			if z := w.up() < 0.6 && w.down() < 0.6; z != l.deflate || w.up() <= 0 || w.down() <= 0 {
				t.Errorf("%s: wire/payload %.3f up, %.3f down", l.name, w.up(), w.down())
			}
		}
	})

	small := payload.Text(1024, 7)
	for _, v := range zIdleVariants {
		t.Run("idle-deflate/"+v.name, func(t *testing.T) {
			s, err := v.run([]string{p.url() + "/deflate/idle"}, 10, small)
			if err != nil {
				t.Fatal(err)
			}
			compressed := !strings.Contains(v.name, "no compression")
			if got := strings.Contains(s.ext, "permessage-deflate"); got != compressed || s.ops != 10 {
				t.Errorf("extension %q, %d round trips", s.ext, s.ops)
			}
			up, down := p.take(t)
			if len(up) != 10 || len(down) != 10 {
				t.Errorf("%d messages up, %d down, want 10 and 10", len(up), len(down))
			}
			// 8/10: a window under 15 bits has the server compress
			// with Huffman coding alone, 0.65 of the text.
			checkWire(t, "client to server", up, compressed, 1024*8/10)
			checkWire(t, "server to client", down, compressed, 1024*8/10)
		})
	}
}
