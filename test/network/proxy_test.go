package network

import (
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/test/internal/netlab"
	"github.com/wsloop/websocket/test/internal/peers"
)

// The proxy tests dial through real proxy daemons (tinyproxy, Squid,
// Dante, microsocks) in a netlab lab, where the target can be reached
// only through them: an echo that works went through the proxy. Each test
// function builds one lab and shares its proxies among its subtests.

// proxyLab is a lab with the gorilla echo peer on TargetIP, plain (ws) and
// over TLS (wss) with a certificate for TargetIP and TargetName.
type proxyLab struct {
	*netlab.Lab
	wsPort, wssPort string
	tls             *tls.Config // trusts the wss peer's certificate
}

func newProxyLab(t *testing.T) *proxyLab {
	t.Helper()
	l := netlab.New(t)
	ln := l.Listen(t)
	peers.GorillaEchoOn(t, ln)
	root := newCA(t, "wsloop proxy test CA")
	tln := tls.NewListener(l.Listen(t), &tls.Config{Certificates: []tls.Certificate{root.valid(t, l.TargetIP, netlab.TargetName)}})
	peers.GorillaEchoOn(t, tln)
	return &proxyLab{
		Lab:     l,
		wsPort:  listenerPort(ln),
		wssPort: listenerPort(tln),
		tls:     &tls.Config{RootCAs: root.pool},
	}
}

func listenerPort(ln net.Listener) string {
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	return p
}

// url is the echo peer's URL with scheme ws or wss and host, TargetIP or
// TargetName.
func (l *proxyLab) url(scheme, host string) string {
	p := l.wsPort
	if scheme == "wss" {
		p = l.wssPort
	}
	return scheme + "://" + net.JoinHostPort(host, p) + "/"
}

// echoThrough checks that the echo peer answers ws:// and wss:// through
// proxy (Config.Proxy), at each of hosts, on both APIs.
func (l *proxyLab) echoThrough(t *testing.T, proxy string, hosts ...string) {
	t.Helper()
	for _, host := range hosts {
		for _, scheme := range []string{"ws", "wss"} {
			t.Run(scheme+"/"+host, func(t *testing.T) {
				both(t, l.url(scheme, host), &websocket.Config{Proxy: proxy, TLSConfig: l.tls}, wantOK)
			})
		}
	}
}

// proxyURL is a proxy's URL with user and pass as its credentials, or
// none when user is "".
func proxyURL(scheme, addr, user, pass string) string {
	u := url.URL{Scheme: scheme, Host: addr}
	if user != "" {
		u.User = url.UserPassword(user, pass)
	}
	return u.String()
}

// proxyWant is the *ProxyError a dial must fail with.
type proxyWant struct {
	proxy   string // ProxyError.Proxy: the proxy's URL without credentials
	failure websocket.ProxyFailure
	status  int    // StatusCode, 0 for none
	reply   int    // Reply, 0 for none
	secret  string // a password that must appear in no message
}

func wantProxyError(w proxyWant) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		var pe *websocket.ProxyError
		if !errors.As(err, &pe) {
			t.Fatalf("error %v (%T), want a *ProxyError", err, err)
		}
		// The proxy's own answer, for the record (go test -v).
		t.Logf("StatusCode %d, Status %q, Reply %d: %v", pe.StatusCode, pe.Status, pe.Reply, err)
		if pe.Failure != w.failure || pe.StatusCode != w.status || pe.Reply != w.reply {
			t.Errorf("ProxyError{Failure: %v, StatusCode: %d, Status: %q, Reply: %d} (%v), want Failure %v, StatusCode %d, Reply %d",
				pe.Failure, pe.StatusCode, pe.Status, pe.Reply, err, w.failure, w.status, w.reply)
		}
		if pe.Proxy != w.proxy {
			t.Errorf("ProxyError.Proxy %q, want %q", pe.Proxy, w.proxy)
		}
		noSecret(t, err, w.secret)
	}
}

