package websocket_test

// The opening handshake: what the client asks for, and how it fails when the
// server answers wrongly (error, then close 1006 not clean, ReadyState CLOSED
// during both, no open event).

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsloop/websocket"
)

var handshakeFailTrace = []string{"error CLOSED HandshakeError", traceAbnormal}

// runHandshakeFailure runs script as the server and expects the handshake to
// fail with a *HandshakeError, which it returns.
func runHandshakeFailure(t *testing.T, cfg *websocket.Config, script func(c *rawConn)) (*websocket.HandshakeError, *traceClient, *connReport) {
	t.Helper()
	srv := startRawServer(t, script)
	tc := newTraceClient(t, srv.URL, cfg)
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(handshakeFailTrace...)
	if len(rep.Frames) != 0 {
		t.Errorf("client sent frames %v after a failed handshake", rep.Frames)
	}
	if len(tc.Errors) != 1 {
		t.Fatalf("%d error events", len(tc.Errors))
	}
	var he *websocket.HandshakeError
	if !errors.As(tc.Errors[0], &he) {
		t.Fatalf("error %T %v, want a *websocket.HandshakeError", tc.Errors[0], tc.Errors[0])
	}
	if he.Error() == "" {
		t.Errorf("HandshakeError has no message")
	}
	return he, tc, rep
}

// runBad101 is runHandshakeFailure for a 101 response the client must
// refuse: the error is not a refusal by status.
func runBad101(t *testing.T, cfg *websocket.Config, script func(c *rawConn)) {
	t.Helper()
	he, _, _ := runHandshakeFailure(t, cfg, script)
	if he.StatusCode != 0 && he.StatusCode != 101 {
		t.Errorf("HandshakeError.StatusCode = %d for a 101 response", he.StatusCode)
	}
}

func TestRawHandshake403WithHeader(t *testing.T) {
	he, _, rep := runHandshakeFailure(t, nil, func(c *rawConn) {
		c.write([]byte("HTTP/1.1 403 Forbidden\r\nX-Why: nope\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nnope!"))
		c.expectEOF()
	})
	if he.StatusCode != 403 {
		t.Errorf("StatusCode = %d, want 403", he.StatusCode)
	}
	if got := he.Header.Get("X-Why"); got != "nope" {
		t.Errorf("Header.Get(\"X-Why\") = %q, want \"nope\" (header %v)", got, he.Header)
	}
	if !rep.EOF {
		t.Errorf("the client did not close the connection")
	}
}

// The body of a refusal may be anything, e.g. a redirect without a
// Location: the status is what counts.
func TestRawHandshakeOtherStatuses(t *testing.T) {
	for _, c := range []struct {
		status string
		code   int
	}{{"200 OK", 200}, {"302 Found", 302}, {"400 Bad Request", 400}, {"503 Service Unavailable", 503}} {
		t.Run(c.status, func(t *testing.T) {
			he, _, _ := runHandshakeFailure(t, nil, func(rc *rawConn) {
				rc.write([]byte("HTTP/1.1 " + c.status + "\r\nContent-Length: 0\r\n\r\n"))
				rc.expectEOF()
			})
			if he.StatusCode != c.code {
				t.Errorf("StatusCode = %d, want %d", he.StatusCode, c.code)
			}
		})
	}
}

func TestRawHandshakeWrongAccept(t *testing.T) {
	t.Run("accept of another key", func(t *testing.T) {
		runBad101(t, nil, func(c *rawConn) {
			other := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
			c.write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: " + acceptFor(other) + "\r\n\r\n"))
			c.expectEOF()
		})
	})
	t.Run("key echoed unhashed", func(t *testing.T) {
		runBad101(t, nil, func(c *rawConn) {
			c.write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: " + c.req.Header.Get("Sec-WebSocket-Key") + "\r\n\r\n"))
			c.expectEOF()
		})
	})
	t.Run("missing", func(t *testing.T) {
		runBad101(t, nil, func(c *rawConn) {
			c.write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"))
			c.expectEOF()
		})
	})
}

func TestRawHandshakeMissingUpgrade(t *testing.T) {
	runBad101(t, nil, func(c *rawConn) {
		c.write([]byte("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: " + c.acceptValue() + "\r\n\r\n"))
		c.expectEOF()
	})
}

