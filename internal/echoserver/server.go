package echoserver

import (
	"errors"
	"net"
	"sync"
	"time"
)

// Options configure a Server.
type Options struct {
	// Protocols are the subprotocols the server supports. Of those the client
	// offers, the server selects the first one that is in this list; when
	// none is, the handshake response names no protocol, as RFC 6455 asks.
	Protocols []string

	// Compression accepts the client's permessage-deflate offer (without
	// context takeover either way): the client's compressed messages are
	// inflated, and every message sent back is compressed.
	Compression bool

	// Logf, when not nil, receives one line per notable event, such as a
	// failed handshake or a connection closed because of an error.
	Logf func(format string, args ...any)
}

// Server is a running echo server. Its methods are safe for concurrent use.
type Server struct {
	ln   net.Listener
	opts Options

	// done is closed by Close so that the accept loop stops backing off
	// right away instead of sleeping through the shutdown.
	done chan struct{}

	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{}
	err    error // the listener's close error, reported by every Close call

	// wg counts the accept loop and one goroutine per connection, so that
	// Close can promise that none of them outlives it.
	wg sync.WaitGroup
}

// Listen starts an echo server listening on the TCP address addr, such as
// "127.0.0.1:0" for an ephemeral port, and serves in the background until
// Close is called.
func Listen(addr string, opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{
		ln:    ln,
		opts:  opts,
		done:  make(chan struct{}),
		conns: make(map[net.Conn]struct{}),
	}
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

// URL returns the ws:// URL clients connect to, such as
// "ws://127.0.0.1:8080/".
func (s *Server) URL() string {
	return "ws://" + s.ln.Addr().String() + "/"
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr {
	return s.ln.Addr()
}

// Close stops listening, closes every open connection without a closing
// handshake and returns once all of the server's goroutines have ended.
// Calling it again has no further effect and returns the same error.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
		s.err = s.ln.Close()
		for c := range s.conns {
			c.Close()
		}
	}
	err := s.err
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Running out of file descriptors is the usual cause: it is
			// transient, so wait a little for connections to go away
			// rather than stop serving or spin.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.logf("echoserver: accept: %v; retrying in %v", err, backoff)
			select {
			case <-time.After(backoff):
				continue
			case <-s.done:
				return
			}
		}
		backoff = 0
		if !s.track(c) {
			c.Close()
			return
		}
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			s.serve(c)
		}()
	}
}

// track registers c so that Close can interrupt it. It reports false once
// the server is closed, because Close has then already closed the others and
// would not see this one.
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	// Added under the lock so that Close, which waits after taking it,
	// can not miss this goroutine.
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(c net.Conn) {
	c.Close()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}
