package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/wsloop/websocket"
)

// The demo's script: what it sends and what it expects back.
const (
	demoProtocol = "demo.v1"
	demoText     = "hello, wsloop"
	demoPing     = "are you there?"
	demoCloseCmd = "!close 4000 demo done"
	// demoPause is how long the demo lets the connection idle before it
	// asks the server to close, to show a timer sharing the loop with the
	// socket.
	demoPause = 20 * time.Millisecond
	// demoDeadline bounds the whole demo, so that a server that stops
	// answering makes it fail rather than hang.
	demoDeadline = 10 * time.Second
)

var demoBinary = []byte{0xde, 0xad, 0xbe, 0xef, 0x00, 0x01}

// demoExpected is the event sequence a correct client sees, each event
// reduced to its type and the data that identifies it.
var demoExpected = []string{
	"open " + demoProtocol,
	"message text " + demoText,
	"message binary " + fmt.Sprintf("% x", demoBinary),
	"pong " + demoPing,
	`close 4000 "demo done" clean`,
}

func demoCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wsloop demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: wsloop demo")
		fmt.Fprintln(stderr, "\nStarts an echo server on 127.0.0.1 and runs one client against it, printing each event.")
	}
	if code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	if err := demo(ctx, stdout); err != nil {
		fmt.Fprintln(stderr, "wsloop demo:", err)
		return 1
	}
	return 0
}

// demo runs the demo, writing one line per step to w, and reports whether
// the client saw exactly the expected sequence of events.
func demo(ctx context.Context, w io.Writer) error {
	// The server is the library's too (the Upgrader, on a loop of its
	// own), as wsloop serve runs it.
	srv, err := startServer("127.0.0.1:0", serverOptions{Protocols: []string{demoProtocol}})
	if err != nil {
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), demoDeadline)
		defer cancel()
		srv.shutdown(ctx)
	}()
	fmt.Fprintf(w, "server  %s protocols=%s\n", srv.URL(), demoProtocol)

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL(), &websocket.Config{
		Protocols: []string{demoProtocol},
		Loop:      loop,
	})
	if err != nil {
		return err
	}
	// state is appended to each line: the two attributes a browser program
	// watches, read at the moment the event is handled.
	state := func() string {
		return fmt.Sprintf("readyState=%s bufferedAmount=%d", ws.ReadyState(), ws.BufferedAmount())
	}
	fmt.Fprintf(w, "new     url=%s %s\n", ws.URL(), state())

	// Every callback below runs on the loop's goroutine, one at a time, so
	// seen and failure need no lock.
	var seen []string
	var failure error
	fail := func(err error) {
		if failure == nil {
			failure = err
		}
	}
	check := func(what string, err error) {
		if err != nil {
			fail(fmt.Errorf("%s: %w", what, err))
		}
	}

	watchdog := loop.SetTimeout(func() {
		fail(fmt.Errorf("no close event after %v", demoDeadline))
		ws.Close()
	}, demoDeadline)
	// An interrupt ends the demo the way the deadline does: Close is safe
	// from any goroutine.
	defer context.AfterFunc(ctx, func() { ws.Close() })()

	ws.OnOpen = func(websocket.OpenEvent) {
		seen = append(seen, "open "+ws.Protocol())
		fmt.Fprintf(w, "open    protocol=%s %s\n", ws.Protocol(), state())

		check("send text", ws.SendText(demoText))
		fmt.Fprintf(w, "send    text %q %s\n", demoText, state())
		check("send binary", ws.Send(demoBinary))
		fmt.Fprintf(w, "send    binary %d bytes %s\n", len(demoBinary), state())
		check("ping", ws.Ping([]byte(demoPing)))
		fmt.Fprintf(w, "ping    %q %s\n", demoPing, state())
	}
	ws.OnMessage = func(m websocket.MessageEvent) {
		if m.Binary {
			seen = append(seen, fmt.Sprintf("message binary % x", m.Data))
			fmt.Fprintf(w, "message binary %d bytes [% x] %s\n", len(m.Data), m.Data, state())
			return
		}
		seen = append(seen, "message text "+m.Text())
		fmt.Fprintf(w, "message text %q %s\n", m.Text(), state())
	}
	ws.OnPong = func(p websocket.PongEvent) {
		seen = append(seen, "pong "+string(p.Data))
		fmt.Fprintf(w, "pong    %q %s\n", p.Data, state())
		// The echoes are in; leave the connection idle for a moment before
		// ending it, as a program waiting for more would.
		fmt.Fprintf(w, "timer   SetTimeout(%v) to ask the server to close\n", demoPause)
		loop.SetTimeout(func() {
			check("send close command", ws.SendText(demoCloseCmd))
			fmt.Fprintf(w, "send    text %q %s\n", demoCloseCmd, state())
		}, demoPause)
	}
	ws.OnError = func(e websocket.ErrorEvent) {
		seen = append(seen, "error")
		fmt.Fprintf(w, "error   %v %s\n", e.Err, state())
	}
	ws.OnClose = func(c websocket.CloseEvent) {
		clean := "unclean"
		if c.WasClean {
			clean = "clean"
		}
		seen = append(seen, fmt.Sprintf("close %d %q %s", c.Code, c.Reason, clean))
		fmt.Fprintf(w, "close   code=%d reason=%q wasClean=%t %s\n", c.Code, c.Reason, c.WasClean, state())
		// A pending timer keeps the loop alive: stopping the watchdog lets
		// Run return as soon as the socket is gone.
		watchdog.Stop()
	}

	if err := loop.Run(); err != nil {
		return err
	}
	if failure != nil {
		return failure
	}
	if !slices.Equal(seen, demoExpected) {
		return errors.New("unexpected events:\n  got:  " + strings.Join(seen, "; ") +
			"\n  want: " + strings.Join(demoExpected, "; "))
	}
	fmt.Fprintln(w, "done    the events came in the expected order")
	return nil
}
