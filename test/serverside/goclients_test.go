package serverside_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"

	websocket "github.com/wsloop/websocket"
)

// gorilla/websocket and coder/websocket as clients of an Upgrader.Handler
// echo server (the echoer): the client drives, in each of its
// compression modes, and the server's record of each socket is checked
// beside what the client saw.

// goConn is a Go client library's connection, reduced to what the tests
// do with it.
type goConn interface {
	// write sends one message, in fragments of piece bytes when piece > 0.
	write(binary bool, p []byte, piece int) error
	read() (binary bool, p []byte, err error)
	// ping sends a ping; pongs reports each pong that reading finds.
	ping(p string) error
	pongs() <-chan string
	// close starts the closing handshake and returns once it is over.
	close(code int, reason string) error
	// closeStatus is the close code and reason err reports.
	closeStatus(err error) (int, string, bool)
	end()
}

// goClient is a Go client library in one of its modes.
type goClient struct {
	name string
	dial func(t *testing.T, url string) (goConn, *http.Response)
	// answer is the server's Sec-WebSocket-Extensions for its offer.
	answer string
	// echoesReason: the client answers a close frame with its reason too.
	echoesReason bool
	// contextTakeover: the client compresses with the previous messages'
	// context, so a repeated message costs a few bytes the second time.
	contextTakeover bool
}

func goClients() []goClient {
	const base = "permessage-deflate; server_no_context_takeover"
	gorillaIn := func(compress bool) func(*testing.T, string) (goConn, *http.Response) {
		return func(t *testing.T, url string) (goConn, *http.Response) {
			d := gorilla.Dialer{Subprotocols: []string{"chat.v1", "chat.v2"}, EnableCompression: compress,
				// Messages go out in frames of at most 4 KiB.
				WriteBufferSize: 4096, HandshakeTimeout: bound}
			c, resp, err := d.Dial(url, nil)
			if err != nil {
				t.Fatalf("gorilla: %v", err)
			}
			g := &gorillaConn{c: c, pong: make(chan string, 16)}
			c.SetPongHandler(func(p string) error { g.pong <- p; return nil })
			c.SetReadDeadline(time.Now().Add(bound))
			return g, resp
		}
	}
	coderIn := func(mode coder.CompressionMode) func(*testing.T, string) (goConn, *http.Response) {
		return func(t *testing.T, url string) (goConn, *http.Response) {
			ctx, cancel := context.WithTimeout(context.Background(), bound)
			c, resp, err := coder.Dial(ctx, url, &coder.DialOptions{Subprotocols: []string{"chat.v1", "chat.v2"}, CompressionMode: mode})
			if err != nil {
				cancel()
				t.Fatalf("coder: %v", err)
			}
			c.SetReadLimit(64 << 20)
			return &coderConn{c: c, ctx: ctx, cancel: cancel, pong: make(chan string, 16)}, resp
		}
	}
	return []goClient{
		{name: "gorilla", dial: gorillaIn(false)},
		{name: "gorilla compressed", dial: gorillaIn(true), answer: base + "; client_no_context_takeover"},
		{name: "coder", dial: coderIn(coder.CompressionDisabled), echoesReason: true},
		{name: "coder context takeover", dial: coderIn(coder.CompressionContextTakeover), answer: base, echoesReason: true, contextTakeover: true},
		{name: "coder no context takeover", dial: coderIn(coder.CompressionNoContextTakeover), answer: base + "; client_no_context_takeover", echoesReason: true},
	}
}

type gorillaConn struct {
	c    *gorilla.Conn
	pong chan string
}

func (g *gorillaConn) write(binary bool, p []byte, piece int) error {
	typ := gorilla.TextMessage
	if binary {
		typ = gorilla.BinaryMessage
	}
	if piece == 0 {
		return g.c.WriteMessage(typ, p)
	}
	w, err := g.c.NextWriter(typ)
	if err != nil {
		return err
	}
	return writePieces(w, p, piece)
}

