package websocket_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsloop/websocket"
)

// serverLoop runs a loop for an Upgrader's sockets until the test ends.
func serverLoop(t *testing.T) *websocket.EventLoop {
	t.Helper()
	l := websocket.NewEventLoop()
	l.OnPanic = func(v any, stack []byte) { t.Errorf("panic in a server callback: %v\n%s", v, stack) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.RunContext(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return l
}

// echoHandler echoes every message and records each socket's close.
type echoHandler struct {
	mu     sync.Mutex
	closes []websocket.CloseEvent
	errs   []error
	closed chan struct{} // one value per close
}

func newEchoHandler() *echoHandler { return &echoHandler{closed: make(chan struct{}, 100)} }

func (h *echoHandler) serve(ws *websocket.WebSocket, _ *http.Request) {
	ws.OnMessage = func(m websocket.MessageEvent) {
		if m.Binary {
			ws.Send(m.Data)
		} else {
			ws.SendText(m.Text())
		}
	}
	ws.OnError = func(e websocket.ErrorEvent) {
		h.mu.Lock()
		h.errs = append(h.errs, e.Err)
		h.mu.Unlock()
	}
	ws.OnClose = func(e websocket.CloseEvent) {
		h.mu.Lock()
		h.closes = append(h.closes, e)
		h.mu.Unlock()
		h.closed <- struct{}{}
	}
}

// waitClose returns the server socket's close event (the next one).
func (h *echoHandler) waitClose(t *testing.T) (websocket.CloseEvent, []error) {
	t.Helper()
	select {
	case <-h.closed:
	case <-time.After(rawFailBound):
		t.Fatal("the server's socket did not close")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closes[len(h.closes)-1], h.errs
}

func wsURL(srv *httptest.Server, path string) string {
	return "ws" + strings.TrimPrefix(srv.URL, "http") + path
}

// Our own client against our own server: text, binary, a large and a
// compressed message each way, and a clean close from the client.
func TestUpgraderEcho(t *testing.T) {
	h := newEchoHandler()
	up := &websocket.Upgrader{Loop: serverLoop(t)}
	srv := httptest.NewServer(up.Handler(h.serve))
	defer srv.Close()

	ctx := context.Background()
	ws, err := websocket.Dial(ctx, wsURL(srv, "/echo?x=1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ws.Extensions(); got != "permessage-deflate; server_no_context_takeover" {
		t.Errorf("Extensions() = %q", got)
	}
	big := strings.Repeat("compressible text ", 10000)
	for _, m := range []struct {
		text string
		bin  []byte
	}{{text: "hello ✓"}, {bin: []byte{0, 1, 2, 255}}, {text: big}, {bin: make([]byte, 1<<20)}, {text: ""}} {
		if m.bin != nil {
			err = ws.Send(m.bin)
		} else {
			err = ws.SendText(m.text)
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := ws.WaitForNextMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m.bin != nil && (!got.Binary || string(got.Data) != string(m.bin)) || m.bin == nil && (got.Binary || got.Text() != m.text) {
			t.Fatalf("echo of a %d-byte message: binary %v, %d bytes", max(len(m.bin), len(m.text)), got.Binary, len(got.Data))
		}
	}
	st := ws.Stats()
	if st.BytesIn > uint64(len(big)) { // plain, 1 MiB more than this
		t.Errorf("%d bytes in for 1 MiB of zeros and %d of text: the server did not compress", st.BytesIn, len(big))
	}
	ws.CloseWith(websocket.CloseNormal, "bye")
	ev, errs := h.waitClose(t)
	if ev.Code != 1000 || ev.Reason != "bye" || !ev.WasClean || len(errs) > 0 {
		t.Errorf("server close: %+v, errors %v", ev, errs)
	}
}

// Upgrade's socket is for the blocking calls, on the handler's goroutine.
func TestUpgradeBlocking(t *testing.T) {
	up := &websocket.Upgrader{Loop: serverLoop(t), Protocols: []string{"v2", "v1"}}
	served := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r)
		if err != nil {
			served <- err
			return
		}
		if ws.Protocol() != "v1" || ws.URL() != "ws://"+r.Host+"/b?q" || ws.ReadyState() != websocket.Open {
			served <- fmt.Errorf("protocol %q, URL %q, state %v", ws.Protocol(), ws.URL(), ws.ReadyState())
			return
		}
		ctx := r.Context()
		for {
			m, err := ws.WaitForNextMessage(context.WithoutCancel(ctx))
			if err != nil {
				var ce *websocket.ClosedError
				if errors.As(err, &ce) && ce.Event.Code == websocket.CloseNoStatus && ce.Event.WasClean {
					err = nil
				}
				served <- err
				return
			}
			ws.SendText("echo: " + m.Text())
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	ws, err := websocket.Dial(ctx, wsURL(srv, "/b?q"), &websocket.Config{Protocols: []string{"v1", "v3"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		ws.SendText(fmt.Sprint(i))
		m, err := ws.WaitForNextMessage(ctx)
		if err != nil || m.Text() != fmt.Sprintf("echo: %d", i) {
			t.Fatalf("%q %v", m.Text(), err)
		}
	}
	ws.Close()
	select {
	case err := <-served:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(rawFailBound):
		t.Fatal("the handler did not see the close")
	}
}

// Requests the Upgrader refuses get the HTTP status and reason.
func TestUpgraderRefusals(t *testing.T) {
	up := &websocket.Upgrader{Loop: serverLoop(t), AllowedOrigins: []string{"https://*.example.org"}}
	var mu sync.Mutex
	var errs []error
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := up.Upgrade(w, r)
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}))
	defer srv.Close()
	get := func(method string, header ...string) *http.Response {
		req, _ := http.NewRequest(method, srv.URL, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	ok := []string{"Upgrade", "websocket", "Connection", "Upgrade", "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}
	for _, c := range []struct {
		name   string
		resp   *http.Response
		status int
	}{
		{"POST", get("POST", ok...), 405},
		{"plain GET", get("GET"), 426},
		{"version 8", get("GET", append(ok[:6:6], "Sec-WebSocket-Version", "8", ok[6], ok[7])...), 426},
		{"origin not allowed", get("GET", append(ok, "Origin", "https://evil.example")...), 403},
		{"origin of the server itself, not in the list", get("GET", append(ok, "Origin", srv.URL)...), 403},
	} {
		if c.resp.StatusCode != c.status {
			t.Errorf("%s: %d, want %d", c.name, c.resp.StatusCode, c.status)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, err := range errs {
		var ue *websocket.UpgradeError
		if !errors.As(err, &ue) || ue.Reason == "" {
			t.Errorf("Upgrade returned %v, want an *UpgradeError with a reason", err)
		}
	}
}

func TestUpgraderConfigErrors(t *testing.T) {
	for _, up := range []*websocket.Upgrader{
		{AllowedOrigins: []string{"example.org"}},
		{Protocols: []string{"a b"}},
		{Compression: &websocket.Compression{ServerNoContextTakeover: true}},
		{MaxMessageSize: -1},
	} {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/", nil)
		_, err := up.Upgrade(rec, r)
		var ce *websocket.ConfigError
		if !errors.As(err, &ce) || rec.Code != 500 {
			t.Errorf("%+v: %v, status %d; want a *ConfigError and 500", up, err, rec.Code)
		}
	}
}

// rawClient is a client that writes frames by hand.
type rawClient struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, srv *httptest.Server, extra string) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(rawConnDeadline))
	fmt.Fprintf(nc, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n%s\r\n", srv.Listener.Addr(), extra)
	c := &rawClient{t: t, nc: nc, br: bufio.NewReader(nc)}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	return c
}

func (c *rawClient) send(frames ...frameSpec) {
	var b []byte
	for _, f := range frames {
		b = append(b, f.bytes()...)
	}
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// read reads one server frame, which must be unmasked.
func (c *rawClient) read() (op byte, payload []byte) {
	c.t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		c.t.Fatalf("reading a server frame: %v", err)
	}
	if h[1]&0x80 != 0 {
		c.t.Fatalf("the server masked a frame")
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		io.ReadFull(c.br, b[:])
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		io.ReadFull(c.br, b[:])
		n = binary.BigEndian.Uint64(b[:])
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, payload); err != nil {
		c.t.Fatal(err)
	}
	return h[0] & 0x0f, payload
}

func (c *rawClient) expectClose(code uint16) {
	c.t.Helper()
	op, p := c.read()
	if op != opClose || len(p) < 2 || binary.BigEndian.Uint16(p) != code {
		c.t.Fatalf("got op %d %q, want close %d", op, p, code)
	}
}

func (c *rawClient) expectEOF() {
	c.t.Helper()
	if b, err := c.br.ReadByte(); err != io.EOF {
		c.t.Fatalf("read %q, %v; want the server's end of TCP", b, err)
	}
}

func masked(op byte, payload string) frameSpec {
	return frameSpec{Fin: true, Op: op, Mask: true, Key: [4]byte{1, 2, 3, 4}, Payload: []byte(payload)}
}

func maskedClose(code uint16, reason string) frameSpec {
	return masked(opClose, string(binary.BigEndian.AppendUint16(nil, code))+reason)
}

// The server's framing: masked frames in, unmasked out; the server ends
// TCP first once the closing handshake is done.
func TestServerFraming(t *testing.T) {
	h := newEchoHandler()
	up := &websocket.Upgrader{Loop: serverLoop(t), NoCompression: true}
	srv := httptest.NewServer(up.Handler(h.serve))
	defer srv.Close()

	t.Run("echo and client close", func(t *testing.T) {
		c := dialRaw(t, srv, "")
		c.send(masked(opText, "héllo"), frameSpec{Op: opText, Mask: true, Key: [4]byte{9, 9, 9, 9}, Payload: []byte("frag")},
			frameSpec{Fin: true, Op: opCont, Mask: true, Key: [4]byte{7, 0, 0, 7}, Payload: []byte("mented")}, masked(opPing, "p"))
		for _, want := range []struct {
			op byte
			p  string
		}{{opText, "héllo"}, {opText, "fragmented"}, {opPong, "p"}} {
			if op, p := c.read(); op != want.op || string(p) != want.p {
				t.Fatalf("got op %d %q, want %d %q", op, p, want.op, want.p)
			}
		}
		c.send(maskedClose(1000, "done"))
		c.expectClose(1000)
		c.expectEOF() // the server first
		c.nc.Close()  // as a client does then; the server's close event follows
		ev, _ := h.waitClose(t)
		if ev.Code != 1000 || ev.Reason != "done" || !ev.WasClean {
			t.Errorf("server close: %+v", ev)
		}
	})
	t.Run("unmasked frame", func(t *testing.T) {
		c := dialRaw(t, srv, "")
		c.send(frameSpec{Fin: true, Op: opText, Payload: []byte("not masked")})
		c.expectClose(1002)
		c.nc.(*net.TCPConn).CloseWrite()
		c.expectEOF()
		ev, errs := h.waitClose(t)
		var pe *websocket.ProtocolError
		if ev.Code != 1006 || ev.WasClean || len(errs) == 0 || !errors.As(errs[len(errs)-1], &pe) || pe.Code != 1002 {
			t.Errorf("server close: %+v, errors %v", ev, errs)
		}
	})
	t.Run("server closes", func(t *testing.T) {
		var socket *websocket.WebSocket
		got := make(chan *websocket.WebSocket, 1)
		srv2 := httptest.NewServer(up.Handler(func(ws *websocket.WebSocket, r *http.Request) {
			h.serve(ws, r)
			got <- ws
		}))
		defer srv2.Close()
		c := dialRaw(t, srv2, "")
		socket = <-got
		socket.CloseWith(4000, "server")
		c.expectClose(4000)
		c.send(maskedClose(4000, ""))
		c.expectEOF()
		c.nc.Close()
		ev, _ := h.waitClose(t)
		if ev.Code != 4000 || !ev.WasClean {
			t.Errorf("server close: %+v", ev)
		}
	})
}

// The loop's registry lists the sockets and finds them by ID; Shutdown
// closes them with 1001 and refuses new ones.
func TestUpgraderRegistryAndShutdown(t *testing.T) {
	l := serverLoop(t)
	h := newEchoHandler()
	up := &websocket.Upgrader{Loop: l}
	srv := httptest.NewServer(up.Handler(h.serve))
	defer srv.Close()
	ctx := context.Background()
	var clients []*websocket.WebSocket
	for range 5 {
		ws, err := websocket.Dial(ctx, wsURL(srv, "/"), nil)
		if err != nil {
			t.Fatal(err)
		}
		// A round trip: the server's socket is on its loop.
		ws.SendText("x")
		if _, err := ws.WaitForNextMessage(ctx); err != nil {
			t.Fatal(err)
		}
		clients = append(clients, ws)
	}
	socks := l.Sockets()
	if len(socks) != 5 {
		t.Fatalf("%d sockets on the server's loop, want 5", len(socks))
	}
	for i, s := range socks {
		if l.Socket(s.ID()) != s || (i > 0 && s.ID() <= socks[i-1].ID()) {
			t.Fatalf("Socket(%d) does not find it, or the list is out of order", s.ID())
		}
	}
	if skipped := websocket.BroadcastText(socks, "all"); len(skipped) != 0 {
		t.Fatalf("broadcast skipped %v", skipped)
	}
	for _, c := range clients {
		if m, err := c.WaitForNextMessage(ctx); err != nil || m.Text() != "all" {
			t.Fatalf("%q %v", m.Text(), err)
		}
	}
	sctx, cancel := context.WithTimeout(ctx, rawFailBound)
	defer cancel()
	if err := up.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range clients {
		_, err := c.WaitForNextMessage(ctx)
		var ce *websocket.ClosedError
		if !errors.As(err, &ce) || ce.Event.Code != 1001 {
			t.Errorf("client: %v, want close 1001", err)
		}
	}
	if n := len(l.Sockets()); n != 0 {
		t.Errorf("%d sockets left after Shutdown", n)
	}
	_, err := websocket.Dial(ctx, wsURL(srv, "/"), nil)
	var he *websocket.HandshakeError
	if !errors.As(err, &he) || he.StatusCode != 503 {
		t.Errorf("a dial after Shutdown: %v, want a 503 refusal", err)
	}
}

// A TLS server: the hijacked connection is a *tls.Conn, which the loop's
// poller takes as it takes a dialed one.
func TestUpgraderTLS(t *testing.T) {
	h := newEchoHandler()
	up := &websocket.Upgrader{Loop: serverLoop(t)}
	urls := make(chan string, 1)
	srv := httptest.NewTLSServer(up.Handler(func(ws *websocket.WebSocket, r *http.Request) {
		urls <- ws.URL()
		h.serve(ws, r)
	}))
	defer srv.Close()
	ctx := context.Background()
	ws, err := websocket.Dial(ctx, "wss"+strings.TrimPrefix(srv.URL, "https")+"/tls", &websocket.Config{TLSConfig: srv.Client().Transport.(*http.Transport).TLSClientConfig})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 200000)
	for _, msg := range []string{"over TLS", big} {
		ws.SendText(msg)
		m, err := ws.WaitForNextMessage(ctx)
		if err != nil || m.Text() != msg {
			t.Fatalf("echo of %d bytes: %d bytes, %v", len(msg), len(m.Data), err)
		}
	}
	ws.CloseWith(websocket.CloseNormal, "")
	if ev, errs := h.waitClose(t); ev.Code != 1000 || !ev.WasClean || len(errs) > 0 {
		t.Errorf("server close: %+v %v", ev, errs)
	}
	if u := <-urls; u != "wss"+strings.TrimPrefix(srv.URL, "https")+"/tls" {
		t.Errorf("the server's socket's URL is %q", u)
	}
}

// A server's socket may close with the server's codes (1011-1014), not
// with the client's 1010; Check finds a bad field before any request; the
// Logger hears a refusal.
func TestUpgraderCodesCheckAndLog(t *testing.T) {
	var logged lockedBuffer
	logger := slog.New(slog.NewTextHandler(&logged, nil))
	got := make(chan *websocket.WebSocket, 1)
	up := &websocket.Upgrader{Loop: serverLoop(t), Logger: logger}
	if err := up.Check(); err != nil {
		t.Fatalf("Check: %v", err)
	}
	srv := httptest.NewServer(up.Handler(func(ws *websocket.WebSocket, _ *http.Request) { got <- ws }))
	defer srv.Close()
	ctx := context.Background()
	client, err := websocket.Dial(ctx, wsURL(srv, "/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ws := <-got
	var ia *websocket.InvalidAccessError
	if err := ws.CloseWith(websocket.CloseMandatoryExtension, ""); !errors.As(err, &ia) || !ia.Server {
		t.Errorf("a server's CloseWith(1010) = %v, want an InvalidAccessError", err)
	}
	if err := ws.CloseWith(websocket.CloseTryAgainLater, "busy"); err != nil {
		t.Fatalf("a server's CloseWith(1013) = %v", err)
	}
	_, err = client.WaitForNextMessage(ctx)
	var ce *websocket.ClosedError
	if !errors.As(err, &ce) || ce.Event.Code != 1013 || ce.Event.Reason != "busy" || !ce.Event.WasClean {
		t.Errorf("the client saw %v, want a clean close 1013", err)
	}
	if err := client.CloseWith(websocket.CloseInternalError, ""); !errors.As(err, &ia) || ia.Server {
		t.Errorf("a client's CloseWith(1011) = %v, want an InvalidAccessError", err)
	}

	resp, err := http.Get(srv.URL + "/plain")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	logged.mu.Lock()
	line := logged.b.String()
	logged.mu.Unlock()
	if !strings.Contains(line, "upgrade refused") || !strings.Contains(line, "status=426") || !strings.Contains(line, "path=/plain") {
		t.Errorf("the log has no refusal of the plain GET:\n%s", line)
	}

	bad := &websocket.Upgrader{AllowedOrigins: []string{"example.org"}}
	var cfgErr *websocket.ConfigError
	if err := bad.Check(); !errors.As(err, &cfgErr) || cfgErr.Field != "AllowedOrigins" {
		t.Errorf("Check of a pattern without scheme: %v", err)
	}
}

// Behind TLSListener, an upgraded wss:// connection costs no goroutine;
// behind net/http's own TLS (httptest's), each costs one.
func TestUpgraderTLSListenerNoGoroutine(t *testing.T) {
	if os.Getenv("WSLOOP_POLLER") == "portable" {
		t.Skip("the portable poller serves every connection with goroutines")
	}
	certSrv := httptest.NewTLSServer(http.NotFoundHandler())
	serverTLS := certSrv.TLS.Clone()
	clientTLS := certSrv.Client().Transport.(*http.Transport).TLSClientConfig
	certSrv.Close()

	ctx := context.Background()
	for _, c := range []struct {
		name     string
		listener bool
	}{{"TLSListener", true}, {"net/http's TLS", false}} {
		t.Run(c.name, func(t *testing.T) {
			h := newEchoHandler()
			up := &websocket.Upgrader{Loop: serverLoop(t)}
			srv := httptest.NewUnstartedServer(up.Handler(h.serve))
			if c.listener {
				srv.Listener = websocket.TLSListener(srv.Listener, serverTLS)
				srv.Start()
			} else {
				srv.TLS = serverTLS
				srv.StartTLS()
			}
			defer srv.Close()
			url := "wss://" + srv.Listener.Addr().String() + "/"
			// One socket first, so that the loops' and the pools'
			// goroutines are counted in the baseline.
			first, err := websocket.Dial(ctx, url, &websocket.Config{TLSConfig: clientTLS})
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, ctx, first)
			defer first.Close()
			before := runtime.NumGoroutine()
			const n = 20
			for range n {
				ws, err := websocket.Dial(ctx, url, &websocket.Config{TLSConfig: clientTLS})
				if err != nil {
					t.Fatal(err)
				}
				roundTrip(t, ctx, ws)
				defer ws.Close()
			}
			grew := runtime.NumGoroutine() - before
			t.Logf("%d goroutines more for %d idle wss:// connections", grew, n)
			if c.listener && grew > n/4 {
				t.Errorf("%d goroutines more for %d idle connections behind TLSListener, want none", grew, n)
			}
			if !c.listener && grew < n/2 {
				t.Errorf("%d goroutines more for %d connections behind net/http's TLS: the comparison shows nothing", grew, n)
			}
		})
	}
}

// roundTrip echoes one message, so that the server's socket is on its
// loop and idle.
func roundTrip(t *testing.T, ctx context.Context, ws *websocket.WebSocket) {
	t.Helper()
	ws.SendText("ping?")
	if m, err := ws.WaitForNextMessage(ctx); err != nil || m.Text() != "ping?" {
		t.Fatalf("echo: %q %v", m.Text(), err)
	}
}

// A ResponseWriter that cannot be hijacked (a middleware's wrapper
// without Unwrap): the request is answered with 500 and the error says
// why.
func TestUpgraderNoHijack(t *testing.T) {
	up := &websocket.Upgrader{Loop: serverLoop(t)}
	rec := httptest.NewRecorder() // no Hijack
	r := httptest.NewRequest("GET", "/", nil)
	for k, v := range map[string]string{"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="} {
		r.Header.Set(k, v)
	}
	ws, err := up.Upgrade(rec, r)
	if ws != nil || err == nil || !strings.Contains(err.Error(), "cannot be taken over") || rec.Code != 500 {
		t.Errorf("Upgrade = %v, %v; status %d; want an error and 500", ws, err, rec.Code)
	}
	if n := len(up.Loop.Sockets()); n != 0 {
		t.Errorf("%d sockets on the loop", n)
	}
}
