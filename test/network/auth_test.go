package network

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	wsloop "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/test/internal/peers"
)

// The authentication tests dial servers that demand credentials: Python's
// websockets with Basic, Apache httpd's mod_auth_digest in front of the
// gorilla echo, and a gorilla server that wants a token. Each case counts
// the connections its dial made: a challenge answered takes two,
// credentials sent upfront and accepted one, and a refusal is never
// answered twice.

// The credentials the servers accept.
const (
	authUser = "alice"
	authPass = "s3cret pass"
)

// dialCounter is a Config.NetDial that counts the connections made.
type dialCounter struct{ n atomic.Int32 }

func (d *dialCounter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.n.Add(1)
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}

// authCase is a dial of url with cfg that is to echo (ok) or end in a
// 401, after dials connections.
type authCase struct {
	name  string
	url   string
	cfg   wsloop.Config
	ok    bool
	dials int32
}

// runAuthCases runs each case on both APIs. The error of a 401 may show
// none of secrets.
func runAuthCases(t *testing.T, cases []authCase, secrets []string) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var d dialCounter
			cfg := c.cfg
			cfg.NetDial = d.dial
			both(t, c.url, &cfg, func(t *testing.T, err error) {
				t.Helper()
				// both runs its dials one after the other.
				if n := d.n.Swap(0); n != c.dials {
					t.Errorf("the dial made %d connections, want %d", n, c.dials)
				}
				if c.ok {
					wantOK(t, err)
				} else {
					want401(t, err, secrets)
				}
			})
		})
	}
}

// want401 wants a *HandshakeError with StatusCode 401 whose message shows
// none of secrets, and logs the server's challenge.
func want401(t *testing.T, err error, secrets []string) {
	t.Helper()
	var he *wsloop.HandshakeError
	if !errors.As(err, &he) || he.StatusCode != http.StatusUnauthorized {
		t.Fatalf("error %v (%T), want a *HandshakeError with StatusCode 401", err, err)
	}
	t.Logf("%v; WWW-Authenticate: %q", err, he.Header.Values("WWW-Authenticate"))
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Errorf("the error %q shows the secret %q", err, s)
		}
	}
}

// secretsOf lists the forms a password may take in a message: itself, as
// in a URL, and in a Basic Authorization with user.
func secretsOf(user string, passwords ...string) []string {
	var out []string
	for _, p := range passwords {
		out = append(out, p, url.PathEscape(p), url.QueryEscape(p),
			base64.StdEncoding.EncodeToString([]byte(user+":"+p)))
	}
	return out
}

// withCredentials is rawURL with user and pass in its userinfo,
// percent-encoded.
func withCredentials(t *testing.T, rawURL, user, pass string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(user, pass)
	return u.String()
}

// Basic against Python's websockets (basic_auth_protocol_factory): its 401
// offers `Basic realm="wsloop", charset="UTF-8"`, and closes the
// connection.
func TestAuthBasicPython(t *testing.T) {
	t.Parallel()
	const wrong = "wrong horse"
	u := peers.PythonEchoBasicAuth(t, authUser, authPass)
	runAuthCases(t, []authCase{
		{name: "Username and Password", url: u, cfg: wsloop.Config{Username: authUser, Password: authPass}, ok: true, dials: 2},
		{name: "URL credentials", url: withCredentials(t, u, authUser, authPass), ok: true, dials: 2},
		{name: "BasicAuthUpfront", url: u, cfg: wsloop.Config{Username: authUser, Password: authPass, BasicAuthUpfront: true}, ok: true, dials: 1},
		{name: "URL credentials upfront", url: withCredentials(t, u, authUser, authPass), cfg: wsloop.Config{BasicAuthUpfront: true}, ok: true, dials: 1},
		{name: "Username over the URL's", url: withCredentials(t, u, "mallory", wrong), cfg: wsloop.Config{Username: authUser, Password: authPass}, ok: true, dials: 2},
		{name: "wrong password", url: u, cfg: wsloop.Config{Username: authUser, Password: wrong}, dials: 2},
		{name: "wrong password in the URL", url: withCredentials(t, u, authUser, wrong), dials: 2},
		// The challenge's answer is what was refused: no second try.
		{name: "wrong password upfront", url: u, cfg: wsloop.Config{Username: authUser, Password: wrong, BasicAuthUpfront: true}, dials: 1},
		{name: "unknown user", url: u, cfg: wsloop.Config{Username: "bob", Password: authPass}, dials: 2},
		{name: "no credentials", url: u, dials: 1},
	}, secretsOf(authUser, authPass, wrong))

	// Credentials with the URL's delimiters, which the URL holds
	// percent-encoded: Basic sends them decoded. (Not non-ASCII ones:
	// websockets 10.4 compares passwords with hmac.compare_digest, which
	// takes ASCII strings only, and answers others with a 500.)
	t.Run("escaped", func(t *testing.T) {
		const user, pass = "bob smith", "p@ss:w/rd %?#[]"
		u := peers.PythonEchoBasicAuth(t, user, pass)
		escaped := withCredentials(t, u, user, pass)
		t.Log(escaped)
		runAuthCases(t, []authCase{
			{name: "URL credentials", url: escaped, ok: true, dials: 2},
			{name: "URL credentials upfront", url: escaped, cfg: wsloop.Config{BasicAuthUpfront: true}, ok: true, dials: 1},
			{name: "Username and Password", url: u, cfg: wsloop.Config{Username: user, Password: pass}, ok: true, dials: 2},
		}, nil)
	})
}

