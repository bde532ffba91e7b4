package dial

import (
	"context"
	"crypto/tls"
	"runtime"
	"testing"

	"github.com/wsloop/websocket/internal/poll"
)

// TestDialWSSBridge: a wss:// dial returns a tls.Conn over a Bridge, which
// a Native takes over with no goroutine of its own, the greeting read
// along with the handshake delivered first.
func TestDialWSSBridge(t *testing.T) {
	u, roots := echoServer(t, nil)
	res, err := Dial(context.Background(), Options{URL: u, TLSConfig: &tls.Config{RootCAs: roots}})
	if err != nil {
		t.Fatal(err)
	}
	tc, ok := res.Conn.(*tls.Conn)
	if !ok {
		t.Fatalf("Conn is %T, want *tls.Conn", res.Conn)
	}
	if _, ok := tc.NetConn().(*poll.Bridge); !ok {
		t.Fatalf("the tls.Conn runs over %T, want a *poll.Bridge", tc.NetConn())
	}
	e, err := poll.NewNative()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	base := runtime.NumGoroutine()
	roundTrip(t, e, res)
	if n := runtime.NumGoroutine(); n > base {
		t.Fatalf("%d goroutines after the round trip on the Native, %d before", n, base)
	}
}

// TestDialWSSRenegotiation: a TLS 1.2 connection whose configuration
// allows renegotiation stays off the loop (its Bridge is pinned) and works.
func TestDialWSSRenegotiation(t *testing.T) {
	u, roots := echoServer(t, func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 })
	res, err := Dial(context.Background(), Options{URL: u, TLSConfig: &tls.Config{
		RootCAs:       roots,
		Renegotiation: tls.RenegotiateOnceAsClient,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if v := res.Conn.(*tls.Conn).ConnectionState().Version; v != tls.VersionTLS12 {
		t.Fatalf("version %x", v)
	}
	e, err := poll.NewNative()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	base := runtime.NumGoroutine()
	h := &handler{}
	c, err := e.Add(res.Conn, h)
	if err != nil {
		t.Fatal(err)
	}
	if n := runtime.NumGoroutine(); n <= base {
		t.Fatal("a renegotiating connection got no goroutine: the Native took it over")
	}
	c.Close()
}
