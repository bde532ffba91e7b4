package serverside_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/test/internal/peers"
)

// Node's ws and Python's websockets as clients of an Upgrader. The client
// processes (test/internal/peers) echo and obey commands, so the server
// drives every exchange from the test's goroutine through Upgrade's
// socket and the blocking calls, and checks what came back.

// clientPeer is a client library.
type clientPeer struct {
	name  string
	start func(testing.TB, string, peers.ClientOptions) *peers.Client
	// closeNoCode: "!close" alone closes without a code (the server sees
	// 1005); Python's websockets always sends one (1000).
	closeNoCode bool
}

var clientPeers = []clientPeer{
	{name: "Node", start: peers.NodeClient, closeNoCode: true},
	{name: "Python", start: peers.PythonClient},
}

// forEachClient runs test for each client library, in parallel with
// each other and with the other parallel tests.
func forEachClient(t *testing.T, test func(t *testing.T, p clientPeer)) {
	t.Parallel()
	for _, p := range clientPeers {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			test(t, p)
		})
	}
}

// upgraded is a socket Upgrade made, with the request's path and offer.
type upgraded struct {
	ws          *websocket.WebSocket
	path, offer string
}

// upgradeServer serves up's Upgrade on a new HTTP server and hands over
// each socket it makes.
func upgradeServer(t *testing.T, up *websocket.Upgrader) (*httptest.Server, <-chan upgraded) {
	t.Helper()
	return upgradeServerFor(t, func(*http.Request) *websocket.Upgrader { return up })
}

// upgradeServerFor is upgradeServer with the Upgrader that pick gives for
// each request.
func upgradeServerFor(t *testing.T, pick func(*http.Request) *websocket.Upgrader) (*httptest.Server, <-chan upgraded) {
	t.Helper()
	socks := make(chan upgraded, 16)
	srv := httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := pick(r).Upgrade(w, r)
		if err != nil {
			t.Errorf("Upgrade: %v", err)
			return
		}
		socks <- upgraded{ws, r.URL.Path, strings.Join(r.Header.Values("Sec-WebSocket-Extensions"), ", ")}
	}))
	return srv, socks
}

// driver drives a server socket made by Upgrade.
type driver struct {
	t  testing.TB
	ws *websocket.WebSocket
}

// recv is the socket's next event, or the *ClosedError.
func (d driver) recv() (websocket.Event, error) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	e, err := d.ws.LowLevelReceive(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		d.t.Fatalf("nothing received within %v", bound)
	}
	return e, err
}

// message is the next event, which must be a message.
func (d driver) message() websocket.MessageEvent {
	d.t.Helper()
	e, err := d.recv()
	m, ok := e.(websocket.MessageEvent)
	if !ok {
		d.t.Fatalf("received %T %v, want a message", e, err)
	}
	return m
}

// wire is a message's bytes on the wire each way.
type wire struct{ out, in uint64 }

// echo sends p and checks the client's echo; it returns the bytes on the
// wire each way.
func (d driver) echo(binary bool, p []byte) wire {
	d.t.Helper()
	before := d.ws.Stats()
	var err error
	if binary {
		err = d.ws.Send(p)
	} else {
		err = d.ws.SendText(string(p))
	}
	if err != nil {
		d.t.Fatalf("sending %d bytes: %v", len(p), err)
	}
	m := d.message()
	if m.Binary != binary || !bytes.Equal(m.Data, p) {
		d.t.Fatalf("echo of %d bytes (binary %v): %d bytes (binary %v), equal %v", len(p), binary, len(m.Data), m.Binary, bytes.Equal(m.Data, p))
	}
	after := d.ws.Stats()
	return wire{out: after.BytesOut - before.BytesOut, in: after.BytesIn - before.BytesIn}
}

// command sends a text command the client obeys without an echo.
func (d driver) command(s string) {
	d.t.Helper()
	if err := d.ws.SendText(s); err != nil {
		d.t.Fatalf("sending %q: %v", s, err)
	}
}

