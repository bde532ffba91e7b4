package network

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/test/internal/peers"
)

// tlsEcho serves the gorilla echo peer over TLS with cfg on 127.0.0.1 and
// returns its port; sni records the server names clients asked for.
func tlsEcho(t *testing.T, cfg *tls.Config) (port string, sni func() []string) {
	t.Helper()
	var mu sync.Mutex
	var names []string
	cfg = cfg.Clone()
	cfg.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		mu.Lock()
		names = append(names, h.ServerName)
		mu.Unlock()
		return nil, nil
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	peers.GorillaEchoOn(t, ln)
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), names...)
	}
}

// both runs f once with a socket from New on an event loop and once with
// one from Dial, each dialing url with cfg; f gets the dial's error, or
// nil once the socket echoed a message.
func both(t *testing.T, url string, cfg *websocket.Config, f func(t *testing.T, err error)) {
	t.Run("event loop", func(t *testing.T) {
		c := *cfg
		l := websocket.NewEventLoop()
		c.Loop = l
		ws, err := websocket.NewWithConfig(url, &c)
		if err != nil {
			f(t, err)
			return
		}
		var result error = errors.New("no event")
		ws.OnOpen = func(websocket.OpenEvent) { ws.SendText("echo me") }
		ws.OnMessage = func(m websocket.MessageEvent) {
			if m.Text() == "echo me" {
				result = nil
			} else {
				result = errors.New("echoed " + m.Text())
			}
			ws.Close()
		}
		ws.OnError = func(e websocket.ErrorEvent) { result = e.Err }
		// Run returns once the socket is gone.
		expired := false
		watchdog := time.AfterFunc(20*time.Second, func() { expired = true; l.Stop() })
		err = l.Run()
		watchdog.Stop()
		if err != nil || expired {
			t.Fatalf("the socket did not finish within 20 s (%v)", err)
		}
		f(t, result)
	})
	t.Run("blocking", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		ws, err := websocket.Dial(ctx, url, cfg)
		if err != nil {
			f(t, err)
			return
		}
		defer ws.Close()
		if err := ws.SendText("echo me"); err != nil {
			t.Fatal(err)
		}
		m, err := ws.WaitForNextMessage(ctx)
		if err == nil && m.Text() != "echo me" {
			err = errors.New("echoed " + m.Text())
		}
		f(t, err)
	})
}

func wantOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("error %v (%T), want an echo", err, err)
	}
}

func wantTLSError(reason websocket.TLSReason) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var te *websocket.TLSError
		if !errors.As(err, &te) {
			t.Fatalf("error %v (%T), want a *TLSError", err, err)
		}
		if te.Reason != reason {
			t.Errorf("Reason %v (%v), want %v", te.Reason, err, reason)
		}
	}
}

func TestTLSCertificates(t *testing.T) {
	root := newCA(t, "wsloop test CA")
	other := newCA(t, "another CA")
	now := time.Now()
	cases := []struct {
		name   string
		cert   tls.Certificate
		client *tls.Config
		want   func(t *testing.T, err error)
	}{
		{"trusted", root.valid(t, "127.0.0.1"), &tls.Config{RootCAs: root.pool}, wantOK},
		{"system roots only", root.valid(t, "127.0.0.1"), nil, wantTLSError(websocket.TLSUnknownAuthority)},
		{"other CA", other.valid(t, "127.0.0.1"), &tls.Config{RootCAs: root.pool}, wantTLSError(websocket.TLSUnknownAuthority)},
		{"name mismatch", root.valid(t, "other.test"), &tls.Config{RootCAs: root.pool}, wantTLSError(websocket.TLSNameMismatch)},
		{"expired", root.leaf(t, now.Add(-2*time.Hour), now.Add(-time.Hour), false, "127.0.0.1"), &tls.Config{RootCAs: root.pool}, wantTLSError(websocket.TLSExpired)},
		{"not yet valid", root.leaf(t, now.Add(time.Hour), now.Add(2*time.Hour), false, "127.0.0.1"), &tls.Config{RootCAs: root.pool}, wantTLSError(websocket.TLSExpired)},
		{"client certificate", root.leaf(t, now.Add(-time.Hour), now.Add(time.Hour), true, "127.0.0.1"), &tls.Config{RootCAs: root.pool}, wantTLSError(websocket.TLSBadCertificate)},
		{"server name set", root.valid(t, "other.test"), &tls.Config{RootCAs: root.pool, ServerName: "other.test"}, wantOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			port, _ := tlsEcho(t, &tls.Config{Certificates: []tls.Certificate{c.cert}})
			both(t, "wss://127.0.0.1:"+port+"/", &websocket.Config{TLSConfig: c.client}, c.want)
		})
	}
}