// Digest (RFC 7616) against Apache httpd's mod_auth_digest, which proxies
// the accepted handshakes to the gorilla echo (mod_proxy_wstunnel). Its 401
// offers `Digest realm="wsloop", nonce="...", algorithm=MD5, qop="auth"`;
// it knows no other algorithm (2.4 refuses AuthDigestAlgorithm MD5-sess).
// It wants the answer's uri to be the request's target, query included,
// or answers 400.
func TestAuthDigestApache(t *testing.T) {
	t.Parallel()
	const wrong = "wrong horse"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	peers.GorillaEchoOn(t, ln)
	a := startApacheDigest(t, ln.Addr().String(), authUser, authPass)
	u := "ws://" + a.addr + "/ws"
	runAuthCases(t, []authCase{
		{name: "Username and Password", url: u, cfg: wsloop.Config{Username: authUser, Password: authPass}, ok: true, dials: 2},
		{name: "URL credentials", url: withCredentials(t, u, authUser, authPass), ok: true, dials: 2},
		{name: "query", url: u + "?room=1&who=a%20b", cfg: wsloop.Config{Username: authUser, Password: authPass}, ok: true, dials: 2},
		// Apache refuses the Basic sent upfront with its Digest
		// challenge, which the client answers.
		{name: "BasicAuthUpfront", url: u, cfg: wsloop.Config{Username: authUser, Password: authPass, BasicAuthUpfront: true}, ok: true, dials: 2},
		{name: "wrong password", url: u, cfg: wsloop.Config{Username: authUser, Password: wrong}, dials: 2},
		{name: "wrong password in the URL", url: withCredentials(t, u, authUser, wrong), dials: 2},
		{name: "wrong password upfront", url: u, cfg: wsloop.Config{Username: authUser, Password: wrong, BasicAuthUpfront: true}, dials: 2},
		{name: "unknown user", url: u, cfg: wsloop.Config{Username: "bob", Password: authPass}, dials: 2},
		{name: "no credentials", url: u, dials: 1},
	}, secretsOf(authUser, authPass, wrong))
}

// tokenServer is a gorilla echo that takes "Authorization: Bearer tok"
// and, when told to, Basic with authUser and authPass; it answers any
// other handshake, and one with more than one Authorization field, with a
// 401 and its challenges.
type tokenServer struct {
	url        string
	basic      bool
	challenges []string

	mu    sync.Mutex
	auths [][]string // each request's Authorization fields
}

func startTokenServer(t *testing.T, basic bool, challenges ...string) *tokenServer {
	t.Helper()
	s := &tokenServer{basic: basic, challenges: challenges}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.url = "ws://" + ln.Addr().String() + "/"
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	var handlers sync.WaitGroup
	var stopping bool
	conns := map[*websocket.Conn]bool{}
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !s.accepts(r) {
				for _, c := range s.challenges {
					w.Header().Add("WWW-Authenticate", c)
				}
				http.Error(w, "who are you?", http.StatusUnauthorized)
				return
			}
			s.mu.Lock()
			if stopping {
				s.mu.Unlock()
				http.Error(w, "stopping", http.StatusServiceUnavailable)
				return
			}
			handlers.Add(1)
			s.mu.Unlock()
			defer handlers.Done()
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer c.Close()
			s.mu.Lock()
			if stopping {
				s.mu.Unlock()
				return
			}
			conns[c] = true
			s.mu.Unlock()
			for {
				typ, p, err := c.ReadMessage()
				if err != nil || c.WriteMessage(typ, p) != nil {
					return
				}
			}
		}),
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-served
		s.mu.Lock()
		stopping = true
		for c := range conns {
			c.NetConn().Close()
		}
		s.mu.Unlock()
		handlers.Wait()
	})
	return s
}

// accepts records r's Authorization fields and checks them.
func (s *tokenServer) accepts(r *http.Request) bool {
	auth := r.Header.Values("Authorization")
	s.mu.Lock()
	s.auths = append(s.auths, auth)
	s.mu.Unlock()
	if len(auth) != 1 {
		return false
	}
	if auth[0] == "Bearer tok" {
		return true
	}
	user, pass, ok := r.BasicAuth()
	return s.basic && ok && user == authUser && pass == authPass
}