// closed waits for the end and returns its close event.
func (d driver) closed() websocket.CloseEvent {
	d.t.Helper()
	for {
		e, err := d.recv()
		var ce *websocket.ClosedError
		if errors.As(err, &ce) {
			return ce.Event
		}
		if err != nil {
			d.t.Fatalf("waiting for the close: %v", err)
		}
		d.t.Fatalf("waiting for the close, received %T", e)
	}
}

// connect starts the client on a server with up, and returns the client,
// its open event and the server's socket.
func connect(t *testing.T, p clientPeer, up *websocket.Upgrader, o peers.ClientOptions) (*peers.Client, peers.ClientEvent, driver, upgraded) {
	t.Helper()
	srv, socks := upgradeServer(t, up)
	cl := p.start(t, wsURL(srv, "/ws"), o)
	open := cl.Next(t, bound)
	if open.Event != "open" {
		t.Fatalf("the client's first event: %+v", open)
	}
	u := await(t, socks, "the server's socket")
	return cl, open, driver{t, u.ws}, u
}

// clientClose is the client's close event, its last.
func clientClose(t *testing.T, cl *peers.Client) peers.ClientEvent {
	t.Helper()
	e := cl.Next(t, bound)
	if e.Event != "close" {
		t.Fatalf("the client's event %+v, want its close", e)
	}
	return e
}

// text is n bytes of compressible UTF-8 with characters of 1 to 4 bytes,
// cut to a character boundary at n or just under.
func text(n int) []byte {
	p := []byte(strings.Repeat("a€ ✓ 𝄞 words, ", n/20+1))
	for n > 0 && p[n]&0xc0 == 0x80 {
		n--
	}
	return p[:n]
}

// random is n random bytes.
func random(rng *rand.Rand, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(rng.Uint32())
	}
	return p
}

