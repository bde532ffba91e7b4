package websocket_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"time"

	"github.com/wsloop/websocket"
)

// Once a dialed socket has closed and its messages are taken, the
// blocking calls return a *ClosedError: the close event, and the cause of
// a failure. Here a message over MaxMessageSize fails the connection.
func ExampleClosedError() {
	srv := startEcho()
	defer srv.Close()

	ctx := context.Background()
	ws, err := websocket.Dial(ctx, srv.URL(), &websocket.Config{MaxMessageSize: 64})
	if err != nil {
		log.Fatal(err)
	}
	ws.Send(make([]byte, 100)) // the echo is over the limit
	_, err = ws.WaitForNextMessage(ctx)

	var closed *websocket.ClosedError
	var pe *websocket.ProtocolError
	fmt.Println(errors.As(err, &closed), closed.Event.Code, closed.Event.WasClean)
	fmt.Println("ErrClosed:", errors.Is(err, websocket.ErrClosed))
	fmt.Println("cause:", errors.As(err, &pe), pe.Code)
	// Output:
	// true 1006 false
	// ErrClosed: true
	// cause: true 1009
}

// A *ProtocolError reports what broke RFC 6455 and the close code sent for
// it: here a message over MaxMessageSize, 1009.
func ExampleProtocolError() {
	srv := startEcho()
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: loop, MaxMessageSize: 64})
	if err != nil {
		log.Fatal(err)
	}
	ws.OnOpen = func(websocket.OpenEvent) { ws.Send(make([]byte, 100)) }
	ws.OnMessage = func(websocket.MessageEvent) { fmt.Println("never delivered") }
	ws.OnError = func(e websocket.ErrorEvent) {
		var pe *websocket.ProtocolError
		if errors.As(e.Err, &pe) {
			fmt.Println("sent close", pe.Code)
		}
	}
	ws.OnClose = func(c websocket.CloseEvent) { fmt.Println("close", c.Code, c.WasClean) }
	loop.Run()
	// Output:
	// sent close 1009
	// close 1006 false
}

// A *ConfigError names the field that cannot be used; nothing is dialed.
func ExampleConfigError() {
	_, err := websocket.NewWithConfig("ws://127.0.0.1:1/", &websocket.Config{
		PongTimeout: time.Second, // without PingInterval
	})
	var ce *websocket.ConfigError
	if errors.As(err, &ce) {
		fmt.Println(ce.Field)
	}
	// Output:
	// PongTimeout
}

// A *ConnectError: no TCP connection could be made. It wraps the system's
// error.
func ExampleConnectError() {
	_, err := websocket.Dial(context.Background(), "ws://127.0.0.1:1/", nil) // nothing listens on port 1
	var ce *websocket.ConnectError
	if errors.As(err, &ce) {
		fmt.Println(ce.Addr, errors.Is(err, syscall.ECONNREFUSED))
	}
	// Output:
	// 127.0.0.1:1 true
}

// A *DNSError: the host name does not resolve. (Not run: it depends on
// the machine's resolver.)
func ExampleDNSError() {
	_, err := websocket.Dial(context.Background(), "wss://no-such-host.invalid/", nil)
	var de *websocket.DNSError
	if errors.As(err, &de) {
		fmt.Println("no such host:", de.Host)
	}
}

// A *HandshakeError: the server answered the upgrade with something other
// than 101, here a 503 with Retry-After, which a program can honour.
func ExampleHandshakeError() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("overloaded"))
	}))
	defer srv.Close()

	_, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	var he *websocket.HandshakeError
	if errors.As(err, &he) {
		fmt.Println(he.StatusCode, he.Header.Get("Retry-After"), string(he.Body))
	}
	// Output:
	// 503 30 overloaded
}

// An *InvalidAccessError: CloseWith was given a code the socket may not
// send, such as 1005, which only reports a close frame without a code.
// The socket is left as it was.
func ExampleInvalidAccessError() {
	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig("ws://127.0.0.1:1/", &websocket.Config{Loop: loop})
	if err != nil {
		log.Fatal(err)
	}
	err = ws.CloseWith(websocket.CloseNoStatus, "")
	var ia *websocket.InvalidAccessError
	if errors.As(err, &ia) {
		fmt.Println(ia.Code, ia.Server, ws.ReadyState())
	}
	ws.Close()
	loop.Run()
	// Output:
	// 1005 false CONNECTING
}

