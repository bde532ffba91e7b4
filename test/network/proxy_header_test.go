package network

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"

	"github.com/gorilla/websocket"

	wsloop "github.com/wsloop/websocket"
)

// connectProxy is a minimal HTTP CONNECT proxy on loopback, which records
// each CONNECT request, answers 200 and splices the bytes. Real proxies
// cannot show what headers they got; this one is only for that.
type connectProxy struct {
	addr string
	mu   sync.Mutex
	reqs []*http.Request
}

// startConnectProxy serves the proxy on 127.0.0.1, over TLS with cfg
// when it is not nil. It and its tunnels end at t's cleanup.
func startConnectProxy(t *testing.T, cfg *tls.Config) *connectProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	p := &connectProxy{addr: ln.Addr().String()}
	var (
		wg    sync.WaitGroup
		cmu   sync.Mutex
		conns = map[net.Conn]bool{}
		done  bool
	)
	// track adds c to the connections closed at cleanup, or reports
	// false, having closed it, when cleanup has begun.
	track := func(c net.Conn) bool {
		cmu.Lock()
		defer cmu.Unlock()
		if done {
			c.Close()
			return false
		}
		conns[c] = true
		return true
	}
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if !track(c) {
				return
			}
			wg.Go(func() { p.serve(c, track) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		cmu.Lock()
		done = true
		for c := range conns {
			c.Close()
		}
		cmu.Unlock()
		wg.Wait()
	})
	return p
}

func (p *connectProxy) serve(c net.Conn, track func(net.Conn) bool) {
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	p.mu.Lock()
	p.reqs = append(p.reqs, req)
	p.mu.Unlock()
	if req.Method != http.MethodConnect {
		io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
		return
	}
	up, err := net.Dial("tcp", req.RequestURI)
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	if !track(up) {
		return
	}
	defer up.Close()
	if _, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	// Whichever side ends, both connections close, which ends the other
	// copy.
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(up, br)
		up.Close()
		c.Close()
	}()
	io.Copy(c, up)
	up.Close()
	c.Close()
	<-done
}

// requests returns the CONNECT requests so far.
func (p *connectProxy) requests() []*http.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*http.Request(nil), p.reqs...)
}

// headerServer is a gorilla echo endpoint on loopback that records the
// request header of each handshake.
type headerServer struct {
	addr    string
	mu      sync.Mutex
	headers []http.Header
}

func startHeaderServer(t *testing.T, cfg *tls.Config) *headerServer {
	t.Helper()
	s := &headerServer{}
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	var (
		wg    sync.WaitGroup
		cmu   sync.Mutex
		conns = map[*websocket.Conn]bool{}
		done  bool
	)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.headers = append(s.headers, r.Header.Clone())
		s.mu.Unlock()
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		cmu.Lock()
		if done {
			cmu.Unlock()
			return
		}
		conns[c] = true
		wg.Add(1)
		cmu.Unlock()
		defer wg.Done()
		for {
			typ, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			if c.WriteMessage(typ, p) != nil {
				return
			}
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	srv := &http.Server{Handler: handler}
	served := make(chan struct{})
	go func() {
		srv.Serve(ln)
		close(served)
	}()
	t.Cleanup(func() {
		// Close ends the server and its connections but those hijacked
		// by the upgrade, which are closed here.
		srv.Close()
		<-served
		cmu.Lock()
		done = true
		for c := range conns {
			c.Close()
		}
		cmu.Unlock()
		wg.Wait()
	})
	s.addr = ln.Addr().String()
	return s
}

func (s *headerServer) last() http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.headers) == 0 {
		return nil
	}
	return s.headers[len(s.headers)-1]
}