// The server name sent is the URL's host, or TLSConfig.ServerName; an IP
// address is not sent (RFC 6066 3).
func TestTLSServerName(t *testing.T) {
	root := newCA(t, "wsloop test CA")
	port, sni := tlsEcho(t, &tls.Config{Certificates: []tls.Certificate{root.valid(t, "localhost", "127.0.0.1", "other.test")}})
	for _, c := range []struct {
		host, serverName, want string
	}{
		{"localhost", "", "localhost"},
		{"LOCALHOST", "", "localhost"},
		{"127.0.0.1", "", ""},
		{"127.0.0.1", "other.test", "other.test"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		ws, err := websocket.Dial(ctx, "wss://"+c.host+":"+port+"/", &websocket.Config{
			TLSConfig: &tls.Config{RootCAs: root.pool, ServerName: c.serverName},
		})
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", c.host, err)
		}
		ws.Close()
		names := sni()
		if got := names[len(names)-1]; got != c.want {
			t.Errorf("%s with ServerName %q: the server saw %q, want %q", c.host, c.serverName, got, c.want)
		}
	}
}

// A server that wants a client certificate gets the one TLSConfig gives;
// without one the dial fails with a *TLSError, even where TLS 1.3 reports
// the refusal only after the client's handshake is done.
func TestTLSClientCertificate(t *testing.T) {
	root := newCA(t, "wsloop test CA")
	clients := newCA(t, "client CA")
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		port, _ := tlsEcho(t, &tls.Config{
			Certificates: []tls.Certificate{root.valid(t, "127.0.0.1")},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    clients.pool,
			MaxVersion:   v,
		})
		url := "wss://127.0.0.1:" + port + "/"
		t.Run(tls.VersionName(v)+"/with", func(t *testing.T) {
			both(t, url, &websocket.Config{TLSConfig: &tls.Config{
				RootCAs:      root.pool,
				Certificates: []tls.Certificate{clients.leaf(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), true, "client")},
			}}, wantOK)
		})
		t.Run(tls.VersionName(v)+"/without", func(t *testing.T) {
			both(t, url, &websocket.Config{TLSConfig: &tls.Config{RootCAs: root.pool}}, wantTLSError(websocket.TLSOther))
		})
	}
}

// TLSConfig.MinVersion is honoured: a server that stops at TLS 1.2 is
// refused by a client that wants 1.3.
func TestTLSMinVersion(t *testing.T) {
	root := newCA(t, "wsloop test CA")
	port, _ := tlsEcho(t, &tls.Config{Certificates: []tls.Certificate{root.valid(t, "127.0.0.1")}, MaxVersion: tls.VersionTLS12})
	url := "wss://127.0.0.1:" + port + "/"
	both(t, url, &websocket.Config{TLSConfig: &tls.Config{RootCAs: root.pool, MinVersion: tls.VersionTLS13}}, func(t *testing.T, err error) {
		wantTLSError(websocket.TLSOther)(t, err)
		if err != nil && !strings.Contains(err.Error(), "version") {
			t.Errorf("the error does not name the version: %v", err)
		}
	})
	both(t, url, &websocket.Config{TLSConfig: &tls.Config{RootCAs: root.pool, MinVersion: tls.VersionTLS12}}, wantOK)
}