// Echo of every kind of message both ways, fragmented both ways, pings
// both ways, then the client's close with a code and a reason.
func TestClientEcho(t *testing.T) {
	forEachClient(t, func(t *testing.T, p clientPeer) {
		up := &websocket.Upgrader{Loop: startLoop(t), Protocols: []string{"chat.v2", "chat.v1"}}
		cl, open, d, u := connect(t, p, up, peers.ClientOptions{Protocols: []string{"chat.v1", "chat.v2"}})
		const answer = "permessage-deflate; server_no_context_takeover"
		if open.Protocol != "chat.v2" || open.Extensions != answer || d.ws.Protocol() != "chat.v2" || d.ws.Extensions() != answer {
			t.Errorf("client: protocol %q, extensions %q; server: %q, %q (offer %q)", open.Protocol, open.Extensions, d.ws.Protocol(), d.ws.Extensions(), u.offer)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		for _, m := range []struct {
			binary bool
			p      []byte
		}{
			{false, []byte("hello ✓")}, {true, []byte{0, 1, 2, 255}}, {false, []byte{}}, {true, []byte{}},
			{false, []byte("4-byte characters: 𝄞😀")}, {true, random(rng, 1<<20)}, {false, text(1 << 20)},
		} {
			d.echo(m.binary, m.p)
		}

		// The server's messages in fragments, a text one cut inside
		// characters.
		for _, m := range []struct {
			binary bool
			p      []byte
			piece  int
		}{{false, text(10000), 999}, {true, random(rng, 200000), 30001}, {false, text(300), 1}} {
			mw, err := d.ws.NewMessageWriter(context.Background(), m.binary)
			if err != nil {
				t.Fatal(err)
			}
			for rest := m.p; len(rest) > 0; rest = rest[min(m.piece, len(rest)):] {
				if _, err := mw.Write(rest[:min(m.piece, len(rest))]); err != nil {
					t.Fatal(err)
				}
			}
			if err := mw.Close(); err != nil {
				t.Fatal(err)
			}
			if got := d.message(); got.Binary != m.binary || !bytes.Equal(got.Data, m.p) {
				t.Fatalf("echo of a fragmented %d-byte message: %d bytes", len(m.p), len(got.Data))
			}
		}

		// The client's echoes in fragments: Node's cut at any byte.
		d.command("!frag 7")
		d.echo(false, text(10000))
		d.echo(true, random(rng, 100000))
		d.echo(false, []byte{})
		d.echo(false, []byte("€"))
		d.command("!frag 1")

		// Pings: the server's answered by the client; the client's
		// answered by the server, which the client reports.
		if err := d.ws.Ping([]byte("server ping ✓")); err != nil {
			t.Fatal(err)
		}
		if e, err := d.recv(); err != nil || e.Type() != "pong" || string(e.(websocket.PongEvent).Data) != "server ping ✓" {
			t.Fatalf("received %v %v, want the pong", e, err)
		}
		d.command("!ping client ping")
		if e, err := d.recv(); err != nil || e.Type() != "ping" || string(e.(websocket.PingEvent).Data) != "client ping" {
			t.Fatalf("received %v %v, want the client's ping", e, err)
		}
		if m := d.message(); m.Text() != "pong:client ping" {
			t.Fatalf("received %q, want the client's report of the pong", m.Text())
		}

		d.command("!close 4000 reason ✓")
		if ev := d.closed(); ev.Code != 4000 || ev.Reason != "reason ✓" || !ev.WasClean {
			t.Errorf("the server's close: %+v", ev)
		}
		if e := clientClose(t, cl); e.Code != 4000 || e.Reason != "reason ✓" || !e.Clean {
			t.Errorf("the client's close: %+v", e)
		}
		// (TestRegistryAfterBlockingClose shows the socket may still be
		// there when the blocking call returns: a turn of the loop later
		// it must be gone.)
		turn(t, up.Loop)
		if n := len(up.Loop.Sockets()); n != 0 {
			t.Errorf("%d sockets left on the server's loop", n)
		}
	})
}

// Closes started by either side, with and without a code, and the
// Upgrader's Shutdown: both sides see the same code and reason, clean.
func TestClientCloses(t *testing.T) {
	forEachClient(t, func(t *testing.T, p clientPeer) {
		type side int
		const (
			client side = iota
			server
			shutdown
			limit // the client's echo passes the server's MaxMessageSize
		)
		cases := []struct {
			name   string
			by     side
			code   int
			reason string
		}{
			{"client 1000", client, 1000, ""},
			{"client 4999 with a reason", client, 4999, "a reason of 123 bytes " + strings.Repeat("x", 101)},
			{"client without a code", client, 0, ""},
			{"server 1000", server, 1000, ""},
			{"server 4001 with a reason", server, 4001, "server bye ✓"},
			{"server 1008", server, 1008, "policy"},
			{"server 1011", server, 1011, "internal error"},
			{"server 1012", server, 1012, "service restart"},
			{"server 1013", server, 1013, "try again later"},
			{"shutdown", shutdown, 1001, "going away"},
			{"message too big", limit, 1009, ""},
		}
		// One client process, a connection a case, each to a path of
		// its own; shutdown and limit to Upgraders of their own.
		loop := startLoop(t)
		ups := map[side]*websocket.Upgrader{
			client: {Loop: loop}, shutdown: {Loop: loop}, limit: {Loop: loop, MaxMessageSize: 1000},
		}
		ups[server] = ups[client]
		srv, socks := upgradeServerFor(t, func(r *http.Request) *websocket.Upgrader {
			var by side
			fmt.Sscanf(r.URL.Path, "/by/%d/", &by)
			return ups[by]
		})
		var paths []string
		for i, c := range cases {
			paths = append(paths, fmt.Sprintf("/by/%d/%d", c.by, i))
		}
		events := p.start(t, wsURL(srv, ""), peers.ClientOptions{Paths: paths}).Split()
		byPath := map[string]*websocket.WebSocket{}
		for range cases {
			u := await(t, socks, "the server's sockets")
			byPath[u.path] = u.ws
		}
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				if e := await(t, events[i], "the client's open"); e.Event != "open" {
					t.Fatalf("the client's first event: %+v", e)
				}
				d := driver{t, byPath[paths[i]]}
				d.echo(false, []byte("before the close"))
				code, reason := c.code, c.reason
				switch c.by {
				case client:
					cmd := fmt.Sprintf("!close %d %s", c.code, c.reason)
					if c.code == 0 {
						cmd = "!close"
						code = websocket.CloseNoStatus
						if !p.closeNoCode {
							code = 1000
						}
					}
					d.command(cmd)
				case server:
					if err := d.ws.CloseWith(c.code, c.reason); err != nil {
						t.Fatalf("a server's CloseWith(%d): %v", c.code, err)
					}
				case shutdown:
					ctx, cancel := context.WithTimeout(context.Background(), bound)
					defer cancel()
					if err := ups[shutdown].Shutdown(ctx); err != nil {
						t.Fatalf("Shutdown: %v", err)
					}
				case limit:
					// The server fails the socket: its close is 1006, with
					// the error; the client sees the 1009 sent, cleanly.
					d.command(strings.Repeat("x", 1001))
					_, err := d.recv()
					var ce *websocket.ClosedError
					var pe *websocket.ProtocolError
					if !errors.As(err, &ce) || ce.Event.Code != 1006 || !errors.As(ce.Err, &pe) || pe.Code != 1009 {
						t.Fatalf("the server's end: %v, want close 1006 for a *ProtocolError with 1009", err)
					}
					reason = pe.Reason
				}
				if c.by != limit {
					if ev := d.closed(); ev.Code != code || ev.Reason != reason || !ev.WasClean {
						t.Errorf("the server's close: %+v, want %d %q, clean", ev, code, reason)
					}
				}
				e := await(t, events[i], "the client's close")
				if code == websocket.CloseNoStatus {
					code = 1005 // both libraries report it so
				}
				if e.Event != "close" || e.Code != code || e.Reason != reason || !e.Clean {
					t.Errorf("the client's close: %+v, want %d %q, clean", e, code, reason)
				}
			})
		}
	})
}

