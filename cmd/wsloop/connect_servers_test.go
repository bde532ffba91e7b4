package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gobwas/ws"
	"github.com/wsloop/websocket"
)

// The servers connect is tried against, beside the echo server: each
// ends a connection in one of the ways the exit codes tell apart, or
// shows what the client sent.

// runConnect runs "wsloop connect args..." with stdin as its input, as
// main would, and returns the exit code and outputs.
func runConnect(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), append([]string{"connect"}, args...), strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// listen is a loopback listener closed at the test's end.
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// serveConns runs fn on each connection ln accepts, on a goroutine of its
// own, and closes the connection after it.
func serveConns(ln net.Listener, fn func(net.Conn)) {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				fn(c)
			}()
		}
	}()
}

// vanishingServer completes the opening handshake, reads the first
// message and ends TCP without a close frame: a server that crashed.
func vanishingServer(t *testing.T) string {
	ln := listen(t)
	serveConns(ln, func(c net.Conn) {
		if _, err := ws.Upgrade(c); err != nil {
			return
		}
		if h, err := ws.ReadHeader(c); err == nil {
			io.CopyN(io.Discard, c, h.Length)
		}
	})
	return "ws://" + ln.Addr().String() + "/"
}

// silentAfterUpgrade completes the opening handshake, then reads and
// never answers: a server that hung, or a network that lost it.
func silentAfterUpgrade(t *testing.T) string {
	ln := listen(t)
	serveConns(ln, func(c net.Conn) {
		if _, err := ws.Upgrade(c); err != nil {
			return
		}
		io.Copy(io.Discard, c)
	})
	return "ws://" + ln.Addr().String() + "/"
}

// silentServer accepts TCP and never answers the handshake.
func silentServer(t *testing.T) string {
	ln := listen(t)
	serveConns(ln, func(c net.Conn) { io.Copy(io.Discard, c) })
	return "ws://" + ln.Addr().String() + "/"
}

// refusingServer answers every handshake with 403.
func refusingServer(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "not you", http.StatusForbidden)
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/"
}

// deadURL is a loopback URL nobody listens on.
func deadURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	return "ws://" + ln.Addr().String() + "/"
}

// upgradeServer is an echo server on the library's Upgrader, over TLS
// when secure is set, that keeps each upgrade request for the test to
// look at.
type upgradeServer struct {
	*httptest.Server
	url      string
	mu       sync.Mutex
	requests []*http.Request
}

func startUpgradeServer(t *testing.T, secure bool) *upgradeServer {
	t.Helper()
	s := &upgradeServer{}
	up := &websocket.Upgrader{AllowedOrigins: []string{"*"}, Protocols: []string{"chat"}}
	echo := up.Handler(func(ws *websocket.WebSocket, _ *http.Request) {
		ws.OnMessage = func(m websocket.MessageEvent) {
			if m.Binary {
				ws.Send(m.Data)
			} else {
				ws.SendText(m.Text())
			}
		}
	})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.Clone(context.Background()))
		s.mu.Unlock()
		echo.ServeHTTP(w, r)
	})
	s.Server = httptest.NewUnstartedServer(h)
	// A client that refuses the certificate is what a test wants.
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	if secure {
		s.StartTLS()
		s.url = "wss" + strings.TrimPrefix(s.URL, "https") + "/"
	} else {
		s.Start()
		s.url = "ws" + strings.TrimPrefix(s.URL, "http") + "/"
	}
	t.Cleanup(s.Close)
	return s
}

// request is the i-th upgrade request the server got.
func (s *upgradeServer) request(t *testing.T, i int) *http.Request {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if i >= len(s.requests) {
		t.Fatalf("the server got %d requests, want at least %d", len(s.requests), i+1)
	}
	return s.requests[i]
}

// certFile writes the TLS server's certificate to a PEM file, for
// -cacert.
func (s *upgradeServer) certFile(t *testing.T) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "ca.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
	if err := os.WriteFile(name, block, 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

// connectProxy is an HTTP proxy that opens CONNECT tunnels and records
// the addresses asked for.
type connectProxy struct {
	addr    string
	mu      sync.Mutex
	tunnels []string
}

func startConnectProxy(t *testing.T) *connectProxy {
	ln := listen(t)
	p := &connectProxy{addr: ln.Addr().String()}
	serveConns(ln, func(c net.Conn) {
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil || req.Method != http.MethodConnect {
			io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\n\r\n")
			return
		}
		p.mu.Lock()
		p.tunnels = append(p.tunnels, req.Host)
		p.mu.Unlock()
		up, err := net.Dial("tcp", req.Host)
		if err != nil {
			io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
			return
		}
		defer up.Close()
		io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		go func() {
			io.Copy(up, br) // the client's side, with what it sent ahead
			up.(*net.TCPConn).CloseWrite()
		}()
		io.Copy(c, up)
	})
	return p
}

func (p *connectProxy) tunnelsAsked() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.tunnels...)
}
