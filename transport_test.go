package websocket_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/internal/echoserver"
)

// tlsEcho is a wss:// echo server with a certificate only its own pool
// trusts.
func tlsEcho(t *testing.T) (url string, roots *x509.CertPool) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return
		}
		defer conn.Close()
		for {
			msg, op, err := wsutil.ReadClientData(conn)
			if err != nil {
				return
			}
			if err := wsutil.WriteServerMessage(conn, op, msg); err != nil {
				return
			}
		}
	}))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots = x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	return "wss" + srv.URL[len("https"):], roots
}

func TestWSSEcho(t *testing.T) {
	url, roots := tlsEcho(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := websocket.Dial(ctx, url, &websocket.Config{TLSConfig: &tls.Config{RootCAs: roots}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendText("over tls"); err != nil {
		t.Fatal(err)
	}
	m, err := c.WaitForNextMessage(ctx)
	if err != nil || m.Text() != "over tls" || m.Binary {
		t.Fatalf("got %q binary=%t, %v", m.Data, m.Binary, err)
	}
	c.Close()
	if _, err := c.WaitForNextMessage(ctx); !errors.Is(err, websocket.ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}

func TestTLSErrorIsDistinct(t *testing.T) {
	url, _ := tlsEcho(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := websocket.Dial(ctx, url, nil) // the system roots do not trust the test certificate
	var te *websocket.TLSError
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &te) || !errors.As(err, &unknown) {
		t.Fatalf("err = %v (%T), want *TLSError wrapping x509.UnknownAuthorityError", err, err)
	}
	var he *websocket.HandshakeError
	var ce *websocket.ConnectError
	if errors.As(err, &he) || errors.As(err, &ce) {
		t.Fatal("TLS error also matches another dial error type")
	}
}

func TestDNSErrorIsDistinct(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := websocket.Dial(ctx, "ws://no-such-host.invalid/", &websocket.Config{HandshakeTimeout: 5 * time.Second})
	var de *websocket.DNSError
	if !errors.As(err, &de) || de.Host != "no-such-host.invalid" {
		t.Fatalf("err = %v (%T), want *DNSError", err, err)
	}
	var ce *websocket.ConnectError
	if errors.As(err, &ce) {
		t.Fatal("DNS error also matches ConnectError")
	}
}

func TestDialContextCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := websocket.Dial(ctx, "ws://127.0.0.1:1/", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// A panic in one socket's handler is reported and neither that socket nor
// its neighbours on the loop stop working.
func TestPanicInHandlerSparesOtherSockets(t *testing.T) {
	srv, err := echoserver.Listen("127.0.0.1:0", echoserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	l := websocket.NewEventLoop()
	panics := 0
	l.OnPanic = func(any, []byte) { panics++ }
	got := map[string]int{}
	for _, name := range []string{"faulty", "healthy"} {
		ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{Loop: l})
		if err != nil {
			t.Fatal(err)
		}
		ws.OnOpen = func(websocket.OpenEvent) {
			for range 3 {
				ws.SendText(name)
			}
		}
		ws.OnMessage = func(m websocket.MessageEvent) {
			got[name]++
			if got[name] == 3 {
				ws.Close()
			}
			if name == "faulty" {
				panic("handler bug")
			}
		}
	}
	runLoop(t, l, 10*time.Second)
	if got["faulty"] != 3 || got["healthy"] != 3 || panics != 3 {
		t.Fatalf("messages %v, panics %d", got, panics)
	}
}

// Handlers set right after New on the loop's goroutine, while the loop
// runs, see every event: events are tasks, never fired from New.
func TestHandlersSetAfterNewOnLoopSeeOpen(t *testing.T) {
	srv, err := echoserver.Listen("127.0.0.1:0", echoserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	l := websocket.NewEventLoop()
	var trace []string
	for _, url := range []string{srv.URL(), "ws://127.0.0.1:1/"} {
		l.Post(func() {
			ws, err := websocket.NewWithConfig(url, &websocket.Config{Loop: l})
			if err != nil {
				t.Error(err)
				return
			}
			ws.OnOpen = func(websocket.OpenEvent) { trace = append(trace, "open"); ws.Close() }
			ws.OnError = func(websocket.ErrorEvent) { trace = append(trace, "error") }
			ws.OnClose = func(c websocket.CloseEvent) { trace = append(trace, "close") }
		})
	}
	runLoop(t, l, 10*time.Second)
	opens, errs, closes := 0, 0, 0
	for _, e := range trace {
		switch e {
		case "open":
			opens++
		case "error":
			errs++
		case "close":
			closes++
		}
	}
	if opens != 1 || errs != 1 || closes != 2 {
		t.Fatalf("trace %v", trace)
	}
}

func TestBlockingReceiveNeedsDial(t *testing.T) {
	l := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig("ws://127.0.0.1:1/", &websocket.Config{Loop: l})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ws.WaitForNextMessage(context.Background()); !errors.Is(err, websocket.ErrNotDialed) {
		t.Fatalf("err = %v", err)
	}
	if _, err := ws.LowLevelReceive(context.Background()); !errors.Is(err, websocket.ErrNotDialed) {
		t.Fatalf("err = %v", err)
	}
	runLoop(t, l, 10*time.Second)
}
