package dial

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsloop/websocket/internal/poll"
	"github.com/wsloop/websocket/internal/weburl"
)

// greeting is what the test server sends right after its 101 response, in
// the same write: it reaches the client with the handshake.
const greeting = "first frames"

// echoServer is a wss:// server that upgrades, greets and then echoes raw
// bytes; tlsCfg adjusts its TLS configuration.
func echoServer(t *testing.T, tlsCfg func(*tls.Config)) (*weburl.URL, *x509.CertPool) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return
		}
		defer conn.Close()
		conn.Write([]byte(greeting))
		io.Copy(conn, conn)
	}))
	srv.TLS = &tls.Config{}
	if tlsCfg != nil {
		tlsCfg(srv.TLS)
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	u, _ := weburl.Parse(strings.Replace(srv.URL, "https://", "wss://", 1))
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	return u, roots
}

// handler keeps what the poller reports.
type handler struct {
	data    []byte
	hangups int
}

func (h *handler) OnRead(p []byte) { h.data = append(h.data, p...) }
func (h *handler) OnWritable()     {}
func (h *handler) OnHangup(error)  { h.hangups++ }

func waitFor(t *testing.T, p poll.Poller, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		if err := p.Wait(50 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
}

// roundTrip adds res's connection to p and checks the greeting and an echo.
func roundTrip(t *testing.T, p poll.Poller, res Result) {
	t.Helper()
	h := &handler{data: append([]byte(nil), res.Leftover...)}
	c, err := p.Add(res.Conn, h)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitFor(t, p, func() bool { return len(h.data) >= len(greeting) })
	if string(h.data) != greeting {
		t.Fatalf("read %q, want the greeting", h.data)
	}
	h.data = nil
	msg := bytes.Repeat([]byte("echo "), 1000)
	for off := 0; off < len(msg); {
		n, err := c.Write(msg[off:])
		if err != nil {
			t.Fatal(err)
		}
		off += n
		if off < len(msg) {
			p.Wait(50 * time.Millisecond)
		}
	}
	waitFor(t, p, func() bool { return len(h.data) >= len(msg) })
	if !bytes.Equal(h.data, msg) {
		t.Fatal("the echo differs")
	}
}

// TestDialWSSPortable: the portable poller uses the bridged tls.Conn as a
// plain net.Conn.
func TestDialWSSPortable(t *testing.T) {
	u, roots := echoServer(t, nil)
	res, err := Dial(context.Background(), Options{URL: u, TLSConfig: &tls.Config{RootCAs: roots}})
	if err != nil {
		t.Fatal(err)
	}
	p := poll.NewPortable()
	defer p.Close()
	roundTrip(t, p, res)
}

func TestLoopable(t *testing.T) {
	for _, c := range []struct {
		v    uint16
		r    tls.RenegotiationSupport
		want bool
	}{
		{tls.VersionTLS13, tls.RenegotiateNever, true},
		{tls.VersionTLS13, tls.RenegotiateFreelyAsClient, true},
		{tls.VersionTLS12, tls.RenegotiateNever, true},
		{tls.VersionTLS12, tls.RenegotiateOnceAsClient, false},
		{tls.VersionTLS12, tls.RenegotiateFreelyAsClient, false},
	} {
		if got := loopable(c.v, &tls.Config{Renegotiation: c.r}); got != c.want {
			t.Errorf("loopable(%x, %v) = %v", c.v, c.r, got)
		}
	}
}

// TestDialWS: ws:// stays a plain TCP connection.
func TestDialWS(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _, err := ws.UpgradeHTTP(r, w)
		if err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	u, _ := weburl.Parse(strings.Replace(srv.URL, "http://", "ws://", 1))
	res, err := Dial(context.Background(), Options{URL: u})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Conn.Close()
	if _, ok := res.Conn.(*net.TCPConn); !ok {
		t.Fatalf("Conn is %T, want *net.TCPConn", res.Conn)
	}
}

// TestRequestLine: the request line carries the URL standard's request
// target byte for byte, even where net/url would escape it again or read
// it as an authority ("//"), and the Host header is the URL's host and
// port. A header larger than gobwas's write buffer makes the request go
// out in several writes.
func TestRequestLine(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	head := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			head <- err.Error()
			return
		}
		defer c.Close()
		var b []byte
		buf := make([]byte, 4096)
		for !bytes.Contains(b, []byte("\r\n\r\n")) {
			n, err := c.Read(buf)
			b = append(b, buf[:n]...)
			if err != nil {
				break
			}
		}
		head <- string(b)
	}()
	u, err := weburl.Parse("ws://" + ln.Addr().String() + "//a|b/%zz/./c?q=a b&r=é")
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 8<<10)
	Dial(context.Background(), Options{URL: u, Header: http.Header{"X-Big": {big}}})
	h := <-head
	line, rest, _ := strings.Cut(h, "\r\n")
	if want := "GET //a|b/%zz/c?q=a%20b&r=%C3%A9 HTTP/1.1"; line != want {
		t.Errorf("request line %q, want %q", line, want)
	}
	if want := "\r\nHost: " + ln.Addr().String() + "\r\n"; !strings.Contains("\r\n"+rest, want) {
		t.Errorf("no %q in %q", want, rest[:min(len(rest), 300)])
	}
	if !strings.Contains(rest, big) {
		t.Error("the large header did not arrive whole")
	}
}