// writePieces writes p to w in Writes of piece bytes, and closes w.
func writePieces(w io.WriteCloser, p []byte, piece int) error {
	for len(p) > 0 {
		n := min(piece, len(p))
		if _, err := w.Write(p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return w.Close()
}

func (g *gorillaConn) read() (bool, []byte, error) {
	typ, p, err := g.c.ReadMessage()
	return typ == gorilla.BinaryMessage, p, err
}

func (g *gorillaConn) ping(p string) error {
	return g.c.WriteControl(gorilla.PingMessage, []byte(p), time.Now().Add(bound))
}

func (g *gorillaConn) pongs() <-chan string { return g.pong }

func (g *gorillaConn) close(code int, reason string) error {
	if err := g.c.WriteMessage(gorilla.CloseMessage, gorilla.FormatCloseMessage(code, reason)); err != nil {
		return err
	}
	// The server's answer ends the reading.
	_, _, err := g.c.ReadMessage()
	if c, _, ok := g.closeStatus(err); !ok || c != code {
		return err
	}
	return nil
}

func (g *gorillaConn) closeStatus(err error) (int, string, bool) {
	var ce *gorilla.CloseError
	if errors.As(err, &ce) {
		return ce.Code, ce.Text, true
	}
	return 0, "", false
}

func (g *gorillaConn) end() { g.c.Close() }

type coderConn struct {
	c      *coder.Conn
	ctx    context.Context
	cancel context.CancelFunc
	pong   chan string
}

func (c *coderConn) write(binary bool, p []byte, piece int) error {
	typ := coder.MessageText
	if binary {
		typ = coder.MessageBinary
	}
	if piece == 0 {
		return c.c.Write(c.ctx, typ, p)
	}
	w, err := c.c.Writer(c.ctx, typ)
	if err != nil {
		return err
	}
	return writePieces(w, p, piece)
}

func (c *coderConn) read() (bool, []byte, error) {
	typ, p, err := c.c.Read(c.ctx)
	return typ == coder.MessageBinary, p, err
}

// ping waits for its pong, which a read running meanwhile finds: the
// caller reads next.
func (c *coderConn) ping(p string) error {
	go func() {
		if err := c.c.Ping(c.ctx); err == nil {
			c.pong <- "" // coder's pings carry a payload of its own
		}
	}()
	return nil
}

func (c *coderConn) pongs() <-chan string { return c.pong }

func (c *coderConn) close(code int, reason string) error {
	return c.c.Close(coder.StatusCode(code), reason)
}

func (c *coderConn) closeStatus(err error) (int, string, bool) {
	var ce coder.CloseError
	if errors.As(err, &ce) {
		return int(ce.Code), ce.Reason, true
	}
	return 0, "", false
}

func (c *coderConn) end() {
	c.c.CloseNow()
	c.cancel()
}

// goServer is an echoer behind an Upgrader on a server of its own, whose
// HTTP handler sets a cookie and a header of its own before the upgrade.
func goServer(t *testing.T) (*websocket.Upgrader, *echoer, string) {
	t.Helper()
	up := &websocket.Upgrader{Loop: startLoop(t), Protocols: []string{"chat.v2", "chat.v1"}}
	e := newEchoer()
	h := up.Handler(e.handle)
	srv := httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s1"})
		w.Header().Set("X-Served-By", "serverside")
		h.ServeHTTP(w, r)
	}))
	return up, e, wsURL(srv, "/go")
}

// Echo of every kind of message, fragmented by the client too, pings both
// ways, in each of the client's compression modes, then its close.
func TestGoClientEcho(t *testing.T) {
	t.Parallel()
	for _, gc := range goClients() {
		t.Run(gc.name, func(t *testing.T) {
			t.Parallel()
			up, e, url := goServer(t)
			c, resp := gc.dial(t, url)
			defer c.end()
			s := e.next(t)
			if got := resp.Header.Get("Sec-WebSocket-Extensions"); got != gc.answer || s.ws.Extensions() != gc.answer {
				t.Fatalf("the client got %q, the server's socket says %q; want %q (offer %q)", got, s.ws.Extensions(), gc.answer, s.offer)
			}
			if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != "chat.v2" {
				t.Errorf("protocol %q", got)
			}
			// The handler's own headers are in the 101.
			if resp.Header.Get("Set-Cookie") != "session=s1" || resp.Header.Get("X-Served-By") != "serverside" {
				t.Errorf("the 101's header: %v", resp.Header)
			}
			rng := rand.New(rand.NewPCG(5, 6))
			echo := func(binary bool, p []byte, piece int) {
				t.Helper()
				if err := c.write(binary, p, piece); err != nil {
					t.Fatalf("writing %d bytes: %v", len(p), err)
				}
				b, got, err := c.read()
				if err != nil || b != binary || !bytes.Equal(got, p) {
					t.Fatalf("echo of %d bytes: %d bytes, binary %v, %v", len(p), len(got), b, err)
				}
			}
			for _, m := range []struct {
				binary bool
				p      []byte
				piece  int
			}{
				{false, []byte("hello ✓"), 0}, {true, []byte{0, 1, 2, 255}, 0}, {false, nil, 0}, {true, nil, 0},
				{true, random(rng, 1<<20), 0}, {false, text(1 << 20), 0},
				{false, text(50000), 777}, {true, random(rng, 50000), 10000},
			} {
				echo(m.binary, m.p, m.piece)
			}
			// The server's record: the 1 MiB of text (message 6)
			// compressed on the wire exactly when compression was
			// negotiated.
			wire := s.wireSizes(t)
			if len(wire) < 6 {
				t.Fatalf("the server counted %d messages", len(wire))
			}
			if w := wire[5]; gc.answer != "" && w > 1<<19 || gc.answer == "" && w < 1<<20 {
				t.Errorf("1 MiB of text took %d bytes on the wire (extension %q)", w, gc.answer)
			}
			// The client's context: a message sent twice.
			probe := random(rng, 300)
			for i := range probe {
				probe[i] = 'a' + probe[i]%26
			}
			echo(false, probe, 0)
			echo(false, probe, 0)
			if gc.answer != "" {
				wire := s.wireSizes(t)
				n := len(wire)
				if first, second := wire[n-2], wire[n-1]; gc.contextTakeover != (second < first/2) {
					t.Errorf("a message sent twice took %d bytes, then %d (context takeover %v)", first, second, gc.contextTakeover)
				}
			}

			// Pings: the client's answered by the server, the server's
			// by the client, which "pong:PAYLOAD" from the server shows.
			if err := c.ping("client ping"); err != nil {
				t.Fatal(err)
			}
			// Reading finds the pong: echoes until it has (coder's ping
			// may go out behind the first), each a round trip.
			deadline := time.Now().Add(bound)
			for pong := false; !pong; {
				if time.Now().After(deadline) {
					t.Fatalf("no pong to the client's ping within %v", bound)
				}
				echo(false, []byte("after the ping"), 0)
				select {
				case <-c.pongs():
					pong = true
				default:
				}
			}
			if err := c.write(false, []byte("!ping server ✓"), 0); err != nil {
				t.Fatal(err)
			}
			if _, got, err := c.read(); err != nil || string(got) != "pong:server ✓" {
				t.Fatalf("read %q %v, want the server's pong report", got, err)
			}

			if err := c.close(4000, "client bye"); err != nil {
				t.Fatalf("closing: %v", err)
			}
			c.end()
			if ev := s.closed(t); ev.Code != 4000 || ev.Reason != "client bye" || !ev.WasClean || len(s.errs) > 0 {
				t.Errorf("the server's close: %+v, errors %v", ev, s.errs)
			}
			turn(t, up.Loop) // the close event's task ends with the socket gone
			if n := len(up.Loop.Sockets()); n != 0 {
				t.Errorf("%d sockets left on the server's loop", n)
			}
		})
	}
}