// take returns the Authorization fields of the requests since the last
// take.
func (s *tokenServer) take() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.auths
	s.auths = nil
	return out
}

// tokenCase is a dial of a tokenServer with cfg, to echo (ok) or end in a
// 401, after requests with those Authorization fields.
type tokenCase struct {
	name  string
	cfg   wsloop.Config
	ok    bool
	auths [][]string
}

func (s *tokenServer) run(t *testing.T, cases []tokenCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			both(t, s.url, &c.cfg, func(t *testing.T, err error) {
				t.Helper()
				if auths := s.take(); !slices.EqualFunc(auths, c.auths, slices.Equal) {
					t.Errorf("the server got the Authorization fields %q, want %q", auths, c.auths)
				}
				if c.ok {
					wantOK(t, err)
				} else {
					want401(t, err, secretsOf(authUser, authPass))
				}
			})
		})
	}
}

// basicAuthorization is the Authorization field of Basic with authUser
// and authPass.
var basicAuthorization = "Basic " + base64.StdEncoding.EncodeToString([]byte(authUser+":"+authPass))

// A Bearer token goes in Config.Header, sent with the first request; a
// Bearer challenge is one the client can not answer, whatever credentials
// it has.
func TestAuthBearerHeader(t *testing.T) {
	t.Parallel()
	s := startTokenServer(t, false, `Bearer realm="wsloop"`)
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	s.run(t, []tokenCase{
		{name: "token", cfg: wsloop.Config{Header: bearer("tok")}, ok: true, auths: [][]string{{"Bearer tok"}}},
		{name: "token and Username", cfg: wsloop.Config{Header: bearer("tok"), Username: authUser, Password: authPass}, ok: true, auths: [][]string{{"Bearer tok"}}},
		{name: "no token", auths: [][]string{nil}},
		{name: "wrong token", cfg: wsloop.Config{Header: bearer("expired")}, auths: [][]string{{"Bearer expired"}}},
		{name: "Username", cfg: wsloop.Config{Username: authUser, Password: authPass}, auths: [][]string{nil}},
		{name: "Username upfront", cfg: wsloop.Config{Username: authUser, Password: authPass, BasicAuthUpfront: true}, auths: [][]string{{basicAuthorization}}},
		{name: "wrong token and Username", cfg: wsloop.Config{Header: bearer("expired"), Username: authUser, Password: authPass}, auths: [][]string{{"Bearer expired"}}},
	})
}

// A server that takes a token or Basic credentials offers both schemes
// (here as two WWW-Authenticate fields); a token refused is replaced by
// the Basic answer, in the one Authorization field of the second request,
// however Config.Header spells the field's name.
func TestAuthBasicAfterBearer(t *testing.T) {
	t.Parallel()
	s := startTokenServer(t, true, `Bearer realm="wsloop", error="invalid_token"`, `Basic realm="wsloop"`)
	s.run(t, []tokenCase{
		{name: "Username", cfg: wsloop.Config{Username: authUser, Password: authPass}, ok: true, auths: [][]string{nil, {basicAuthorization}}},
		{name: "token refused", cfg: wsloop.Config{Header: http.Header{"Authorization": {"Bearer expired"}}, Username: authUser, Password: authPass}, ok: true,
			auths: [][]string{{"Bearer expired"}, {basicAuthorization}}},
		{name: "token refused, lower-case name", cfg: wsloop.Config{Header: http.Header{"authorization": {"Bearer expired"}}, Username: authUser, Password: authPass}, ok: true,
			auths: [][]string{{"Bearer expired"}, {basicAuthorization}}},
	})
}

// Config.Header's Authorization goes to the dialed origin only, however
// the field's name is spelled: a redirect to another origin drops it, as
// it drops credentials.
func TestAuthHeaderNotRedirectedAcrossOrigins(t *testing.T) {
	t.Parallel()
	var b *redirectServer
	a := startRedirectServer(t, map[string][2]string{"/cross": {"307", "ws://{other}/ws"}}, func() string { return b.addr })
	b = startRedirectServer(t, nil, nil)
	for _, name := range []string{"Authorization", "authorization", "AUTHORIZATION"} {
		t.Run(name, func(t *testing.T) {
			cfg := &wsloop.Config{MaxRedirects: 1, Header: http.Header{name: {"Bearer tok"}}}
			both(t, "ws://"+a.addr+"/cross", cfg, func(t *testing.T, err error) {
				wantOK(t, err)
				if got := b.last().Values("Authorization"); len(got) != 0 {
					t.Errorf("the other origin got Authorization %q", got)
				}
			})
		})
	}
}
