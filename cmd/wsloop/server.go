package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/wsloop/websocket"
)

// serverOptions are what the serve command and the demo ask of the server.
type serverOptions struct {
	Protocols     []string // Upgrader.Protocols
	Origins       []string // Upgrader.AllowedOrigins
	NoCompression bool
	PingInterval  time.Duration
	Broadcast     bool         // every message to every socket, instead of back to its sender
	Logger        *slog.Logger // nil: silent, as the demo wants it

	// maxBuffered is Upgrader.MaxBufferedAmount: a test makes it small to
	// have a slow client without sending megabytes.
	maxBuffered int
}

// readHeaderTimeout keeps a client that never finishes its request from
// holding a connection: the Upgrader's limits start at the upgrade.
const readHeaderTimeout = 10 * time.Second

// server is the public Upgrader at work: an HTTP server whose requests
// become sockets on a loop of its own, which runs on a goroutine of its
// own until shutdown.
type server struct {
	ln       net.Listener
	http     *http.Server
	up       *websocket.Upgrader
	loop     *websocket.EventLoop
	loopDone chan struct{} // closed once the loop's goroutine has returned
}

// startServer listens on addr and serves in the background until
// shutdown.
func startServer(addr string, opts serverOptions) (*server, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	loop := websocket.NewEventLoop()
	up := &websocket.Upgrader{
		AllowedOrigins:    opts.Origins,
		Protocols:         opts.Protocols,
		NoCompression:     opts.NoCompression,
		PingInterval:      opts.PingInterval,
		MaxBufferedAmount: opts.maxBuffered,
		Loop:              loop,
		Logger:            opts.Logger,
	}
	if err := checkUpgrader(up); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	rl := &relay{loop: loop, broadcast: opts.Broadcast, log: log}
	s := &server{
		ln: ln,
		http: &http.Server{
			Handler:           logRefusals(log, up.Handler(rl.accept)),
			ReadHeaderTimeout: readHeaderTimeout,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		up:       up,
		loop:     loop,
		loopDone: make(chan struct{}),
	}
	// The loop waits for sockets the HTTP handlers make, so it must not
	// return when it has none: RunContext, until shutdown stops it.
	go func() {
		defer close(s.loopDone)
		loop.RunContext(context.Background())
	}()
	go s.http.Serve(ln)
	return s, nil
}

// checkUpgrader has the Upgrader check its fields now: it checks them at
// its first request, and a bad -origin or -protocol would otherwise start
// a server that answers every request with 500. A request that is no
// WebSocket handshake makes it check them and refuse (426) without
// touching a connection.
func checkUpgrader(up *websocket.Upgrader) error {
	_, err := up.Upgrade(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	var cfg *websocket.ConfigError
	if errors.As(err, &cfg) {
		return err
	}
	return nil
}

// URL is the ws:// URL clients connect to.
func (s *server) URL() string {
	return "ws://" + s.ln.Addr().String() + "/"
}

// shutdown stops the server within ctx: the HTTP server first, so that
// no new socket is made (it does not know the hijacked connections), then
// the Upgrader, which closes every socket with 1001 and waits for the
// closing handshakes, dropping at ctx's end those not done. Then the loop
// stops: it has nothing left to do.
func (s *server) shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if err != nil {
		s.http.Close() // ctx ended with HTTP requests in progress
	}
	if uerr := s.up.Shutdown(ctx); err == nil {
		err = uerr
	}
	// A task, so that it runs after the drop Shutdown queues when ctx
	// ends first: the connections are closed before the loop stops.
	s.loop.Post(s.loop.Stop)
	<-s.loopDone
	return err
}

// logRefusals logs the requests the Upgrader refuses, with its reason. A
// browser tells its page only that the connection failed (close 1006),
// never the status or why, so the server's log is where a wrong -origin
// shows.
func logRefusals(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&refusalWriter{ResponseWriter: w, r: r, log: log}, r)
	})
}

// refusalWriter sees the status and the body of a refusal. An upgrade
// writes neither (its 101 goes on the hijacked connection), and Unwrap
// lets the Upgrader's http.ResponseController reach the connection.
type refusalWriter struct {
	http.ResponseWriter
	r      *http.Request
	log    *slog.Logger
	status int
	logged bool
}

func (w *refusalWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// Write logs the refusal with its body, the Upgrader's reason, which it
// writes in one piece.
func (w *refusalWriter) Write(p []byte) (int, error) {
	if w.status >= 400 && !w.logged {
		w.logged = true
		w.log.Warn("refused", "status", w.status, "reason", string(bytes.TrimRight(p, "\r\n")),
			"remote", w.r.RemoteAddr, "origin", w.r.Header.Get("Origin"))
	}
	return w.ResponseWriter.Write(p)
}

func (w *refusalWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
