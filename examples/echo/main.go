// Echo is the smallest event-driven program: one socket on one event loop,
// written the way the same program is written in JavaScript.
//
// Run it with
//
//	go run ./examples/echo
//
// to talk to the embedded echo server, which it starts on 127.0.0.1, or
// with -url ws://host:port/path to talk to another echo server.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/wsloop/websocket"
	"github.com/wsloop/websocket/internal/echoserver"
)

func main() {
	url := flag.String("url", "", "echo server URL; empty starts the embedded one on 127.0.0.1")
	flag.Parse()
	if *url == "" {
		srv, err := echoserver.Listen("127.0.0.1:0", echoserver.Options{})
		if err != nil {
			log.Fatal(err)
		}
		defer srv.Close()
		*url = srv.URL()
	}
	if !run(*url) {
		os.Exit(1)
	}
}

// run echoes a few messages and reports whether the connection ended with
// a clean close.
func run(url string) bool {
	messages := []string{"one", "two", "three"}

	loop := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(url, &websocket.Config{Loop: loop})
	if err != nil {
		log.Print(err)
		return false
	}

	// The handlers run on the loop's goroutine, one at a time: received
	// needs no lock, as in JavaScript.
	received := 0
	clean := false
	ws.OnOpen = func(websocket.OpenEvent) {
		fmt.Println("open", ws.URL())
		for _, m := range messages {
			ws.SendText(m)
		}
	}
	ws.OnMessage = func(m websocket.MessageEvent) {
		fmt.Println("echo:", m.Text())
		received++
		if received == len(messages) {
			ws.CloseWith(websocket.CloseNormal, "done")
		}
	}
	ws.OnError = func(e websocket.ErrorEvent) {
		fmt.Println("error:", e.Err)
	}
	ws.OnClose = func(c websocket.CloseEvent) {
		fmt.Printf("close code=%d reason=%q wasClean=%t\n", c.Code, c.Reason, c.WasClean)
		clean = c.WasClean
	}

	// Run returns once the socket is closed and nothing else is pending.
	if err := loop.Run(); err != nil {
		log.Print(err)
		return false
	}
	return clean
}
