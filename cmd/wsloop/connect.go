package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/wsloop/websocket"
)

// connect's exit codes beside 0 (a clean close) and exitUsage; the usage
// text documents them.
const (
	exitFailure  = 1 // never opened: refused, unreachable, timed out
	exitAbnormal = 3 // opened, then ended without a closing handshake
)

// eofPing is the payload of the ping that follows the last message sent;
// its pong says the server has read them all. eofPongTimeout bounds the
// wait for it, for a server that does not answer pings.
const (
	eofPing        = "wsloop: end of input"
	eofPongTimeout = 10 * time.Second
)

// highWater is how many bytes connect lets wait in BufferedAmount before
// it stops reading input, so that piping a large file into a slow server
// does not hold the whole file in memory.
const highWater = 1 << 20

// connectCommand is "wsloop connect": at a terminal, the prompt, where
// everything is printed through the line editor; otherwise messages on
// stdout (or -json's events) and the rest on stderr.
func connectCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, code, ok := parseConnectFlags(args, stderr)
	if !ok {
		return code
	}
	if len(o.execute) == 0 && !o.json {
		if t, ok := openTerminal(stdin, stdout); ok {
			defer t.restore()
			// SIGINT or SIGTERM: a new line first, then the close.
			tctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			defer context.AfterFunc(ctx, func() { t.interrupted(); cancel() })()
			return runSession(tctx, o, t.input(), t.printer(o.enc), t)
		}
	}
	var p printer = &textPrinter{out: stdout, status: stderr, enc: o.enc}
	if o.json {
		p = newJSONPrinter(stdout, o.enc)
	}
	var src lineSource
	if len(o.execute) == 0 {
		src = newLineReader(stdin)
	}
	return runSession(ctx, o, src, p, stderr)
}

// connect is "wsloop connect URL" with cfg, for the other commands'
// tests: lines from stdin, messages to stdout, the rest to stderr.
func connect(ctx context.Context, url string, cfg websocket.Config, stdin io.Reader, stdout, stderr io.Writer) int {
	o := connectOptions{url: url, cfg: cfg, wait: waitFlag{d: defaultWait}}
	return runSession(ctx, o, newLineReader(stdin), &textPrinter{out: stdout, status: stderr}, stderr)
}

// session is one run of connect: a socket on a loop of its own. The
// fields after the blank line are the loop's: only callbacks touch them.
type session struct {
	o       connectOptions
	loop    *websocket.EventLoop
	ws      *websocket.WebSocket
	p       printer
	warnOut io.Writer     // warnings about the input, written on the loop
	room    chan struct{} // a token from each OnBufferedAmountLow
	closed  chan struct{} // closed at the close event

	opened   bool
	received int
	ending   bool             // the input ended: waiting for the last replies
	pongWait *websocket.Timer // the eofPing's pong is awaited
	quiet    *websocket.Timer // -wait's clock is running
	lastMsg  time.Time        // when a message last arrived, for quiet
	code     int              // the exit code, once closed
}

// runSession runs one connection: each line from src (nil: the -execute
// messages) goes out as a message, each event goes to p, and warnings go
// to warnOut. It returns the exit code.
func runSession(ctx context.Context, o connectOptions, src lineSource, p printer, warnOut io.Writer) int {
	s := &session{
		o:       o,
		loop:    websocket.NewEventLoop(),
		p:       p,
		warnOut: warnOut,
		room:    make(chan struct{}, 1),
		closed:  make(chan struct{}),
		code:    exitFailure,
	}
	cfg := o.cfg
	cfg.Loop = s.loop
	cfg.BufferedAmountLowThreshold = highWater
	ws, err := websocket.NewWithConfig(o.url, &cfg)
	if err != nil {
		// A URL or a Config the library refuses: the command line's fault.
		fmt.Fprintln(warnOut, "wsloop connect:", err)
		return exitUsage
	}
	s.ws = ws
	// Interrupted: close at once. While connecting, that fails the
	// connection (error, then close 1006), as in a browser.
	defer context.AfterFunc(ctx, s.interrupt)()

	ws.OnOpen = func(websocket.OpenEvent) {
		s.opened = true
		p.open(ws)
		if src == nil {
			s.execute()
			return
		}
		// Reading input blocks, so it cannot run on the loop; Send is safe
		// from any goroutine. It starts only now because Send fails while
		// connecting.
		go s.pump(src)
	}
	ws.OnMessage = s.message
	ws.OnPing = func(e websocket.PingEvent) { p.ping(e.Data) }
	ws.OnPong = s.pong
	ws.OnError = func(e websocket.ErrorEvent) { p.error(e.Err) }
	ws.OnBufferedAmountLow = func(websocket.BufferedAmountLowEvent) {
		select {
		case s.room <- struct{}{}:
		default: // a token is waiting already
		}
	}
	ws.OnClose = s.close

	if err := s.loop.Run(); err != nil {
		fmt.Fprintln(warnOut, "wsloop connect:", err)
		return exitFailure
	}
	return s.code
}