// Config.ProxyHeader, the URL's credentials and the socket's User-Agent go
// to an HTTP proxy with CONNECT; ProxyHeader and the credentials never
// reach the server, and Config.Header never reaches the proxy.
func TestProxyHeader(t *testing.T) {
	srv := startHeaderServer(t, nil)
	proxy := startConnectProxy(t, nil)
	_, srvPort, _ := net.SplitHostPort(srv.addr)
	user, pass := "wsloop user", "hdr: p@ss/w%rd"
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))

	for _, c := range []struct {
		name      string
		url       string
		cfg       wsloop.Config
		target    string // CONNECT's request target
		proxyAuth string // Proxy-Authorization, "" for none
		proxyUA   string // User-Agent of CONNECT
		serverUA  string // User-Agent of the handshake
	}{
		{
			name: "credentials and ProxyHeader",
			url:  "ws://" + srv.addr + "/",
			cfg: wsloop.Config{
				Proxy:       proxyURL("http", proxy.addr, user, pass),
				ProxyHeader: http.Header{"X-Proxy-Token": {"for the proxy"}},
				Header:      http.Header{"X-Server-Token": {"for the server"}},
				UserAgent:   "proxy-test/1",
			},
			target: srv.addr, proxyAuth: basic, proxyUA: "proxy-test/1", serverUA: "proxy-test/1",
		},
		{
			name:   "defaults",
			url:    "ws://" + srv.addr + "/",
			cfg:    wsloop.Config{Proxy: "http://" + proxy.addr},
			target: srv.addr, proxyUA: wsloop.DefaultUserAgent, serverUA: wsloop.DefaultUserAgent,
		},
		{
			name: "User-Agent in ProxyHeader",
			url:  "ws://" + srv.addr + "/",
			cfg: wsloop.Config{
				Proxy:       "http://" + proxy.addr,
				ProxyHeader: http.Header{"User-Agent": {"tunnel-agent"}, "X-Proxy-Token": {"for the proxy"}},
			},
			target: srv.addr, proxyUA: "tunnel-agent", serverUA: wsloop.DefaultUserAgent,
		},
		{
			name: "User-Agent in Header",
			url:  "ws://" + srv.addr + "/",
			cfg: wsloop.Config{
				Proxy:     "http://" + proxy.addr,
				Header:    http.Header{"User-Agent": {"header-agent"}, "X-Server-Token": {"for the server"}},
				UserAgent: "ignored",
			},
			target: srv.addr, proxyUA: "header-agent", serverUA: "header-agent",
		},
		{
			// The HTTP proxy is given the name, to resolve itself.
			name:   "host name",
			url:    "ws://localhost:" + srvPort + "/",
			cfg:    wsloop.Config{Proxy: "http://" + proxy.addr},
			target: "localhost:" + srvPort, proxyUA: wsloop.DefaultUserAgent, serverUA: wsloop.DefaultUserAgent,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			both(t, c.url, &c.cfg, func(t *testing.T, err error) {
				wantOK(t, err)
				reqs := proxy.requests()
				if len(reqs) == 0 {
					t.Fatal("the proxy got no request: the dial went direct")
				}
				r := reqs[len(reqs)-1]
				if r.Method != http.MethodConnect || r.RequestURI != c.target || r.Host != c.target {
					t.Errorf("the proxy got %s %s with Host %q, want CONNECT %s", r.Method, r.RequestURI, r.Host, c.target)
				}
				if got := r.Header.Get("Proxy-Authorization"); got != c.proxyAuth {
					t.Errorf("CONNECT's Proxy-Authorization %q, want %q", got, c.proxyAuth)
				}
				if got := r.Header.Get("User-Agent"); got != c.proxyUA {
					t.Errorf("CONNECT's User-Agent %q, want %q", got, c.proxyUA)
				}
				for k, v := range c.cfg.ProxyHeader {
					if got := r.Header.Values(k); len(got) != len(v) || got[0] != v[0] {
						t.Errorf("CONNECT's %s %q, want %q", k, got, v)
					}
				}
				h := srv.last()
				for k := range c.cfg.Header {
					if k == "User-Agent" {
						continue
					}
					if r.Header.Get(k) != "" {
						t.Errorf("CONNECT carries Config.Header's %s", k)
					}
					if h.Get(k) != c.cfg.Header.Get(k) {
						t.Errorf("the handshake's %s %q, want %q", k, h.Get(k), c.cfg.Header.Get(k))
					}
				}
				for _, k := range []string{"Upgrade", "Sec-Websocket-Key", "Origin", "Cookie"} {
					if r.Header.Get(k) != "" {
						t.Errorf("CONNECT carries %s", k)
					}
				}
				if got := h.Get("User-Agent"); got != c.serverUA {
					t.Errorf("the handshake's User-Agent %q, want %q", got, c.serverUA)
				}
				if got := h.Get("Proxy-Authorization"); got != "" {
					t.Errorf("the server got Proxy-Authorization %q", got)
				}
				for k := range c.cfg.ProxyHeader {
					if k != "User-Agent" && h.Get(k) != "" {
						t.Errorf("the server got ProxyHeader's %s %q", k, h.Get(k))
					}
				}
			})
		})
	}
}

// An https:// proxy: TLS to the proxy, checked against the proxy's host
// with Config.TLSConfig's roots, then the tunnel, and for wss:// a second
// TLS inside it with the server.
func TestProxyHTTPS(t *testing.T) {
	root := newCA(t, "wsloop proxy test CA")
	srv := startHeaderServer(t, nil)
	tsrv := startHeaderServer(t, &tls.Config{Certificates: []tls.Certificate{root.valid(t, "127.0.0.1", "localhost")}})
	proxy := startConnectProxy(t, &tls.Config{Certificates: []tls.Certificate{root.valid(t, "127.0.0.1")}})
	trusting := &tls.Config{RootCAs: root.pool}
	purl := "https://" + proxy.addr
	t.Run("ws", func(t *testing.T) {
		both(t, "ws://"+srv.addr+"/", &wsloop.Config{Proxy: purl, TLSConfig: trusting}, wantOK)
	})
	t.Run("wss", func(t *testing.T) {
		both(t, "wss://"+tsrv.addr+"/", &wsloop.Config{Proxy: purl, TLSConfig: trusting}, wantOK)
	})
	// TLSConfig.ServerName names the server, not the proxy: the proxy's
	// certificate is still checked against its own host.
	t.Run("ServerName", func(t *testing.T) {
		_, p, _ := net.SplitHostPort(tsrv.addr)
		cfg := &wsloop.Config{Proxy: purl, TLSConfig: &tls.Config{RootCAs: root.pool, ServerName: "localhost"}}
		both(t, "wss://127.0.0.1:"+p+"/", cfg, wantOK)
	})
	// A proxy whose certificate is not trusted is unreachable, with the
	// *TLSError as its cause.
	t.Run("untrusted", func(t *testing.T) {
		both(t, "ws://"+srv.addr+"/", &wsloop.Config{Proxy: proxyURL("https", proxy.addr, "u", "tls-Secret")}, func(t *testing.T, err error) {
			wantProxyCause[*wsloop.TLSError](wsloop.ProxyUnreachable)(t, err)
			wantProxyError(proxyWant{proxy: purl, failure: wsloop.ProxyUnreachable, secret: "tls-Secret"})(t, err)
		})
	})
}
