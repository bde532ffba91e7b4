package network

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/test/internal/netlab"
	"github.com/wsloop/websocket/test/internal/peers"
)

// proxyEnv is every variable that decides a proxy from the environment.
// REQUEST_METHOD marks a CGI program, in which HTTP_PROXY may come from a
// request's Proxy header and is refused.
var proxyEnv = []string{
	"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
	"all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY", "REQUEST_METHOD",
}

// setProxyEnv clears proxyEnv for the rest of t, then sets kv, pairs of
// names and values. t.Setenv makes t and its ancestors sequential.
func setProxyEnv(t *testing.T, kv ...string) {
	t.Helper()
	for _, k := range proxyEnv {
		t.Setenv(k, "")
	}
	for i := 0; i+1 < len(kv); i += 2 {
		t.Setenv(kv[i], kv[i+1])
	}
}

// The environment decides when Config.Proxy is "". A direct dial to the
// lab's target fails at once (no route to host, a *ConnectError; its name
// does not resolve, a *DNSError): an echo proves that the dial took the
// proxy the environment names, and such a failure that it went direct.
func TestProxyEnvironment(t *testing.T) {
	setProxyEnv(t)
	l := newProxyLab(t)
	tiny, squid, micro := l.Tinyproxy(t, nil), l.Squid(t, nil), l.Microsocks(t, nil)
	// Nothing listens on 127.0.0.1:1: a proxy there fails any dial that
	// takes it.
	const dead = "http://127.0.0.1:1"
	cfg := &websocket.Config{TLSConfig: l.tls}
	wsIP, wssIP := l.url("ws", l.TargetIP), l.url("wss", l.TargetIP)
	wsName, wssName := l.url("ws", netlab.TargetName), l.url("wss", netlab.TargetName)
	check := func(t *testing.T, name, url string, cfg *websocket.Config, f func(*testing.T, error)) {
		t.Helper()
		t.Run(name, func(t *testing.T) { both(t, url, cfg, f) })
	}

	t.Run("http_proxy", func(t *testing.T) {
		setProxyEnv(t, "http_proxy", tiny.URL("http"))
		check(t, "ws", wsIP, cfg, wantOK)
		check(t, "ws name", wsName, cfg, wantOK)
		// http_proxy is for ws:// alone.
		check(t, "wss", wssIP, cfg, wantConnectError)
	})
	t.Run("HTTP_PROXY", func(t *testing.T) {
		setProxyEnv(t, "HTTP_PROXY", tiny.URL("http"))
		check(t, "ws", wsIP, cfg, wantOK)
	})
	t.Run("lower case first", func(t *testing.T) {
		setProxyEnv(t, "http_proxy", tiny.URL("http"), "HTTP_PROXY", dead)
		check(t, "ws", wsIP, cfg, wantOK)
	})
	t.Run("https_proxy", func(t *testing.T) {
		setProxyEnv(t, "https_proxy", squid.URL("http"))
		check(t, "wss", wssIP, cfg, wantOK)
		check(t, "wss name", wssName, cfg, wantOK)
		// https_proxy is for wss:// alone.
		check(t, "ws", wsIP, cfg, wantConnectError)
	})
	t.Run("HTTPS_PROXY", func(t *testing.T) {
		setProxyEnv(t, "HTTPS_PROXY", squid.URL("http"))
		check(t, "wss", wssIP, cfg, wantOK)
	})
	t.Run("all_proxy", func(t *testing.T) {
		setProxyEnv(t, "all_proxy", micro.URL("socks5h"))
		check(t, "ws", wsIP, cfg, wantOK)
		check(t, "wss", wssIP, cfg, wantOK)
		check(t, "ws name", wsName, cfg, wantOK)
		check(t, "wss name", wssName, cfg, wantOK)
	})
	t.Run("ALL_PROXY", func(t *testing.T) {
		setProxyEnv(t, "ALL_PROXY", micro.URL("socks5h"))
		check(t, "ws", wsIP, cfg, wantOK)
		check(t, "wss", wssIP, cfg, wantOK)
	})
	// all_proxy serves only the scheme whose own variable is unset.
	t.Run("all_proxy after http_proxy", func(t *testing.T) {
		setProxyEnv(t, "http_proxy", tiny.URL("http"), "all_proxy", "socks5h://127.0.0.1:1")
		check(t, "ws", wsIP, cfg, wantOK)
		check(t, "wss", wssIP, cfg, wantProxyError(proxyWant{proxy: "socks5h://127.0.0.1:1", failure: websocket.ProxyUnreachable}))
	})

	// no_proxy sends the dial direct, where it fails.
	for _, c := range []struct {
		name, value, url string
		want             func(*testing.T, error)
	}{
		{"address", l.TargetIP, wsIP, wantConnectError},
		{"address wss", l.TargetIP, wssIP, wantConnectError},
		{"address and port", net.JoinHostPort(l.TargetIP, l.wsPort), wsIP, wantConnectError},
		{"CIDR", "10.231.0.0/16", wsIP, wantConnectError},
		{"list", "example.test, " + l.TargetIP + " ,other.test", wsIP, wantConnectError},
		{"star", "*", wsIP, wantConnectError},
		// A name no_proxy lists is resolved by the client, and is not
		// found.
		{"domain", netlab.TargetName, wsName, wantDNSError},
		{"parent domain", "netlab.test", wsName, wantDNSError},
		{"suffix", ".netlab.test", wssName, wantDNSError},
		// A list that names other hosts leaves the proxy in use.
		{"others", "example.test,10.9.0.0/16,.other.test", wsIP, wantOK},
		{"other port", net.JoinHostPort(l.TargetIP, "1"), wsIP, wantOK},
	} {
		t.Run("no_proxy/"+c.name, func(t *testing.T) {
			setProxyEnv(t, "http_proxy", tiny.URL("http"), "https_proxy", squid.URL("http"), "no_proxy", c.value)
			both(t, c.url, cfg, c.want)
		})
	}
	t.Run("NO_PROXY", func(t *testing.T) {
		setProxyEnv(t, "all_proxy", micro.URL("socks5h"), "NO_PROXY", l.TargetIP)
		check(t, "ws", wsIP, cfg, wantConnectError)
		check(t, "ws name", wsName, cfg, wantOK)
	})

	// Loopback and localhost are never proxied by the environment: a
	// server on the test's loopback answers, which the proxy, whose
	// loopback is the lab's, could not reach.
	t.Run("loopback", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		peers.GorillaEchoOn(t, ln)
		setProxyEnv(t, "http_proxy", tiny.URL("http"), "all_proxy", tiny.URL("http"))
		check(t, "127.0.0.1", "ws://127.0.0.1:"+listenerPort(ln)+"/", cfg, wantOK)
		check(t, "localhost", "ws://localhost:"+listenerPort(ln)+"/", cfg, wantOK)
	})

	// "direct" ignores the environment.
	t.Run("direct", func(t *testing.T) {
		setProxyEnv(t, "http_proxy", tiny.URL("http"), "https_proxy", squid.URL("http"), "all_proxy", micro.URL("socks5h"))
		direct := &websocket.Config{Proxy: "direct", TLSConfig: l.tls}
		check(t, "ws", wsIP, direct, wantConnectError)
		check(t, "wss", wssIP, direct, wantConnectError)
		check(t, "ws name", wsName, direct, wantDNSError)
	})
	// An explicit proxy wins over the environment.
	t.Run("explicit", func(t *testing.T) {
		setProxyEnv(t, "http_proxy", dead, "https_proxy", dead, "all_proxy", dead)
		check(t, "ws", wsIP, &websocket.Config{Proxy: tiny.URL("http")}, wantOK)
	})

	// A variable that cannot be used fails New, NewWithConfig and Dial at
	// once, before any dial, and only for the scheme it serves.
	for _, c := range []struct {
		why, name, value, url string
		other                 string // a URL the variable does not serve
	}{
		{"scheme", "http_proxy", "ftp://x", wsIP, wssIP},
		{"upper-case", "HTTP_PROXY", "gopher://x:70", wsIP, wssIP},
		{"no host", "https_proxy", "socks5://", wssIP, wsIP},
		{"path", "all_proxy", "http://user:env-Secret@x/path", wsIP, ""},
		{"port", "http_proxy", "http://user:env-Secret@x:port", wsIP, wssIP},
	} {
		t.Run("unusable/"+c.why, func(t *testing.T) {
			setProxyEnv(t, c.name, c.value)
			wantEnvConfigError(t, c.url, cfg, "env-Secret")
			if c.other != "" {
				// Nothing to proxy it: a direct dial, which fails.
				check(t, "other scheme", c.other, cfg, wantConnectError)
			}
		})
	}
	// In a CGI program (REQUEST_METHOD set) HTTP_PROXY may come from the
	// request's Proxy header (httpoxy): it is refused, as net/http does.
	t.Run("CGI", func(t *testing.T) {
		setProxyEnv(t, "REQUEST_METHOD", "GET", "HTTP_PROXY", tiny.URL("http"))
		wantEnvConfigError(t, wsIP, cfg, "")
	})
}