// noSecret checks that pass appears in neither err's message nor the
// Proxy of a *ProxyError in it, raw or escaped as in a URL.
func noSecret(t *testing.T, err error, pass string) {
	t.Helper()
	if pass == "" {
		return
	}
	forms := []string{pass, strings.TrimPrefix(url.UserPassword("", pass).String(), ":")}
	var pe *websocket.ProxyError
	for _, s := range forms {
		if strings.Contains(err.Error(), s) {
			t.Errorf("the error shows the password %q: %v", s, err)
		}
		if errors.As(err, &pe) && strings.Contains(pe.Proxy, s) {
			t.Errorf("ProxyError.Proxy shows the password %q: %s", s, pe.Proxy)
		}
	}
}

// wantProxyCause checks that err is a *ProxyError with failure whose cause
// errors.As finds as a T.
func wantProxyCause[T error](failure websocket.ProxyFailure) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		var pe *websocket.ProxyError
		if !errors.As(err, &pe) || pe.Failure != failure {
			t.Fatalf("error %v (%T), want a *ProxyError with %v", err, err, failure)
		}
		var cause T
		if !errors.As(pe.Err, &cause) {
			t.Errorf("ProxyError.Err %v (%T), want a %T", pe.Err, pe.Err, cause)
		}
	}
}

// wantBare checks that err is a T (and not a *ProxyError: the failure is
// the client's own).
func wantBare[T error](t *testing.T, err error) {
	t.Helper()
	var want T
	if !errors.As(err, &want) {
		t.Fatalf("error %v (%T), want a %T", err, err, want)
	}
	var pe *websocket.ProxyError
	if errors.As(err, &pe) {
		t.Errorf("error %v is a *ProxyError, want a bare %T", err, want)
	}
}

func wantDNSError(t *testing.T, err error)     { t.Helper(); wantBare[*websocket.DNSError](t, err) }
func wantConnectError(t *testing.T, err error) { t.Helper(); wantBare[*websocket.ConnectError](t, err) }

// httpProxyErrors checks an HTTP proxy's refusals: p requires p.Auth;
// open requires nothing. A missing Proxy-Authorization gets a 407 from
// both kinds; wrongStatus is p's answer to wrong credentials,
// refusedStatus the answer to a CONNECT to a closed port.
func (l *proxyLab) httpProxyErrors(t *testing.T, open, p *netlab.Proxy, wrongStatus, refusedStatus int) {
	redacted := "http://" + p.Addr
	target := l.url("ws", l.TargetIP)
	t.Run("missing credentials", func(t *testing.T) {
		both(t, target, &websocket.Config{Proxy: redacted}, wantProxyError(proxyWant{
			proxy: redacted, failure: websocket.ProxyAuthFailed, status: 407,
		}))
	})
	t.Run("wrong password", func(t *testing.T) {
		wrong := p.Auth.Pass + "x"
		both(t, target, &websocket.Config{Proxy: proxyURL("http", p.Addr, p.Auth.User, wrong)}, wantProxyError(proxyWant{
			proxy: redacted, failure: websocket.ProxyAuthFailed, status: wrongStatus, secret: wrong,
		}))
	})
	t.Run("wrong user", func(t *testing.T) {
		both(t, target, &websocket.Config{Proxy: proxyURL("http", p.Addr, p.Auth.User+"x", p.Auth.Pass)}, wantProxyError(proxyWant{
			proxy: redacted, failure: websocket.ProxyAuthFailed, status: wrongStatus, secret: p.Auth.Pass,
		}))
	})
	closed := "ws://" + net.JoinHostPort(l.TargetIP, "1") + "/"
	t.Run("target refused", func(t *testing.T) {
		both(t, closed, &websocket.Config{Proxy: open.URL("http")}, wantProxyError(proxyWant{
			proxy: "http://" + open.Addr, failure: websocket.ProxyTargetUnreachable, status: refusedStatus,
		}))
	})
	t.Run("target refused with credentials", func(t *testing.T) {
		both(t, closed, &websocket.Config{Proxy: p.URL("http")}, wantProxyError(proxyWant{
			proxy: redacted, failure: websocket.ProxyTargetUnreachable, status: refusedStatus, secret: p.Auth.Pass,
		}))
	})
}