func TestRawHandshakeWrongUpgradeOrConnection(t *testing.T) {
	t.Run("Upgrade: h2c", func(t *testing.T) {
		runBad101(t, nil, func(c *rawConn) {
			c.write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: " + c.acceptValue() + "\r\n\r\n"))
			c.expectEOF()
		})
	})
	t.Run("HTTP/1.0", func(t *testing.T) {
		runBad101(t, nil, func(c *rawConn) {
			c.write([]byte("HTTP/1.0 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: " + c.acceptValue() + "\r\n\r\n"))
			c.expectEOF()
		})
	})
	t.Run("no Connection", func(t *testing.T) {
		runBad101(t, nil, func(c *rawConn) {
			c.write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" +
				"Sec-WebSocket-Accept: " + c.acceptValue() + "\r\n\r\n"))
			c.expectEOF()
		})
	})
}

func TestRawHandshakeProtocolNotOffered(t *testing.T) {
	runBad101(t, &websocket.Config{Protocols: []string{"chat", "chat.v2"}}, func(c *rawConn) {
		c.accept("Sec-WebSocket-Protocol: superchat")
		c.expectEOF()
	})
}

func TestRawHandshakeProtocolWhenNoneOffered(t *testing.T) {
	runBad101(t, nil, func(c *rawConn) {
		c.accept("Sec-WebSocket-Protocol: chat")
		c.expectEOF()
	})
}

// The server must select one protocol, not echo the list.
func TestRawHandshakeProtocolListEchoed(t *testing.T) {
	runBad101(t, &websocket.Config{Protocols: []string{"a", "b"}}, func(c *rawConn) {
		c.accept("Sec-WebSocket-Protocol: a, b")
		c.expectEOF()
	})
}

func TestRawHandshakeExtensionNotOffered(t *testing.T) {
	t.Run("compression off", func(t *testing.T) {
		runBad101(t, &websocket.Config{NoCompression: true}, func(c *rawConn) {
			c.accept("Sec-WebSocket-Extensions: permessage-deflate")
			c.expectEOF()
		})
	})
	t.Run("another extension", func(t *testing.T) {
		runBad101(t, nil, func(c *rawConn) {
			c.accept("Sec-WebSocket-Extensions: x-webkit-deflate-frame")
			c.expectEOF()
		})
	})
}

func TestRawHandshakeServerClosesTCP(t *testing.T) {
	t.Run("before the response", func(t *testing.T) {
		runHandshakeFailure(t, nil, func(c *rawConn) {
			c.closeTCP()
		})
	})
	t.Run("inside the status line", func(t *testing.T) {
		runHandshakeFailure(t, nil, func(c *rawConn) {
			c.write([]byte("HTTP/1.1 10"))
			c.closeTCP()
		})
	})
	t.Run("inside the headers", func(t *testing.T) {
		runHandshakeFailure(t, nil, func(c *rawConn) {
			full := string(c.response101())
			c.write([]byte(full[:len(full)-2])) // all but the blank line
			c.closeTCP()
		})
	})
	t.Run("reset", func(t *testing.T) {
		runHandshakeFailure(t, nil, func(c *rawConn) {
			c.reset()
		})
	})
}

func TestRawHandshakeNotHTTP(t *testing.T) {
	runHandshakeFailure(t, nil, func(c *rawConn) {
		c.write([]byte("SSH-2.0-OpenSSH_9.6\r\n"))
		c.expectEOF()
	})
}

// A silent server: the handshake fails after HandshakeTimeout, and the
// error wraps context.DeadlineExceeded.
func TestRawHandshakeTimeout(t *testing.T) {
	he, tc, rep := runHandshakeFailure(t, &websocket.Config{HandshakeTimeout: 300 * time.Millisecond}, func(c *rawConn) {
		c.expectEOF() // the client gives up and closes
	})
	if !errors.Is(he, context.DeadlineExceeded) {
		t.Errorf("error %v does not wrap context.DeadlineExceeded", he)
	}
	if tc.Elapsed < 290*time.Millisecond {
		t.Errorf("failed after %v, before the 300ms HandshakeTimeout", tc.Elapsed)
	}
	if !rep.EOF {
		t.Errorf("the client did not close the connection")
	}
}

