package peers

import (
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"
)

// This file is what the in-process Go peers (gorilla/websocket and
// coder/websocket) share: an HTTP server on 127.0.0.1 that leaves nothing
// behind once the test ends, and the echo server's commands, run on a
// library-neutral connection.

// maxMessageSize is the peers' message limit: large enough for the 16 MiB
// scenarios, as the Python and Node servers are told too.
const maxMessageSize = 64 << 20

// closeWait bounds how long a server that sent a close frame waits for the
// client's, as the Python server's close_timeout.
const closeWait = 5 * time.Second

// stopBound bounds how long the cleanup waits for the connections'
// handlers to return once their connections are closed.
const stopBound = 10 * time.Second

// goServer is an HTTP server whose handlers hijack their connections, which
// http.Server.Close does not track: the server tracks them itself, so that
// its cleanup ends every connection and waits for every handler.
type goServer struct {
	srv *http.Server

	mu       sync.Mutex
	conns    map[io.Closer]struct{}
	stopping bool
	handlers sync.WaitGroup
}

// serveGo serves handler on 127.0.0.1 with an ephemeral port and returns
// the ws:// URL; the server stops at t.Cleanup. handler gets track, which
// registers the connection it hijacked and reports false when the server
// is stopping already (the handler must then close it and return).
func serveGo(t testing.TB, name string, handler func(w http.ResponseWriter, r *http.Request, track func(io.Closer) bool)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("%s peer: %v", name, err)
	}
	serveGoOn(t, name, ln, handler)
	return "ws://" + ln.Addr().String() + "/"
}

// serveGoOn is serveGo on a listener of the caller's: TLS, a Unix socket,
// one in another network namespace.
func serveGoOn(t testing.TB, name string, ln net.Listener, handler func(w http.ResponseWriter, r *http.Request, track func(io.Closer) bool)) {
	s := &goServer{conns: map[io.Closer]struct{}{}}
	s.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.mu.Lock()
			if s.stopping {
				s.mu.Unlock()
				http.Error(w, "stopping", http.StatusServiceUnavailable)
				return
			}
			s.handlers.Add(1)
			s.mu.Unlock()
			defer s.handlers.Done()
			handler(w, r, s.track)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          nil,
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		s.srv.Serve(ln)
	}()
	t.Cleanup(func() {
		s.mu.Lock()
		s.stopping = true
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.srv.Close()
		<-served
		done := make(chan struct{})
		go func() {
			s.handlers.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(stopBound):
			t.Errorf("%s peer: connection handlers still running %v after their connections were closed", name, stopBound)
		}
	})
}

func (s *goServer) track(c io.Closer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

// selectProtocol is the subprotocol the peers select: the first one the
// client offers that the server supports, as the Python server does. The
// Go libraries rank by the server's order instead, so they are told the
// answer.
func selectProtocol(offered, supported []string) string {
	for _, p := range offered {
		for _, q := range supported {
			if p == q {
				return p
			}
		}
	}
	return ""
}

// echoConn is one server connection of a Go WebSocket library, as the echo
// commands need it. Every method is called on the connection's handler
// goroutine.
type echoConn interface {
	// read returns the next message.
	read() (binary bool, p []byte, err error)
	// write sends a message.
	write(binary bool, p []byte) error
	// ping sends a ping with payload.
	ping(payload []byte) error
	// close runs the closing handshake the server starts, with code and
	// reason, and ends the connection.
	close(code int, reason string) error
}

var (
	closeCommand = regexp.MustCompile(`\A!close (\d{1,5})(?: ((?s).*))?\z`)
	pingCommand  = regexp.MustCompile(`\A!ping(?: ((?s).*))?\z`)
)

// pendingPings are the payloads of the pings "!ping" sent that no pong has
// answered yet.
type pendingPings struct {
	mu sync.Mutex
	n  map[string]int
}

func (p *pendingPings) add(payload string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == nil {
		p.n = map[string]int{}
	}
	p.n[payload]++
}

// answered reports whether a pong with payload answers a pending ping, and
// takes that ping off the list.
func (p *pendingPings) answered(payload string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n[payload] == 0 {
		return false
	}
	p.n[payload]--
	return true
}

// reportPong sends "pong:PAYLOAD" when payload answers a ping "!ping"
// sent; the libraries call it from their pong callbacks, on the handler
// goroutine.
func reportPong(c echoConn, pending *pendingPings, payload []byte) error {
	if !pending.answered(string(payload)) {
		return nil
	}
	return c.write(false, append([]byte("pong:"), payload...))
}

// runEcho echoes every message on c with its type and runs the commands,
// until the connection ends. It returns the error that ended it, nil after
// a closing handshake the server started.
func runEcho(c echoConn, pending *pendingPings) error {
	for {
		binary, p, err := c.read()
		if err != nil {
			return err
		}
		if !binary {
			if m := closeCommand.FindSubmatch(p); m != nil {
				code, _ := strconv.Atoi(string(m[1]))
				return c.close(code, string(m[2]))
			}
			if m := pingCommand.FindSubmatch(p); m != nil {
				if len(m[1]) > 125 {
					return errors.New("!ping payload over 125 bytes")
				}
				pending.add(string(m[1]))
				if err := c.ping(m[1]); err != nil {
					return err
				}
				continue
			}
		}
		if err := c.write(binary, p); err != nil {
			return err
		}
	}
}