func TestProxyTinyproxy(t *testing.T) {
	t.Parallel()
	l := newProxyLab(t)
	// tinyproxy can spell only letters, digits, '-', '.' and '_'.
	open, auth := l.Tinyproxy(t, nil), l.Tinyproxy(t, &netlab.Auth{User: "wsloop.tiny", Pass: "tiny-Secret.42"})
	// An HTTP proxy is given the host name and resolves it.
	t.Run("open", func(t *testing.T) { l.echoThrough(t, open.URL("http"), l.TargetIP, netlab.TargetName) })
	t.Run("auth", func(t *testing.T) { l.echoThrough(t, auth.URL("http"), l.TargetIP, netlab.TargetName) })
	// A bare host:port is an HTTP proxy.
	t.Run("bare", func(t *testing.T) {
		both(t, l.url("ws", l.TargetIP), &websocket.Config{Proxy: open.Addr}, wantOK)
	})
	// tinyproxy answers a missing Proxy-Authorization with 407 but wrong
	// credentials with 401, and a CONNECT it cannot make with 500.
	l.httpProxyErrors(t, open, auth, 401, 500)
}

func TestProxySquid(t *testing.T) {
	t.Parallel()
	l := newProxyLab(t)
	open, auth := l.Squid(t, nil), l.Squid(t, &netlab.Auth{User: "wsloop squid", Pass: "sq: p@ss/w%rd"})
	t.Run("open", func(t *testing.T) { l.echoThrough(t, open.URL("http"), l.TargetIP, netlab.TargetName) })
	t.Run("auth", func(t *testing.T) { l.echoThrough(t, auth.URL("http"), l.TargetIP, netlab.TargetName) })
	// Squid answers 407 to missing and wrong credentials alike, and 503
	// to a CONNECT it cannot make.
	l.httpProxyErrors(t, open, auth, 407, 503)

	// TLS is between the client and the server, through the tunnel: the
	// certificate is checked against the URL's host, not the proxy's. A
	// server whose certificate is for TargetIP only is refused at
	// TargetName.
	root := newCA(t, "wsloop proxy test CA")
	ln := tls.NewListener(l.Listen(t), &tls.Config{Certificates: []tls.Certificate{root.valid(t, l.TargetIP)}})
	peers.GorillaEchoOn(t, ln)
	cfg := &websocket.Config{Proxy: open.URL("http"), TLSConfig: &tls.Config{RootCAs: root.pool}}
	t.Run("wss/certificate for the address", func(t *testing.T) {
		both(t, "wss://"+net.JoinHostPort(l.TargetIP, listenerPort(ln))+"/", cfg, wantOK)
	})
	t.Run("wss/certificate not for the name", func(t *testing.T) {
		both(t, "wss://"+net.JoinHostPort(netlab.TargetName, listenerPort(ln))+"/", cfg, wantTLSError(websocket.TLSNameMismatch))
	})
}