// wantEnvConfigError checks that New, NewWithConfig and Dial all refuse
// url with a *ConfigError for Proxy that shows no secret.
func wantEnvConfigError(t *testing.T, url string, cfg *websocket.Config, secret string) {
	t.Helper()
	check := func(what string, ws *websocket.WebSocket, err error) {
		t.Helper()
		var ce *websocket.ConfigError
		if !errors.As(err, &ce) || ce.Field != "Proxy" {
			if ws != nil {
				ws.Close()
			}
			t.Fatalf("%s: %v (%T), want a *ConfigError for Proxy", what, err, err)
		}
		if ws != nil {
			t.Errorf("%s returned a socket with its error", what)
		}
		if !strings.Contains(err.Error(), "environment") {
			t.Errorf("%s: %v does not say the environment is to blame", what, err)
		}
		noSecret(t, err, secret)
	}
	l := websocket.NewEventLoop()
	c := *cfg
	c.Loop = l
	ws, err := websocket.NewWithConfig(url, &c)
	check("NewWithConfig", ws, err)
	// New is on the default loop, which nothing runs here: a socket it
	// made would never finish dialing.
	ws, err = websocket.New(url)
	check("New", ws, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws, err = websocket.Dial(ctx, url, cfg)
	check("Dial", ws, err)
}