// compressionMode is an offer and the server's configuration, with the
// answer the server must give.
type compressionMode struct {
	name string
	// compression and noCompression are the Upgrader's.
	compression   *websocket.Compression
	noCompression bool
	// offer is the client's; nil is its library's default.
	offer *peers.ClientDeflate
	// answer is the server's Sec-WebSocket-Extensions, "" for none.
	answer string
	// clientWindow is the client's window as it must hold it: the bits,
	// 0 without context takeover (each message on its own).
	clientWindow int
	// serverWindow is the window the server compresses with, in bits (0
	// without the extension).
	serverWindow int
}

func compressionModes() []compressionMode {
	const base = "permessage-deflate; server_no_context_takeover"
	return []compressionMode{
		{name: "default offer", answer: base, clientWindow: 15, serverWindow: 15},
		{name: "client_no_context_takeover", offer: &peers.ClientDeflate{ClientNoContextTakeover: true}, answer: base + "; client_no_context_takeover", serverWindow: 15},
		{name: "server_no_context_takeover asked", offer: &peers.ClientDeflate{ServerNoContextTakeover: true}, answer: base, clientWindow: 15, serverWindow: 15},
		{name: "client_max_window_bits=10", offer: &peers.ClientDeflate{ClientMaxWindowBits: 10}, answer: base, clientWindow: 10, serverWindow: 15},
		{name: "server_max_window_bits=10", offer: &peers.ClientDeflate{ServerMaxWindowBits: 10}, answer: base + "; server_max_window_bits=10", clientWindow: 15, serverWindow: 10},
		{name: "server asks client_max_window_bits=9", compression: &websocket.Compression{ClientMaxWindowBits: 9},
			answer: base + "; client_max_window_bits=9", clientWindow: 9, serverWindow: 15},
		{name: "server asks client_no_context_takeover", compression: &websocket.Compression{ClientNoContextTakeover: true},
			answer: base + "; client_no_context_takeover", serverWindow: 15},
		{name: "client offers none", offer: &peers.ClientDeflate{Off: true}},
		{name: "server declines", noCompression: true},
	}
}

