// Multi runs many sockets on one event loop, as a browser tab or a Node
// program does: every callback runs on the loop's goroutine, one at a time,
// so the counters below are plain integers with no lock.
//
// Run it with
//
//	go run ./examples/multi [-n 100] [-m 100]
//
// to open n sockets to the embedded echo server, which it starts on
// 127.0.0.1 (or -url ws://host:port/path for another echo server), send m
// messages on each and count the echoes.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/wsloop/websocket"
	"github.com/wsloop/websocket/internal/echoserver"
)

func main() {
	url := flag.String("url", "", "echo server URL; empty starts the embedded one on 127.0.0.1")
	n := flag.Int("n", 100, "number of sockets")
	m := flag.Int("m", 100, "messages per socket")
	timeout := flag.Duration("timeout", 30*time.Second, "give up after this long")
	flag.Parse()
	if *n < 1 || *m < 1 {
		fmt.Fprintln(os.Stderr, "multi: -n and -m must be at least 1")
		os.Exit(2)
	}
	if *url == "" {
		srv, err := echoserver.Listen("127.0.0.1:0", echoserver.Options{})
		if err != nil {
			log.Fatal(err)
		}
		defer srv.Close()
		*url = srv.URL()
	}
	if !run(*url, *n, *m, *timeout) {
		os.Exit(1)
	}
}

// run reports whether every socket got all its echoes back and closed
// cleanly within timeout.
func run(url string, n, m int, timeout time.Duration) bool {
	loop := websocket.NewEventLoop()
	start := time.Now()

	// Loop-only state: touched only by callbacks, so never concurrently.
	var (
		echoes, open, closed, unclean, failed int
		progress, deadline                    *websocket.Timer
	)
	progress = loop.SetInterval(func() {
		fmt.Printf("progress: %d/%d sockets open, %d/%d echoes, %d closed\n", open, n, echoes, n*m, closed)
	}, 25*time.Millisecond)
	// Stop makes Run return even though sockets are still open: the way
	// out when the server stops answering.
	deadline = loop.SetTimeout(func() {
		fmt.Printf("timed out after %v\n", timeout)
		failed++
		loop.Stop()
	}, timeout)

	payload := "0123456789abcdef0123456789abcdef"
	for i := range n {
		ws, err := websocket.NewWithConfig(url, &websocket.Config{Loop: loop})
		if err != nil {
			log.Print(err)
			return false
		}
		got := 0 // this socket's echoes: each closure has its own
		ws.OnOpen = func(websocket.OpenEvent) {
			open++
			for range m {
				ws.SendText(payload)
			}
		}
		ws.OnMessage = func(websocket.MessageEvent) {
			got++
			echoes++
			if got == m {
				ws.CloseWith(websocket.CloseNormal, "")
			}
		}
		ws.OnError = func(e websocket.ErrorEvent) {
			fmt.Printf("socket %d: %v\n", i, e.Err)
		}
		ws.OnClose = func(c websocket.CloseEvent) {
			closed++
			if !c.WasClean || got != m {
				unclean++
			}
			if closed == n {
				// The timers are all that is left: stopping them lets Run
				// return on its own.
				progress.Stop()
				deadline.Stop()
			}
		}
	}

	if err := loop.Run(); err != nil {
		log.Print(err)
		return false
	}
	elapsed := time.Since(start)
	fmt.Printf("sockets: %d, messages sent: %d, echoes: %d, closed cleanly: %d\n", n, n*m, echoes, closed-unclean)
	fmt.Printf("elapsed: %v (%.0f echoes/s)\n", elapsed.Round(time.Millisecond), float64(echoes)/elapsed.Seconds())
	return failed == 0 && unclean == 0 && echoes == n*m
}