// socksErrors checks a SOCKS5 proxy's refusals: p requires auth; open
// requires none. wrongReply is the status of p's refusal of a wrong
// password (RFC 1929), refusedReply open's reply (RFC 1928) to a CONNECT
// to a closed port; unresolved is open's failure, and its reply, for a
// name it cannot resolve. The login is the same for socks5 and socks5h,
// so each case takes one or the other: a login to Dante is slow, as the
// hash of its system account's password is made to be.
func (l *proxyLab) socksErrors(t *testing.T, open, p *netlab.Proxy, wrongReply, refusedReply int, unresolved proxyWant) {
	target := l.url("ws", l.TargetIP)
	t.Run("missing credentials", func(t *testing.T) {
		// The proxy takes none of the methods offered (0xff): no login
		// happened, so there is no Reply.
		redacted := "socks5://" + p.Addr
		both(t, target, &websocket.Config{Proxy: redacted}, wantProxyError(proxyWant{
			proxy: redacted, failure: websocket.ProxyAuthFailed,
		}))
	})
	t.Run("wrong password", func(t *testing.T) {
		wrong := p.Auth.Pass + "x"
		both(t, target, &websocket.Config{Proxy: proxyURL("socks5h", p.Addr, p.Auth.User, wrong)}, wantProxyError(proxyWant{
			proxy: "socks5h://" + p.Addr, failure: websocket.ProxyAuthFailed, reply: wrongReply, secret: wrong,
		}))
	})
	t.Run("wrong user", func(t *testing.T) {
		both(t, target, &websocket.Config{Proxy: proxyURL("socks5", p.Addr, p.Auth.User+"x", p.Auth.Pass)}, wantProxyError(proxyWant{
			proxy: "socks5://" + p.Addr, failure: websocket.ProxyAuthFailed, reply: wrongReply, secret: p.Auth.Pass,
		}))
	})
	closed := "ws://" + net.JoinHostPort(l.TargetIP, "1") + "/"
	for _, scheme := range []string{"socks5", "socks5h"} {
		t.Run(scheme+"/target refused", func(t *testing.T) {
			both(t, closed, &websocket.Config{Proxy: open.URL(scheme)}, wantProxyError(proxyWant{
				proxy: scheme + "://" + open.Addr, failure: websocket.ProxyTargetUnreachable, reply: refusedReply,
			}))
		})
	}
	t.Run("target refused with credentials", func(t *testing.T) {
		both(t, closed, &websocket.Config{Proxy: p.URL("socks5")}, wantProxyError(proxyWant{
			proxy: "socks5://" + p.Addr, failure: websocket.ProxyTargetUnreachable, reply: refusedReply, secret: p.Auth.Pass,
		}))
	})
	// socks5h hands the name to the proxy, which cannot resolve this one
	// either.
	t.Run("socks5h/unknown name", func(t *testing.T) {
		unresolved.proxy = "socks5h://" + open.Addr
		both(t, "ws://nowhere.netlab.test:"+l.wsPort+"/", &websocket.Config{Proxy: open.URL("socks5h")}, wantProxyError(unresolved))
	})
	// socks5 resolves the name in the client, where it does not resolve.
	t.Run("socks5/name", func(t *testing.T) {
		both(t, l.url("ws", netlab.TargetName), &websocket.Config{Proxy: open.URL("socks5")}, wantDNSError)
	})
}

