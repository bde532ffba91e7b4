package network

import (
	"errors"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"

	wsloop "github.com/wsloop/websocket"
)

// redirectServer is an origin (127.0.0.1 and a port of its own) whose
// /ws is a gorilla echo that records the request headers it got, and
// whose other paths redirect as routes says (path → status and Location,
// {other} standing for the other origin's host:port).
type redirectServer struct {
	addr string
	mu   sync.Mutex
	seen []http.Header
}

func startRedirectServer(t *testing.T, routes map[string][2]string, other func() string) *redirectServer {
	t.Helper()
	s := &redirectServer{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt, ok := routes[r.URL.Path]; ok {
			http.SetCookie(w, &http.Cookie{Name: "hop", Value: strings.Trim(r.URL.Path, "/"), Path: "/"})
			w.Header().Set("Location", strings.ReplaceAll(rt[1], "{other}", other()))
			code := map[string]int{"301": 301, "302": 302, "303": 303, "307": 307, "308": 308}[rt[0]]
			w.WriteHeader(code)
			return
		}
		s.mu.Lock()
		s.seen = append(s.seen, r.Header.Clone())
		s.mu.Unlock()
		serveEcho(w, r, nil)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	s.addr = ln.Addr().String()
	return s
}

func (s *redirectServer) last() http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seen) == 0 {
		return nil
	}
	return s.seen[len(s.seen)-1]
}

func wantHandshakeError(status int, text string) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var he *wsloop.HandshakeError
		if !errors.As(err, &he) || he.StatusCode != status || !strings.Contains(err.Error(), text) {
			t.Errorf("error %v (%T), want a *HandshakeError %d saying %q", err, err, status, text)
		}
	}
}

func TestRedirects(t *testing.T) {
	var b *redirectServer
	a := startRedirectServer(t, map[string][2]string{
		"/rel":   {"302", "/ws"},
		"/http":  {"301", "http://{other}/ws"}, // http maps to ws
		"/cross": {"307", "ws://{other}/ws"},
		"/loop":  {"302", "/loop"},
		"/ftp":   {"308", "ftp://{other}/"},
		"/chain": {"303", "sub/../rel"}, // relative to /: /rel, then /ws
	}, func() string { return b.addr })
	b = startRedirectServer(t, nil, nil)

	t.Run("not followed by default", func(t *testing.T) {
		both(t, "ws://"+a.addr+"/rel", &wsloop.Config{}, wantHandshakeError(302, "MaxRedirects"))
	})
	t.Run("same origin keeps credentials", func(t *testing.T) {
		cfg := &wsloop.Config{MaxRedirects: 5, Header: http.Header{"Authorization": {"Bearer tok"}}}
		both(t, "ws://"+a.addr+"/chain", cfg, wantOK)
		if got := a.last().Get("Authorization"); got != "Bearer tok" {
			t.Errorf("the same origin got Authorization %q", got)
		}
	})
	t.Run("another origin gets no credentials", func(t *testing.T) {
		for _, path := range []string{"/cross", "/http"} {
			cfg := &wsloop.Config{MaxRedirects: 1, Username: "u", Password: "secret", BasicAuthUpfront: true,
				Header: http.Header{"Authorization": {"Bearer tok"}, "Cookie": {"mine=1"}, "X-Kept": {"1"}}}
			both(t, "ws://"+a.addr+path, cfg, wantOK)
			h := b.last()
			if h.Get("Authorization") != "" || h.Get("Cookie") != "" || h.Get("X-Kept") != "1" {
				t.Errorf("%s: the other origin got %v", path, h)
			}
		}
	})
	t.Run("cookies of each hop", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		both(t, "ws://"+a.addr+"/chain", &wsloop.Config{MaxRedirects: 2, Jar: jar}, wantOK)
		if got := a.last().Get("Cookie"); got != "hop=rel" {
			t.Errorf("the last hop sent Cookie %q, want the one the redirect before set", got)
		}
	})
	t.Run("too many", func(t *testing.T) {
		both(t, "ws://"+a.addr+"/loop", &wsloop.Config{MaxRedirects: 3}, wantHandshakeError(302, "more than 3 redirects"))
	})
	t.Run("not a WebSocket scheme", func(t *testing.T) {
		both(t, "ws://"+a.addr+"/ftp", &wsloop.Config{MaxRedirects: 3}, wantHandshakeError(308, "leaves ws, wss, http and https"))
	})
}
