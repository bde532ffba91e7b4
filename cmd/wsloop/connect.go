package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wsloop/websocket"
)

func connectCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wsloop connect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var protocols stringsFlag
	fs.Var(&protocols, "protocol", "subprotocol to offer; repeat the flag to offer several, in order of preference")
	pingInterval := fs.Duration("ping-interval", 0, "send a keepalive ping after this `duration` without a byte from the server, and fail the connection when nothing comes back within it (0: none)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: wsloop connect [-protocol p]... [-ping-interval d] URL")
		fmt.Fprintln(stderr, "\nSends each line of standard input as a text message and prints each message received")
		fmt.Fprintln(stderr, "(binary ones as a hex dump). At the end of input it closes the connection normally.")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args, 1); !ok {
		return code
	}
	cfg := websocket.Config{Protocols: protocols, PingInterval: *pingInterval}
	return connect(ctx, fs.Arg(0), cfg, stdin, stdout, stderr)
}

// highWater is how many bytes connect lets wait in BufferedAmount before it
// stops reading input, so that piping a large file into a slow server does
// not buffer the whole file in memory.
const highWater = 1 << 20

// drainPoll is how often connect looks at BufferedAmount while above
// highWater: the API has no event for "the buffer drained", as browsers
// have none.
const drainPoll = 10 * time.Millisecond

// eofPing is the payload of the ping that follows the last line of input;
// eofLinger bounds the wait for its pong, for a server that is slow to
// answer pings.
const (
	eofPing   = "wsloop: end of input"
	eofLinger = 2 * time.Second
)

// connect runs one connection on its own loop: each line of stdin becomes a
// text message, each message received is printed to stdout, and errors and
// the close go to stderr. The end of stdin (once the server has read it
// all) or of ctx closes the connection with code 1000. It returns the exit
// code: 0 when the close was clean.
func connect(ctx context.Context, url string, cfg websocket.Config, stdin io.Reader, stdout, stderr io.Writer) int {
	loop := websocket.NewEventLoop()
	cfg.Loop = loop
	ws, err := websocket.NewWithConfig(url, &cfg)
	if err != nil {
		fmt.Fprintln(stderr, "wsloop connect:", err)
		return exitUsage
	}
	// Interrupted: close as the end of input does. While connecting, that
	// fails the connection (error, then close 1006), as in a browser.
	defer context.AfterFunc(ctx, func() { ws.CloseWith(websocket.CloseNormal, "") })()

	// report writes to stderr from the loop's goroutine, the only one that
	// writes output, so stdout and stderr need no lock.
	report := func(format string, args ...any) {
		loop.Post(func() { fmt.Fprintf(stderr, format, args...) })
	}

	// Everything below runs on the loop's goroutine, one callback at a
	// time, so clean and linger need no lock.
	clean := false
	var linger *websocket.Timer
	closeNormally := func() {
		if linger != nil {
			linger.Stop()
		}
		ws.CloseWith(websocket.CloseNormal, "")
	}
	// endOfInput does not close at once: a browser-style socket drops every
	// message that arrives once it is closing, which would lose the replies
	// to the last lines. A ping sent after them comes back only once the
	// server has read them, and servers answer in order, so their replies
	// come before its pong.
	endOfInput := func() {
		if ws.ReadyState() != websocket.Open {
			return
		}
		if err := ws.Ping([]byte(eofPing)); err != nil {
			closeNormally()
			return
		}
		linger = loop.SetTimeout(closeNormally, eofLinger)
	}

	ws.OnOpen = func(websocket.OpenEvent) {
		if p := ws.Protocol(); p != "" {
			fmt.Fprintf(stderr, "connected to %s (protocol %s)\n", ws.URL(), p)
		} else {
			fmt.Fprintf(stderr, "connected to %s\n", ws.URL())
		}
		// Reading stdin blocks, so it cannot run on the loop; Send is safe
		// from any goroutine. It starts only now because Send fails while
		// connecting.
		go sendLines(ws, stdin, report, func() { loop.Post(endOfInput) })
	}
	ws.OnMessage = func(m websocket.MessageEvent) { printMessage(stdout, m) }
	ws.OnPong = func(p websocket.PongEvent) {
		if linger != nil && string(p.Data) == eofPing {
			closeNormally()
		}
	}
	ws.OnError = func(e websocket.ErrorEvent) {
		fmt.Fprintln(stderr, "error:", e.Err)
	}
	ws.OnClose = func(c websocket.CloseEvent) {
		clean = c.WasClean
		fmt.Fprintf(stderr, "closed: code=%d reason=%q wasClean=%t\n", c.Code, c.Reason, c.WasClean)
		// A pending timer would keep Run from returning.
		if linger != nil {
			linger.Stop()
		}
	}

	if err := loop.Run(); err != nil {
		fmt.Fprintln(stderr, "wsloop connect:", err)
		return 1
	}
	if !clean {
		return 1
	}
	return 0
}

// printMessage prints m on one line: text as it is, so that the output of a
// text protocol can be piped on, and binary as a hex dump, since raw bytes
// would garble a terminal.
func printMessage(w io.Writer, m websocket.MessageEvent) {
	if m.Binary {
		fmt.Fprintf(w, "[binary %d bytes] %s\n", len(m.Data), hex.EncodeToString(m.Data))
		return
	}
	fmt.Fprintln(w, m.Text())
}

// sendLines sends each line of r as a text message, without its line
// ending, and calls atEOF at the end of r. It stops early once ws refuses
// data, which means it is closing.
func sendLines(ws *websocket.WebSocket, r io.Reader, report func(string, ...any), atEOF func()) {
	br := bufio.NewReader(r)
	for {
		// ReadString rather than a Scanner: a line has no length limit
		// here, beyond the server's own.
		line, err := br.ReadString('\n')
		if line != "" {
			line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
			if !utf8.ValidString(line) {
				// A text message must be UTF-8: the server would fail the
				// connection over it.
				report("skipped a line that is not valid UTF-8\n")
			} else {
				for ws.BufferedAmount() > highWater && ws.ReadyState() == websocket.Open {
					time.Sleep(drainPoll)
				}
				if err := ws.SendText(line); err != nil {
					if !errors.Is(err, websocket.ErrClosed) {
						report("send: %v\n", err)
					}
					return
				}
			}
		}
		if err != nil {
			if err != io.EOF {
				report("reading input: %v\n", err)
			}
			atEOF()
			return
		}
	}
}