// A *SyntaxError is what the browser's constructor throws: a URL it
// cannot use, a protocol list with a duplicate.
func ExampleSyntaxError() {
	for _, args := range [][]string{
		{"/chat"},               // relative: a Go program has no document
		{"ws://exa mple.org/"},  // a space in the host
		{"ws://example.org/#x"}, // a fragment
		{"ws://example.org/", "chat", "chat"},
	} {
		_, err := websocket.New(args[0], args[1:]...)
		var se *websocket.SyntaxError
		fmt.Println(errors.As(err, &se))
	}
	// Output:
	// true
	// true
	// true
	// true
}

// A *KeepaliveError: keepalive found the peer silent. Here the server
// (an Upgrader with ManualPong, whose program never answers) lets the
// client's pings go unanswered.
func ExampleKeepaliveError() {
	up := &websocket.Upgrader{ManualPong: true}
	srv := httptest.NewServer(up.Handler(func(*websocket.WebSocket, *http.Request) {}))
	defer srv.Close()

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig("ws"+strings.TrimPrefix(srv.URL, "http"), &websocket.Config{
		Loop:         loop,
		PingInterval: 20 * time.Millisecond,
		PongTimeout:  50 * time.Millisecond,
	})
	if err != nil {
		log.Fatal(err)
	}
	ws.OnError = func(e websocket.ErrorEvent) {
		var ke *websocket.KeepaliveError
		var timeout interface{ Timeout() bool }
		fmt.Println(errors.As(e.Err, &ke), ke.PingUnanswered, ke.Silence >= 50*time.Millisecond) // silent for at least PongTimeout
		fmt.Println("a timeout:", errors.As(e.Err, &timeout) && timeout.Timeout())
	}
	ws.OnClose = func(c websocket.CloseEvent) { fmt.Println("close", c.Code) }
	loop.Run()
	up.Shutdown(context.Background())
	// Output:
	// true true true
	// a timeout: true
	// close 1006
}

// A *ProxyError says at which hop a dial through a proxy failed: here an
// HTTP proxy that wants credentials.
func ExampleProxyError() {
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Proxy-Authenticate", `Basic realm="proxy"`)
		w.WriteHeader(http.StatusProxyAuthRequired)
	}))
	defer proxy.Close()

	_, err := websocket.Dial(context.Background(), "ws://example.org/", &websocket.Config{Proxy: proxy.URL})
	var pe *websocket.ProxyError
	if errors.As(err, &pe) {
		fmt.Println(pe.Failure == websocket.ProxyAuthFailed, pe.StatusCode)
	}
	// Output:
	// true 407
}

// The hops a dial through a proxy can fail at.
func ExampleProxyFailure() {
	for _, f := range []websocket.ProxyFailure{
		websocket.ProxyUnreachable,
		websocket.ProxyAuthFailed,
		websocket.ProxyRefused,
		websocket.ProxyTargetUnreachable,
		websocket.ProxyBadResponse,
	} {
		fmt.Println(f)
	}
	// Output:
	// proxy unreachable
	// proxy authentication failed
	// proxy refused the tunnel
	// proxy could not reach the server
	// proxy answered outside its protocol
}

// A *ResourceError: the connection opened, but the system refused it a
// file descriptor or a place in the poller. (Not run: it needs the
// process's open-file limit reached.)
func ExampleResourceError() {
	ws, err := websocket.Dial(context.Background(), "ws://127.0.0.1:8080/", nil)
	var re *websocket.ResourceError
	switch {
	case errors.As(err, &re) && errors.Is(err, syscall.EMFILE):
		fmt.Println("out of file descriptors: raise the limit (ulimit -n) or close sockets")
	case err != nil:
		fmt.Println(err)
	default:
		ws.Close()
	}
}

// The reasons a certificate is refused, from TLSError.Reason (see
// ExampleTLSError).
func ExampleTLSReason() {
	for _, r := range []websocket.TLSReason{
		websocket.TLSOther,
		websocket.TLSUnknownAuthority,
		websocket.TLSNameMismatch,
		websocket.TLSExpired,
		websocket.TLSBadCertificate,
	} {
		fmt.Println(r)
	}
	// Output:
	// TLS failure
	// certificate signed by an unknown authority
	// certificate not valid for the host
	// certificate expired or not yet valid
	// certificate invalid
}

// An *UpgradeError is a request the Upgrader refused, already answered
// with its status: here a plain GET.
func ExampleUpgradeError() {
	up := &websocket.Upgrader{}
	refused := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r)
		if err != nil {
			refused <- err
			return
		}
		ws.Close()
	}))
	defer srv.Close()

	resp, err := http.Get(srv.URL)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	var ue *websocket.UpgradeError
	if errors.As(<-refused, &ue) {
		fmt.Println(ue.Status, resp.StatusCode)
	}
	// Output:
	// 426 426
}