// The server closes, with CloseWith and with Shutdown: the client sees
// the code and reason, the server its answer, clean.
func TestGoClientServerCloses(t *testing.T) {
	t.Parallel()
	for _, gc := range goClients() {
		for _, c := range []struct {
			code   int
			reason string
		}{{4001, "server bye ✓"}, {1000, ""}, {1011, "internal error"}, {1001, "going away"}} {
			// 1001 is Shutdown's.
			name := fmt.Sprintf("%s/%d", gc.name, c.code)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				up, e, url := goServer(t)
				conn, _ := gc.dial(t, url)
				defer conn.end()
				s := e.next(t)
				shut := make(chan error, 1)
				if c.code == 1001 {
					ctx, cancel := context.WithTimeout(context.Background(), bound)
					defer cancel()
					// It returns once the client has answered.
					go func() { shut <- up.Shutdown(ctx) }()
				} else if err := conn.write(false, fmt.Appendf(nil, "!close %d %s", c.code, c.reason), 0); err != nil {
					t.Fatal(err)
				}
				_, _, err := conn.read()
				if got, r, ok := conn.closeStatus(err); !ok || got != c.code || r != c.reason {
					t.Fatalf("the client read %v, want close %d %q", err, c.code, c.reason)
				}
				conn.end()
				reason := c.reason
				if !gc.echoesReason {
					reason = ""
				}
				if ev := s.closed(t); ev.Code != c.code || ev.Reason != reason || !ev.WasClean {
					t.Errorf("the server's close: %+v, want %d %q", ev, c.code, reason)
				}
				if c.code == 1001 {
					if err := await(t, shut, "Shutdown's return"); err != nil {
						t.Errorf("Shutdown: %v", err)
					}
				}
			})
		}
	}
}

// SelectProtocol decides instead of Protocols: here the client's first
// choice. One that the client did not offer refuses the request with 500.
func TestGoClientSelectProtocol(t *testing.T) {
	t.Parallel()
	loop := startLoop(t)
	for _, c := range []struct {
		pick   func([]string) string
		want   string
		status int
	}{
		{func(offered []string) string { return offered[0] }, "chat.v1", 101},
		{func([]string) string { return "" }, "", 101},
		{func([]string) string { return "chat.v9" }, "", 500},
	} {
		up := &websocket.Upgrader{Loop: loop, SelectProtocol: func(_ *http.Request, offered []string) string { return c.pick(offered) }}
		e := newEchoer()
		srv := httptestServer(t, up.Handler(e.handle))
		d := gorilla.Dialer{Subprotocols: []string{"chat.v1", "chat.v2"}, HandshakeTimeout: bound}
		conn, resp, err := d.Dial(wsURL(srv, "/"), nil)
		if resp == nil || resp.StatusCode != c.status {
			t.Fatalf("response %v, %v; want status %d", resp, err, c.status)
		}
		if conn == nil {
			continue
		}
		if got := conn.Subprotocol(); got != c.want {
			t.Errorf("protocol %q, want %q", got, c.want)
		}
		if s := e.next(t); s.ws.Protocol() != c.want {
			t.Errorf("the server's socket's protocol %q, want %q", s.ws.Protocol(), c.want)
		}
		conn.Close()
	}
}