// The same, repeated with a short timeout: the error must wrap
// context.DeadlineExceeded every time, not only when the context's timer
// happens to fire before the connection's read deadline (both are set to the
// same instant). The server is a listener that never accepts: the kernel
// completes the TCP handshake and takes the request, and nobody answers.
// Under load the 50 ms may run out earlier, while connecting or writing;
// the error must wrap context.DeadlineExceeded wherever it does.
func TestRawHandshakeTimeoutAlwaysDeadlineExceeded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	failures := 0
	const runs = 10
	for range runs {
		tc := newTraceClient(t, "ws://"+ln.Addr().String()+"/", &websocket.Config{HandshakeTimeout: 50 * time.Millisecond})
		tc.run()
		// A *HandshakeError when the time ran out waiting for the answer,
		// as it does on a quiet machine; a *ConnectError when it ran out
		// while connecting.
		if len(tc.Trace) != 2 || tc.Trace[1] != traceAbnormal ||
			tc.Trace[0] != "error CLOSED HandshakeError" && tc.Trace[0] != "error CLOSED ConnectError" {
			t.Errorf("event trace %q, want an error (HandshakeError or ConnectError) and close 1006", tc.Trace)
		}
		if len(tc.Errors) == 1 && !errors.Is(tc.Errors[0], context.DeadlineExceeded) {
			failures++
			t.Logf("error %q does not wrap context.DeadlineExceeded", tc.Errors[0])
		}
	}
	if failures > 0 {
		t.Errorf("%d of %d handshake timeouts did not wrap context.DeadlineExceeded", failures, runs)
	}
}

// The server sends the status line and then nothing: the timeout still
// applies.
func TestRawHandshakeTimeoutInsideResponse(t *testing.T) {
	he, _, _ := runHandshakeFailure(t, &websocket.Config{HandshakeTimeout: 300 * time.Millisecond}, func(c *rawConn) {
		c.write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"))
		c.expectEOF()
	})
	if !errors.Is(he, context.DeadlineExceeded) {
		t.Errorf("error %v does not wrap context.DeadlineExceeded", he)
	}
}

// Close while connecting fails the connection (error, then close 1006) and
// aborts the dial: the server sees the client's EOF at once.
func TestRawCloseWhileConnecting(t *testing.T) {
	loop := websocket.NewEventLoop()
	wsCh := make(chan *websocket.WebSocket, 1)
	var stateAfterClose websocket.ReadyState
	srv := startRawServer(t, func(c *rawConn) {
		// The request is here: the client is connecting. Close it from a
		// task on its loop, and stay silent.
		ws := <-wsCh
		loop.Post(func() {
			ws.Close()
			stateAfterClose = ws.ReadyState()
		})
		c.expectEOFWithin(2 * time.Second)
	})
	tc := newTraceClient(t, srv.URL, &websocket.Config{Loop: loop})
	wsCh <- tc.WS
	tc.run()
	rep := srv.report(t)
	tc.expectTrace("error CLOSED ErrClosedWhileConnecting", traceAbnormal)
	if stateAfterClose != websocket.Closing {
		t.Errorf("ReadyState right after Close while connecting = %v, want CLOSING", stateAfterClose)
	}
	if !rep.EOF {
		t.Errorf("the dial was not aborted")
	}
	if tc.Elapsed > 4*time.Second {
		t.Errorf("Run took %v: the dial was not aborted", tc.Elapsed)
	}
}

// Close called from another goroutine while connecting, and a server that
// answers 101 anyway, racing with it: either way no open event, error then
// close 1006.
func TestRawCloseWhileConnectingServerAccepts(t *testing.T) {
	wsCh := make(chan *websocket.WebSocket, 1)
	sent := make(chan int64, 1)
	srv := startRawServer(t, func(c *rawConn) {
		ws := <-wsCh
		ws.Close() // from the server's goroutine: Close is safe from any goroutine
		// The client may already have closed the connection: write and
		// read without failing on a reset.
		c.nc.Write(cat(c.response101(), textFrame("too late")))
		n, _ := io.Copy(io.Discard, c.br)
		sent <- n
	})
	tc := newTraceClient(t, srv.URL, nil)
	wsCh <- tc.WS
	tc.run()
	srv.report(t)
	tc.expectTrace("error CLOSED ErrClosedWhileConnecting", traceAbnormal)
	if n := <-sent; n != 0 {
		t.Errorf("client sent %d bytes after the 101", n)
	}
}