func TestProxyDante(t *testing.T) {
	t.Parallel()
	l := newProxyLab(t)
	open, auth := l.Dante(t, nil), l.Dante(t, l.NewAuth("d4nte: p@ss/%"))
	// socks5h sends the name, which the proxy resolves; socks5 resolves
	// it in the client, where TargetName does not resolve.
	t.Run("socks5", func(t *testing.T) { l.echoThrough(t, open.URL("socks5"), l.TargetIP) })
	t.Run("socks5h", func(t *testing.T) { l.echoThrough(t, open.URL("socks5h"), l.TargetIP, netlab.TargetName) })
	t.Run("auth/socks5", func(t *testing.T) { l.echoThrough(t, auth.URL("socks5"), l.TargetIP) })
	t.Run("auth/socks5h", func(t *testing.T) { l.echoThrough(t, auth.URL("socks5h"), netlab.TargetName) })
	t.Run("socks4", func(t *testing.T) { l.echoThrough(t, open.URL("socks4"), l.TargetIP) })
	// The URL's user name is SOCKS4's user id, which Dante without auth
	// does not check.
	t.Run("socks4 user id", func(t *testing.T) {
		l.echoThrough(t, proxyURL("socks4", open.Addr, "wsloop", ""), l.TargetIP)
	})
	// socks4 resolves the name in the client too.
	t.Run("socks4/name", func(t *testing.T) {
		both(t, l.url("ws", netlab.TargetName), &websocket.Config{Proxy: open.URL("socks4")}, wantDNSError)
	})
	// Dante 1.4 has no SOCKS4a (netlab.DanteSOCKS4a): it reads the
	// request for 0.0.0.1 as a SOCKS4 one, fails to connect there and
	// replies 91, request rejected or failed.
	t.Run("socks4a", func(t *testing.T) {
		if netlab.DanteSOCKS4a {
			t.Fatal("netlab says Dante has SOCKS4a now: test the echo through it")
		}
		both(t, l.url("ws", netlab.TargetName), &websocket.Config{Proxy: open.URL("socks4a")}, wantProxyError(proxyWant{
			proxy: "socks4a://" + open.Addr, failure: websocket.ProxyRefused, reply: 91,
		}))
	})
	// SOCKS4 has one reply for "rejected or failed".
	t.Run("socks4/target refused", func(t *testing.T) {
		both(t, "ws://"+net.JoinHostPort(l.TargetIP, "1")+"/", &websocket.Config{Proxy: open.URL("socks4")}, wantProxyError(proxyWant{
			proxy: "socks4://" + open.Addr, failure: websocket.ProxyRefused, reply: 91,
		}))
	})
	// Dante with auth takes SOCKS5 with a password only.
	t.Run("auth/socks4", func(t *testing.T) {
		both(t, l.url("ws", l.TargetIP), &websocket.Config{Proxy: proxyURL("socks4", auth.Addr, auth.Auth.User, "")}, wantProxyError(proxyWant{
			proxy: "socks4://" + auth.Addr, failure: websocket.ProxyRefused, reply: 91,
		}))
	})
	// Dante refuses a login with status 1, says 5 (connection refused)
	// of a closed port and 4 (host unreachable) of a name it cannot
	// resolve.
	l.socksErrors(t, open, auth, 1, 5, proxyWant{failure: websocket.ProxyTargetUnreachable, reply: 4})
}

func TestProxyMicrosocks(t *testing.T) {
	t.Parallel()
	l := newProxyLab(t)
	open, auth := l.Microsocks(t, nil), l.Microsocks(t, &netlab.Auth{User: "wsloop micro", Pass: "m1cro: p@ss/%"})
	t.Run("socks5", func(t *testing.T) { l.echoThrough(t, open.URL("socks5"), l.TargetIP) })
	t.Run("socks5h", func(t *testing.T) { l.echoThrough(t, open.URL("socks5h"), l.TargetIP, netlab.TargetName) })
	t.Run("auth/socks5", func(t *testing.T) { l.echoThrough(t, auth.URL("socks5"), l.TargetIP) })
	t.Run("auth/socks5h", func(t *testing.T) { l.echoThrough(t, auth.URL("socks5h"), l.TargetIP, netlab.TargetName) })
	// microsocks refuses a login with status 2 (its EC_NOT_ALLOWED) and
	// says 5 (connection refused) of a closed port, but 1 (general
	// failure), which is a refusal, of a name it cannot resolve.
	l.socksErrors(t, open, auth, 2, 5, proxyWant{failure: websocket.ProxyRefused, reply: 1})

	// Where no proxy listens: a port of ProxyIP that no proxy has (the
	// lab gives its proxies ports from 10000), and a loopback port.
	for _, addr := range []string{net.JoinHostPort(l.ProxyIP, "9"), "127.0.0.1:1"} {
		for _, scheme := range []string{"http", "https", "socks5", "socks5h", "socks4", "socks4a"} {
			t.Run("unreachable/"+scheme+"/"+addr, func(t *testing.T) {
				proxy := proxyURL(scheme, addr, "user", "unreach-Secret")
				both(t, l.url("ws", l.TargetIP), &websocket.Config{Proxy: proxy}, func(t *testing.T, err error) {
					wantProxyCause[*websocket.ConnectError](websocket.ProxyUnreachable)(t, err)
					wantProxyError(proxyWant{proxy: scheme + "://" + addr, failure: websocket.ProxyUnreachable, secret: "unreach-Secret"})(t, err)
				})
			})
		}
	}
}
