package dial

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"
)

// fakeProxy runs script on the server end of a pipe; the client end is
// returned. These unit tests pin the bytes of each request and the reading
// of each answer; the real proxies are in test/proxy.
func fakeProxy(t *testing.T, script func(c net.Conn)) net.Conn {
	t.Helper()
	client, server := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		script(server)
	}()
	t.Cleanup(func() {
		client.Close()
		<-done
	})
	return client
}

// expect reads len(want) bytes and fails the test when they differ.
func expect(t *testing.T, c net.Conn, want []byte) {
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Errorf("reading the request: %v", err)
		return
	}
	if !bytes.Equal(got, want) {
		t.Errorf("request % x, want % x", got, want)
	}
}

func proxyURL(t *testing.T, s string) *url.URL {
	t.Helper()
	p, err := ParseProxy(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func wantProxyError(t *testing.T, err error, f ProxyFailure, reply int) {
	t.Helper()
	var pe *ProxyError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T), want a *ProxyError", err, err)
	}
	if pe.Failure != f || pe.Reply != reply {
		t.Errorf("failure %d reply %d (%v), want %d and %d", pe.Failure, pe.Reply, err, f, reply)
	}
}

func TestSOCKS5Bytes(t *testing.T) {
	c := fakeProxy(t, func(c net.Conn) {
		expect(t, c, []byte{5, 2, 0, 2})
		c.Write([]byte{5, 2})
		expect(t, c, []byte{1, 1, 'u', 3, 'p', 'w', 'd'})
		c.Write([]byte{1, 0})
		expect(t, c, []byte{5, 1, 0, 3, 9, 'h', 'o', 's', 't', '.', 't', 'e', 's', 't', 0x1f, 0x90})
		// A bound address given as a name, then the target's first bytes,
		// which must stay unread.
		c.Write([]byte{5, 0, 0, 3, 2, 'b', 'n', 0, 1, 'X'})
	})
	if err := socksConnect(c, proxyURL(t, "socks5h://u:pwd@p"), "host.test", 8080); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if _, err := io.ReadFull(c, b); err != nil || b[0] != 'X' {
		t.Errorf("after the reply: %q, %v", b, err)
	}
}

func TestSOCKS5IPv6AndNoAuth(t *testing.T) {
	c := fakeProxy(t, func(c net.Conn) {
		expect(t, c, []byte{5, 1, 0})
		c.Write([]byte{5, 0})
		expect(t, c, append(append([]byte{5, 1, 0, 4}, net.ParseIP("2001:db8::1")...), 0, 80))
		c.Write(append([]byte{5, 0, 0, 1, 1, 2, 3, 4}, 0, 1))
	})
	if err := socksConnect(c, proxyURL(t, "socks5://p"), "2001:db8::1", 80); err != nil {
		t.Fatal(err)
	}
}

func TestSOCKS5Failures(t *testing.T) {
	cases := []struct {
		name   string
		proxy  string
		answer []byte // after the client's greeting (and login)
		f      ProxyFailure
		reply  int
	}{
		{"no method acceptable", "socks5://p", []byte{5, 0xff}, ProxyAuthFailed, 0},
		{"login refused", "socks5://u:p@p", []byte{5, 2, 1, 1}, ProxyAuthFailed, 1},
		{"method not offered", "socks5://p", []byte{5, 2}, ProxyBadResponse, 0},
		{"not SOCKS5", "socks5://p", []byte("HTTP/1.1 400 Bad\r\n"), ProxyBadResponse, 0},
		{"ruleset", "socks5://p", []byte{5, 0, 5, 2, 0, 1}, ProxyRefused, 2},
		{"general failure", "socks5://p", []byte{5, 0, 5, 1, 0, 1}, ProxyRefused, 1},
		{"host unreachable", "socks5://p", []byte{5, 0, 5, 4, 0, 1}, ProxyTargetUnreachable, 4},
		{"connection refused", "socks5://p", []byte{5, 0, 5, 5, 0, 1}, ProxyTargetUnreachable, 5},
		{"closed early", "socks5://p", []byte{5, 0, 5}, ProxyBadResponse, 0},
		{"bad address type", "socks5://p", []byte{5, 0, 5, 0, 0, 9}, ProxyBadResponse, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := fakeProxy(t, func(c net.Conn) {
				go io.Copy(io.Discard, c)
				c.Write(tc.answer)
			})
			wantProxyError(t, socksConnect(c, proxyURL(t, tc.proxy), "10.0.0.1", 80), tc.f, tc.reply)
		})
	}
}