// clientOffers are the offers each library makes for each mode, as the
// server saw them.
var clientOffers = map[string]map[string]string{
	"Node": {
		"default offer":                          "permessage-deflate; client_max_window_bits",
		"client_no_context_takeover":             "permessage-deflate; client_no_context_takeover; client_max_window_bits",
		"server_no_context_takeover asked":       "permessage-deflate; server_no_context_takeover; client_max_window_bits",
		"client_max_window_bits=10":              "permessage-deflate; client_max_window_bits=10",
		"server_max_window_bits=10":              "permessage-deflate; server_max_window_bits=10; client_max_window_bits",
		"server asks client_max_window_bits=9":   "permessage-deflate; client_max_window_bits",
		"server asks client_no_context_takeover": "permessage-deflate; client_max_window_bits",
		"client offers none":                     "",
		"server declines":                        "permessage-deflate; client_max_window_bits",
	},
	"Python": {
		"default offer":                          "permessage-deflate; client_max_window_bits",
		"client_no_context_takeover":             "permessage-deflate; client_no_context_takeover",
		"server_no_context_takeover asked":       "permessage-deflate; server_no_context_takeover",
		"client_max_window_bits=10":              "permessage-deflate; client_max_window_bits=10",
		"server_max_window_bits=10":              "permessage-deflate; server_max_window_bits=10",
		"server asks client_max_window_bits=9":   "permessage-deflate; client_max_window_bits",
		"server asks client_no_context_takeover": "permessage-deflate; client_max_window_bits",
		"client offers none":                     "",
		"server declines":                        "permessage-deflate; client_max_window_bits",
	},
}

