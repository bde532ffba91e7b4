// Blocking shows the blocking API, for scripts that do one thing after
// another: Dial, send, wait for each answer, close.
//
// Run it with
//
//	go run ./examples/blocking
//
// to talk to the embedded echo server, which it starts on 127.0.0.1, or
// with -url ws://host:port/path to talk to another echo server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"time"

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

	// One deadline for the whole conversation: every blocking call gives
	// up when it passes.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	ws, err := websocket.Dial(ctx, *url, nil)
	if err != nil {
		log.Fatal(err) // a *websocket.ConnectError, *HandshakeError, ...
	}
	fmt.Println("connected to", ws.URL())

	for _, question := range []string{"Is anyone there?", "Hello?", "Echo!"} {
		if err := ws.SendText(question); err != nil {
			log.Fatal(err)
		}
		answer, err := ws.WaitForNextMessage(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("sent %q, got back %q\n", question, answer.Text())
	}

	// CloseWith waits for the closing handshake, which the socket's
	// background loop runs; the next blocking call reports the close as a
	// *ClosedError.
	ws.CloseWith(websocket.CloseNormal, "bye")
	_, err = ws.WaitForNextMessage(ctx)
	var closed *websocket.ClosedError
	if !errors.As(err, &closed) {
		log.Fatalf("expected the close, got %v", err)
	}
	fmt.Printf("closed: code=%d wasClean=%t\n", closed.Event.Code, closed.Event.WasClean)
}