// What the client puts in its upgrade request, and Protocol() in OnOpen.
func TestRawHandshakeRequest(t *testing.T) {
	var protocolAtOpen, protocolAfter string
	srv := startRawServer(t, func(c *rawConn) {
		c.accept("Sec-WebSocket-Protocol: chat.v2")
		c.answerClose(1000, "")
	})
	hdr := http.Header{}
	hdr.Set("X-Extra", "1")
	hdr.Add("X-Multi", "a")
	hdr.Add("X-Multi", "b")
	hdr.Set("Authorization", "Bearer t0ken")
	url := strings.TrimSuffix(srv.URL, "/") + "/chat/room?x=1&y=two"
	tc := newTraceClient(t, url, &websocket.Config{
		Protocols: []string{"chat.v1", "chat.v2", "superchat"},
		Origin:    "https://app.example.test",
		UserAgent: "raw-test/1.0",
		Header:    hdr,
	})
	tc.OnOpen = func(ws *websocket.WebSocket) {
		protocolAtOpen = ws.Protocol()
		ws.CloseWith(1000, "")
	}
	tc.OnClose = func(ws *websocket.WebSocket, _ websocket.CloseEvent) { protocolAfter = ws.Protocol() }
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, traceCleanNormal)
	if protocolAtOpen != "chat.v2" {
		t.Errorf("Protocol() in OnOpen = %q, want \"chat.v2\"", protocolAtOpen)
	}
	if protocolAfter != "chat.v2" {
		t.Errorf("Protocol() in OnClose = %q, want \"chat.v2\" (it keeps its value)", protocolAfter)
	}
	req := rep.Req
	if req == nil {
		t.Fatal("no request")
	}
	if req.Method != "GET" || req.ProtoMajor != 1 || req.ProtoMinor != 1 {
		t.Errorf("request line: %s %s %s", req.Method, req.RequestURI, req.Proto)
	}
	if req.RequestURI != "/chat/room?x=1&y=two" {
		t.Errorf("request target %q, want \"/chat/room?x=1&y=two\"", req.RequestURI)
	}
	if req.Host != srv.Addr {
		t.Errorf("Host %q, want %q", req.Host, srv.Addr)
	}
	want := map[string]string{
		"Upgrade":                "websocket",
		"Sec-Websocket-Version":  "13",
		"Sec-Websocket-Protocol": "chat.v1, chat.v2, superchat",
		"Origin":                 "https://app.example.test",
		"User-Agent":             "raw-test/1.0",
		"X-Extra":                "1",
		"Authorization":          "Bearer t0ken",
	}
	for k, v := range want {
		if got := req.Header.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("request header %s = %q, want [%q]", k, got, v)
		}
	}
	if got := strings.ToLower(req.Header.Get("Connection")); !strings.Contains(got, "upgrade") {
		t.Errorf("Connection = %q, want it to contain upgrade", got)
	}
	if got := strings.Join(req.Header.Values("X-Multi"), ","); got != "a,b" {
		t.Errorf("X-Multi = %q, want both values a and b", got)
	}
	if k, err := base64.StdEncoding.DecodeString(req.Header.Get("Sec-WebSocket-Key")); err != nil || len(k) != 16 {
		t.Errorf("Sec-WebSocket-Key %q is not 16 bytes of base64", req.Header.Get("Sec-WebSocket-Key"))
	}
	// Compression is offered by default, in Chromium's words.
	if got := req.Header.Values("Sec-Websocket-Extensions"); len(got) != 1 || got[0] != "permessage-deflate; client_max_window_bits" {
		t.Errorf("Sec-WebSocket-Extensions %q offered, want Chromium's offer", got)
	}
}