// execute sends the -execute messages, on the loop, and then behaves as
// at the end of input.
func (s *session) execute() {
	for _, line := range s.o.execute {
		data, binary, err := s.encodeLine(line)
		if err == nil {
			err = s.send(data, binary)
		}
		if err != nil {
			s.warn("-execute %q: %v\n", line, err)
		}
	}
	s.endOfInput()
}

func (s *session) message(m websocket.MessageEvent) {
	s.p.message(m)
	m.Release() // printed, not kept
	s.received++
	s.lastMsg = time.Now()
	if s.o.count > 0 && s.received >= s.o.count {
		s.closeNormally()
	}
}

func (s *session) pong(e websocket.PongEvent) {
	s.p.pong(e.Data)
	if s.pongWait != nil && string(e.Data) == eofPing {
		s.pongWait.Stop()
		s.pongWait = nil
		s.startQuiet()
	}
}

// endOfInput starts the wait for the replies still in flight. It does not
// close at once: a browser-shaped socket drops every message that arrives
// once it is closing, which would lose the replies to the last lines. The
// ping sent behind the last message comes back once the server has read
// them all; from then on -wait's clock runs, restarted by each message,
// since a server may answer the ping before it has answered every message
// (Python's websockets does).
func (s *session) endOfInput() {
	if s.ending || s.ws.ReadyState() != websocket.Open {
		return
	}
	s.ending = true
	if s.o.wait.forever {
		return // until the server closes, -count or an interrupt
	}
	if err := s.ws.Ping([]byte(eofPing)); err != nil {
		s.closeNormally()
		return
	}
	s.pongWait = s.loop.SetTimeout(func() {
		s.pongWait = nil
		s.startQuiet()
	}, eofPongTimeout)
}

// startQuiet starts -wait's clock, once the server has read everything.
func (s *session) startQuiet() {
	if s.o.wait.d == 0 {
		s.closeNormally()
		return
	}
	s.lastMsg = time.Now()
	s.armQuiet(s.o.wait.d)
}

// armQuiet sets the quiet timer to look again after d. Messages do not
// move the timer: each would cost a timer's removal and insertion; they
// leave their time in lastMsg, and the timer, when it fires, waits out
// what is left of -wait since then.
func (s *session) armQuiet(d time.Duration) {
	s.quiet = s.loop.SetTimeout(func() {
		s.quiet = nil
		if left := s.o.wait.d - time.Since(s.lastMsg); left > 0 {
			s.armQuiet(left)
			return
		}
		s.closeNormally()
	}, d)
}

func (s *session) stopTimers() {
	// A pending timer would keep Run from returning.
	for _, t := range []**websocket.Timer{&s.pongWait, &s.quiet} {
		if *t != nil {
			(*t).Stop()
			*t = nil
		}
	}
}

// closeNormally starts the closing handshake with 1000, on the loop.
func (s *session) closeNormally() {
	s.stopTimers()
	s.ws.CloseWith(websocket.CloseNormal, "")
}

// interrupt closes at once, from any goroutine: SIGINT, or Ctrl-C at the
// prompt.
func (s *session) interrupt() { s.loop.Post(s.closeNormally) }

func (s *session) close(c websocket.CloseEvent) {
	s.stopTimers()
	s.p.close(c)
	switch {
	case c.WasClean:
		s.code = 0
	case s.opened:
		s.code = exitAbnormal
	default:
		s.code = exitFailure
	}
	close(s.closed)
}

// warn writes a warning about the input from any goroutine: on the loop,
// the only goroutine that writes output, so that no lock is needed.
func (s *session) warn(format string, args ...any) {
	s.loop.Post(func() { fmt.Fprintf(s.warnOut, format, args...) })
}