// permessage-deflate negotiated from each library's offers and with the
// server's own demands: the answer word for word, the settlement as the
// client holds it, compressible messages of several sizes smaller on the
// wire both ways (or not compressed at all without the extension), and a
// probe of the client's window: a message sent twice is a few bytes the
// second time exactly when the client keeps its context, which the
// server must then inflate with.
func TestClientCompression(t *testing.T) {
	forEachClient(t, func(t *testing.T, p clientPeer) {
		// A path a mode, each with its Upgrader; one client process for
		// the modes of each offer, a connection a mode.
		modes := compressionModes()
		loop := startLoop(t)
		ups := map[string]*websocket.Upgrader{}
		byOffer := map[string][]int{}
		for i, m := range modes {
			ups[fmt.Sprint("/mode/", i)] = &websocket.Upgrader{Loop: loop, Compression: m.compression, NoCompression: m.noCompression}
			key := "default"
			if m.offer != nil {
				key = fmt.Sprintf("%+v", *m.offer)
			}
			byOffer[key] = append(byOffer[key], i)
		}
		srv, socks := upgradeServerFor(t, func(r *http.Request) *websocket.Upgrader { return ups[r.URL.Path] })
		events := make([]<-chan peers.ClientEvent, len(modes))
		for _, group := range byOffer {
			var paths []string
			for _, i := range group {
				paths = append(paths, fmt.Sprint("/mode/", i))
			}
			split := p.start(t, wsURL(srv, ""), peers.ClientOptions{Deflate: modes[group[0]].offer, Paths: paths}).Split()
			for j, i := range group {
				events[i] = split[j]
			}
		}
		byPath := map[string]upgraded{}
		for range modes {
			u := await(t, socks, "the server's sockets")
			byPath[u.path] = u
		}
		for i, m := range modes {
			t.Run(m.name, func(t *testing.T) {
				t.Parallel()
				open := await(t, events[i], "the client's open")
				if open.Event != "open" {
					t.Fatalf("the client's first event: %+v", open)
				}
				u := byPath[fmt.Sprint("/mode/", i)]
				d := driver{t, u.ws}
				if want := clientOffers[p.name][m.name]; u.offer != want {
					t.Errorf("the client offered %q, want %q", u.offer, want)
				}
				if open.Extensions != m.answer || d.ws.Extensions() != m.answer {
					t.Fatalf("the client saw %q, the server's socket says %q; want %q", open.Extensions, d.ws.Extensions(), m.answer)
				}
				if m.answer == "" {
					if open.Params != nil {
						t.Errorf("the client holds a settlement %+v without the extension", open.Params)
					}
				} else if pr := open.Params; pr == nil || !pr.ServerNoContextTakeover || pr.ClientNoContextTakeover != (m.clientWindow == 0) ||
					m.clientWindow != 0 && pr.ClientMaxWindowBits != m.clientWindow {
					t.Errorf("the client holds %+v; want server_no_context_takeover, and client window %d (0: no context takeover)", pr, m.clientWindow)
				}
				rng := rand.New(rand.NewPCG(3, 4))
				for _, n := range []int{100, 2000, 5000, 64 << 10} {
					w := d.echo(false, text(n))
					if m.answer != "" && n >= 2000 && (w.in > uint64(n)/2 || w.out > uint64(n)/2) {
						t.Errorf("%d compressible bytes: %d on the wire out, %d in", n, w.out, w.in)
					}
					if m.answer == "" && (w.in < uint64(n) || w.out < uint64(n)) {
						t.Errorf("%d bytes without compression: %d on the wire out, %d in", n, w.out, w.in)
					}
					// Under DefaultCompressionThreshold the server sends
					// messages as they are.
					if n < websocket.DefaultCompressionThreshold && w.out < uint64(n) {
						t.Errorf("%d bytes, under the threshold: %d on the wire out", n, w.out)
					}
				}
				d.echo(true, random(rng, 20000))
				// The probe: 200 random letters, twice. The server's
				// second copy costs what its first did (it keeps no
				// context); the client's is a back-reference when it
				// keeps its context, even in a 512-byte window (zlib's
				// reaches back 250 bytes of it).
				probe := make([]byte, 200)
				for i := range probe {
					probe[i] = byte('a' + rng.IntN(26))
				}
				first, second := d.echo(false, probe), d.echo(false, probe)
				if second.out < first.out*3/4 {
					t.Errorf("the server's second copy took %d bytes, the first %d: it kept its context", second.out, first.out)
				}
				switch {
				case m.answer == "":
				case m.clientWindow >= 9 && second.in > first.in/2:
					t.Errorf("the client's second copy took %d bytes, the first %d: it did not refer back", second.in, first.in)
				case m.clientWindow == 0 && second.in < first.in*3/4:
					t.Errorf("the client's second copy took %d bytes, the first %d, without context takeover", second.in, first.in)
				}
				// A message that repeats itself 2000 bytes back: a
				// compressor refers back to its first half only with a
				// window of more than 11 bits, and must not with less (the
				// other side would fail to inflate it).
				var twice []byte
				for range 2000 {
					twice = append(twice, byte('a'+rng.IntN(26)))
				}
				twice = append(twice, twice...)
				w := d.echo(false, twice)
				clientBits := m.clientWindow
				if clientBits == 0 {
					clientBits = 15 // no context takeover: each message with the whole window
				}
				if refers := w.out < uint64(len(twice))*45/100; m.answer != "" && refers != (m.serverWindow > 11) {
					t.Errorf("a message repeating itself 2000 bytes back: %d of %d bytes on the wire out, with a %d-bit server window", w.out, len(twice), m.serverWindow)
				}
				if refers := w.in < uint64(len(twice))*45/100; m.answer != "" && refers != (clientBits > 11) {
					t.Errorf("a message repeating itself 2000 bytes back: %d of %d bytes on the wire in, with a %d-bit client window", w.in, len(twice), clientBits)
				}
				// Fragmented compressed echoes are inflated across their
				// fragments.
				d.command("!frag 5")
				d.echo(false, text(30000))
				d.echo(true, bytes.Repeat([]byte("fragmented "), 3000))
				d.command("!close 1000")
				if ev := d.closed(); ev.Code != 1000 || !ev.WasClean {
					t.Errorf("the server's close: %+v", ev)
				}
				if e := await(t, events[i], "the client's close"); e.Event != "close" || e.Code != 1000 || !e.Clean {
					t.Errorf("the client's close: %+v", e)
				}
			})
		}
	})
}