// Without Origin and UserAgent: no Origin header, the default User-Agent, no
// Sec-WebSocket-Protocol; a server that selects no protocol leaves
// Protocol() empty.
func TestRawHandshakeRequestDefaults(t *testing.T) {
	var protocolAtOpen = "unset"
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.answerClose(1000, "")
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.OnOpen = func(ws *websocket.WebSocket) {
		protocolAtOpen = ws.Protocol()
		ws.CloseWith(1000, "")
	}
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, traceCleanNormal)
	if protocolAtOpen != "" {
		t.Errorf("Protocol() = %q, want empty", protocolAtOpen)
	}
	if rep.Req == nil {
		t.Fatal("no request")
	}
	h := rep.Req.Header
	if v, ok := h["Origin"]; ok {
		t.Errorf("Origin %q sent, want none", v)
	}
	if v, ok := h["Sec-Websocket-Protocol"]; ok {
		t.Errorf("Sec-WebSocket-Protocol %q sent, want none", v)
	}
	if got := h.Get("User-Agent"); got != websocket.DefaultUserAgent {
		t.Errorf("User-Agent %q, want %q", got, websocket.DefaultUserAgent)
	}
	if rep.Req.RequestURI != "/" {
		t.Errorf("request target %q, want \"/\"", rep.Req.RequestURI)
	}
}

// Offered protocols, the server selects none: open, Protocol() empty.
// A server that selects none of the protocols offered fails the
// connection, as the WHATWG standard and every browser do.
func TestRawHandshakeOfferedProtocolNotSelected(t *testing.T) {
	runBad101(t, &websocket.Config{Protocols: []string{"a", "b"}}, func(c *rawConn) {
		c.accept()
		c.expectEOF()
	})
}

// A Connection header listing the upgrade token among others is valid
// (RFC 6455 4.1), as browsers accept it.
func TestRawHandshakeConnectionTokenList(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		resp := strings.Replace(string(c.response101()), "Connection: Upgrade", "Connection: keep-alive, Upgrade", 1)
		if resp == string(c.response101()) {
			c.fail("the response has no Connection: Upgrade line to rewrite")
		}
		c.write([]byte(resp), textFrame("ok"))
		c.finish(1000, "")
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.run()
	srv.report(t)
	tc.expectTrace(traceOpen, `message OPEN text "ok"`, traceCleanNormal)
}

// The 101 response written one byte at a time.
func TestRawHandshakeResponseBytewise(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.writeBytewise(c.response101("Sec-WebSocket-Protocol: p"), textFrame("hello"))
		c.finish(1000, "")
	})
	var protocolAtOpen string
	tc := newTraceClient(t, srv.URL, &websocket.Config{Protocols: []string{"p"}})
	tc.OnOpen = func(ws *websocket.WebSocket) { protocolAtOpen = ws.Protocol() }
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, `message OPEN text "hello"`, traceCleanNormal)
	if protocolAtOpen != "p" {
		t.Errorf("Protocol() = %q, want \"p\"", protocolAtOpen)
	}
	checkOnlyClose(t, rep, 1000)
}

// Headers the handshake does not know about in the 101 response are
// ignored; case does not matter in the ones it checks.
func TestRawHandshakeResponseHeaderCase(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.write([]byte("HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nCONNECTION: upgrade\r\n" +
			"sec-websocket-accept: " + c.acceptValue() + "\r\nServer: raw\r\nSet-Cookie: a=b\r\n\r\n"))
		c.finish(1000, "")
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, traceCleanNormal)
	checkOnlyClose(t, rep, 1000)
}

// A closed loopback port: a *ConnectError, error then close 1006.
func TestRawConnectRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	tc := newTraceClient(t, "ws://"+addr+"/", nil)
	tc.run()
	tc.expectTrace("error CLOSED ConnectError", traceAbnormal)
	if len(tc.Errors) != 1 {
		t.Fatalf("%d error events", len(tc.Errors))
	}
	var ce *websocket.ConnectError
	if !errors.As(tc.Errors[0], &ce) {
		t.Fatalf("error %T %v, want *websocket.ConnectError", tc.Errors[0], tc.Errors[0])
	}
	if ce.Addr != addr {
		t.Errorf("ConnectError.Addr = %q, want %q", ce.Addr, addr)
	}
	if !errors.Is(tc.Errors[0], syscall.ECONNREFUSED) {
		t.Errorf("error %v does not wrap ECONNREFUSED", tc.Errors[0])
	}
	var he *websocket.HandshakeError
	if errors.As(tc.Errors[0], &he) {
		t.Errorf("a connect error is also a HandshakeError")
	}
}

