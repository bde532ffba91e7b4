package network

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	wsloop "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/test/internal/testenv"
)

// cookieServer is an HTTP server with a login page that sets cookies, a
// WebSocket endpoint (gorilla) that records the Cookie header it got and
// sets one more in its 101, a refusing endpoint that sets a cookie in its
// 401, and a page that echoes the Cookie header.
type cookieServer struct {
	addr string
	mu   sync.Mutex
	seen []string // Cookie headers of the WebSocket requests
}

func startCookieServer(t *testing.T) *cookieServer {
	t.Helper()
	s := &cookieServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "abc", Path: "/"})
		http.SetCookie(w, &http.Cookie{Name: "pref", Value: "dark", Path: "/", MaxAge: 3600, HttpOnly: true})
	})
	mux.HandleFunc("/check", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("Cookie"))
	})
	mux.HandleFunc("/refuse", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "challenge", Value: "42", Path: "/"})
		http.Error(w, "log in first", http.StatusUnauthorized)
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, r.Header.Get("Cookie"))
		s.mu.Unlock()
		serveEcho(w, r, http.Header{"Set-Cookie": {"ws=1; Path=/"}})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	s.addr = ln.Addr().String()
	return s
}

func (s *cookieServer) lastSeen() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[len(s.seen)-1]
}

func curl(t *testing.T, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("curl")
	if err != nil {
		testenv.Unavailable(t, "curl is not installed (apt-get install curl)")
	}
	out, err := exec.Command(path, append([]string{"-sS", "--max-time", "20"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("curl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// curl and wsloop share one cookie file: curl logs in, the WebSocket
// handshake sends its cookies and stores the server's new one, and curl
// sends all three.
func TestCookieFileSharedWithCurl(t *testing.T) {
	s := startCookieServer(t)
	file := filepath.Join(t.TempDir(), "cookies.txt")
	curl(t, "-c", file, "http://"+s.addr+"/login")

	jar, err := wsloop.OpenCookieFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws, err := wsloop.Dial(ctx, "ws://"+s.addr+"/ws", &wsloop.Config{Jar: jar})
	if err != nil {
		t.Fatal(err)
	}
	ws.Close()
	// Both have path /: their order is the file's, which is curl's.
	if got := s.lastSeen(); got != "session=abc; pref=dark" && got != "pref=dark; session=abc" {
		t.Errorf("the handshake sent Cookie %q", got)
	}
	if err := jar.Err(); err != nil {
		t.Fatal(err)
	}
	got := curl(t, "-b", file, "http://"+s.addr+"/check")
	for _, want := range []string{"session=abc", "pref=dark", "ws=1"} {
		if !strings.Contains(got, want) {
			t.Errorf("curl sent Cookie %q, without %s", got, want)
		}
	}
}

// Any http.CookieJar: net/http/cookiejar's keeps the cookie of a refusal
// and of a 101 for the next handshake, on the event loop and the blocking
// API. A Cookie in Config.Header goes first.
func TestJarAcrossHandshakes(t *testing.T) {
	s := startCookieServer(t)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &wsloop.Config{Jar: jar, Header: http.Header{"Cookie": {"mine=0"}}}
	both(t, "ws://"+s.addr+"/refuse", cfg, func(t *testing.T, err error) {
		var he *wsloop.HandshakeError
		if !errors.As(err, &he) || he.StatusCode != http.StatusUnauthorized {
			t.Fatalf("error %v, want a 401 *HandshakeError", err)
		}
	})
	both(t, "ws://"+s.addr+"/ws", cfg, wantOK)
	if got := s.lastSeen(); got != "mine=0; challenge=42; ws=1" {
		t.Errorf("the last handshake sent Cookie %q", got)
	}
}