func TestSOCKS4Bytes(t *testing.T) {
	c := fakeProxy(t, func(c net.Conn) {
		expect(t, c, []byte{4, 1, 0, 80, 10, 0, 0, 1, 'i', 'd', 0})
		c.Write([]byte{0, 90, 0, 0, 0, 0, 0, 0})
	})
	if err := socksConnect(c, proxyURL(t, "socks4://id@p"), "10.0.0.1", 80); err != nil {
		t.Fatal(err)
	}
	c = fakeProxy(t, func(c net.Conn) {
		expect(t, c, []byte{4, 1, 1, 0, 0, 0, 0, 1, 0, 'h', '.', 't', 0})
		c.Write([]byte{0, 90, 0, 0, 0, 0, 0, 0})
	})
	if err := socksConnect(c, proxyURL(t, "socks4a://p"), "h.t", 256); err != nil {
		t.Fatal(err)
	}
}

func TestSOCKS4Failures(t *testing.T) {
	for _, tc := range []struct {
		answer []byte
		f      ProxyFailure
		reply  int
	}{
		{[]byte{0, 91, 0, 0, 0, 0, 0, 0}, ProxyRefused, 91},
		{[]byte{0, 92, 0, 0, 0, 0, 0, 0}, ProxyAuthFailed, 92},
		{[]byte{0, 93, 0, 0, 0, 0, 0, 0}, ProxyAuthFailed, 93},
		{[]byte{5, 0}, ProxyBadResponse, 0},
		{[]byte{4, 90, 0, 0, 0, 0, 0, 0}, ProxyBadResponse, 0},
	} {
		c := fakeProxy(t, func(c net.Conn) {
			go io.Copy(io.Discard, c)
			c.Write(tc.answer)
		})
		wantProxyError(t, socksConnect(c, proxyURL(t, "socks4://p"), "10.0.0.1", 80), tc.f, tc.reply)
	}
	// SOCKS4 has no room for a name or an IPv6 address: refused before
	// anything is sent.
	c := fakeProxy(t, func(c net.Conn) {})
	wantProxyError(t, socksConnect(c, proxyURL(t, "socks4://p"), "2001:db8::1", 80), ProxyRefused, 0)
}

func TestHTTPConnect(t *testing.T) {
	c := fakeProxy(t, func(c net.Conn) {
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			t.Error(err)
			return
		}
		if req.Method != "CONNECT" || req.RequestURI != "[2001:db8::1]:443" || req.Host != "[2001:db8::1]:443" {
			t.Errorf("request %s %s host %s", req.Method, req.RequestURI, req.Host)
		}
		if user, pass, ok := req.BasicAuth(); ok || user != "" || pass != "" {
			t.Errorf("Authorization sent to a proxy")
		}
		if got := req.Header.Get("Proxy-Authorization"); got != "Basic dTpwQHNz" {
			t.Errorf("Proxy-Authorization %q", got)
		}
		if got := req.Header.Get("X-Proxy"); got != "1" {
			t.Errorf("X-Proxy %q", got)
		}
		c.Write([]byte("HTTP/1.1 200 Connection established\r\nProxy-Agent: fake\r\n\r\n"))
	})
	p := proxyURL(t, "http://u:p%40ss@p")
	if err := httpConnect(c, p, "[2001:db8::1]:443", http.Header{"X-Proxy": {"1"}}); err != nil {
		t.Fatal(err)
	}
}

func TestHTTPConnectFailures(t *testing.T) {
	for _, tc := range []struct {
		answer string
		f      ProxyFailure
		status int
	}{
		{"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 0\r\n\r\n", ProxyAuthFailed, 407},
		{"HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"tinyproxy\"\r\n\r\n", ProxyAuthFailed, 401},
		{"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", ProxyRefused, 403},
		{"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n", ProxyTargetUnreachable, 502},
		{"HTTP/1.0 500 Unable to connect\r\n\r\n", ProxyTargetUnreachable, 500},
		{"SSH-2.0-OpenSSH\r\n", ProxyBadResponse, 0},
		{"HTTP/1.1 200 OK\r\n\r\nextra", ProxyBadResponse, 0},
	} {
		c := fakeProxy(t, func(c net.Conn) {
			go io.Copy(io.Discard, c)
			c.Write([]byte(tc.answer))
		})
		err := httpConnect(c, proxyURL(t, "http://p"), "h:80", nil)
		wantProxyError(t, err, tc.f, 0)
		var pe *ProxyError
		if errors.As(err, &pe) && pe.StatusCode != tc.status {
			t.Errorf("%q: status %d, want %d", tc.answer, pe.StatusCode, tc.status)
		}
	}
}