// A 101 with a header RFC 6455 allows once given twice fails the
// connection, as in Chromium: error, then close 1006, never open with the
// last value.
func TestRawHandshakeRepeatedHeaders(t *testing.T) {
	cfg := &websocket.Config{Protocols: []string{"chat", "superchat"}}
	t.Run("Sec-WebSocket-Protocol", func(t *testing.T) {
		runBad101(t, cfg, func(c *rawConn) {
			c.accept("Sec-WebSocket-Protocol: chat", "Sec-WebSocket-Protocol: superchat")
			c.expectEOF()
		})
	})
	t.Run("Sec-WebSocket-Protocol, same value", func(t *testing.T) {
		runBad101(t, cfg, func(c *rawConn) {
			c.accept("Sec-WebSocket-Protocol: chat", "sec-websocket-protocol: chat")
			c.expectEOF()
		})
	})
	t.Run("Sec-WebSocket-Accept", func(t *testing.T) {
		runBad101(t, nil, func(c *rawConn) {
			c.accept("Sec-WebSocket-Accept: " + c.acceptValue())
			c.expectEOF()
		})
	})
}

// A refusal's error names the status line the server sent, and carries its
// headers and the first bytes of its body (at most 1 KiB).
func TestRawHandshakeRefusalDetails(t *testing.T) {
	for _, tc := range []struct {
		name, resp, line string
		code             int
		header, value    string
		body             string
	}{
		{"plain HTTP/1.0 server", "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: 18\r\n\r\n<html>hello</html>",
			"HTTP/1.0 200 OK", 200, "Content-Type", "text/html", "<html>hello</html>"},
		{"404", "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot here!",
			"HTTP/1.1 404 Not Found", 404, "Content-Length", "9", "not here!"},
		{"503 Retry-After", "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 120\r\nContent-Length: 5\r\n\r\nlater",
			"HTTP/1.1 503 Service Unavailable", 503, "Retry-After", "120", "later"},
		{"large body", "HTTP/1.1 500 Oops\r\nContent-Length: 5000\r\n\r\n" + strings.Repeat("x", 5000),
			"HTTP/1.1 500 Oops", 500, "Content-Length", "5000", strings.Repeat("x", 1024)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			he, _, _ := runHandshakeFailure(t, nil, func(c *rawConn) {
				c.write([]byte(tc.resp))
				c.closeTCP()
			})
			if he.StatusCode != tc.code || he.Status != tc.line || he.Header.Get(tc.header) != tc.value || string(he.Body) != tc.body {
				t.Errorf("HandshakeError{%d %q %v body %q}, want %d %q %s: %s, body %q",
					he.StatusCode, he.Status, he.Header, he.Body, tc.code, tc.line, tc.header, tc.value, tc.body)
			}
			if !strings.Contains(he.Error(), strconv.Quote(tc.line)) {
				t.Errorf("message %q does not name the status line", he.Error())
			}
		})
	}
}

// The handshake response's header reaches the OpenEvent, and ResponseHeader
// for a socket made by Dial.
func TestResponseHeader(t *testing.T) {
	script := func(c *rawConn) {
		c.accept("Set-Cookie: a=1", "Set-Cookie: b=2", "X-Server: raw")
		c.answerClose(1000, "")
	}
	srv := startRawServer(t, script, script)

	l := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL, &websocket.Config{Loop: l})
	if err != nil {
		t.Fatal(err)
	}
	var got http.Header
	ws.OnOpen = func(e websocket.OpenEvent) {
		got = e.Header()
		ws.Close()
	}
	runLoop(t, l, 10*time.Second)
	if got.Get("X-Server") != "raw" || len(got.Values("Set-Cookie")) != 2 || got.Get("Upgrade") != "websocket" {
		t.Errorf("OpenEvent.Header = %v", got)
	}
	if h := ws.ResponseHeader(); h != nil {
		t.Errorf("a socket from New keeps its response header: %v", h)
	}

	d, err := websocket.Dial(context.Background(), srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if h := d.ResponseHeader(); h.Get("X-Server") != "raw" || len(h.Values("Set-Cookie")) != 2 {
		t.Errorf("ResponseHeader() = %v", h)
	}
}
