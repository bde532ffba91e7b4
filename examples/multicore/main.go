// Command multicore shows the shape of a program that outgrows one core:
// one EventLoop per core, each on its own goroutine, with sockets spread
// across the loops. Callbacks of one loop still run one at a time, so state
// kept per loop needs no lock; only the totals shared across loops do.
//
//	go run ./examples/multicore            # embedded echo server
//	go run ./examples/multicore -n 2000 -url ws://127.0.0.1:8080/
package main

import (
	"flag"
	"fmt"
	"log"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/internal/echoserver"
)

func main() {
	url := flag.String("url", "", "echo server URL (default: start the embedded one)")
	n := flag.Int("n", 400, "sockets in all")
	m := flag.Int("m", 50, "messages per socket")
	loops := flag.Int("loops", runtime.NumCPU(), "event loops, one per core")
	flag.Parse()

	if *url == "" {
		srv, err := echoserver.Listen("127.0.0.1:0", echoserver.Options{})
		if err != nil {
			log.Fatal(err)
		}
		defer srv.Close()
		*url = srv.URL()
	}

	var echoes, clean atomic.Int64 // shared by every loop
	ls := make([]*websocket.EventLoop, *loops)
	for i := range ls {
		ls[i] = websocket.NewEventLoop()
	}
	start := time.Now()
	for i := range *n {
		// Round-robin: socket i lives on loop i % loops for its whole life.
		l := ls[i%len(ls)]
		ws, err := websocket.NewWithConfig(*url, &websocket.Config{Loop: l})
		if err != nil {
			log.Fatal(err)
		}
		got := 0 // per socket, touched only on its loop
		ws.OnOpen = func(websocket.OpenEvent) {
			for range *m {
				ws.SendText("ping")
			}
		}
		ws.OnMessage = func(websocket.MessageEvent) {
			echoes.Add(1)
			if got++; got == *m {
				ws.Close()
			}
		}
		ws.OnClose = func(c websocket.CloseEvent) {
			if c.WasClean {
				clean.Add(1)
			}
		}
	}
	var wg sync.WaitGroup
	for _, l := range ls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Run(); err != nil {
				log.Print(err)
			}
		}()
	}
	wg.Wait() // each Run returns once its sockets are closed
	fmt.Printf("loops: %d, sockets: %d, echoes: %d, closed cleanly: %d, %v\n",
		len(ls), *n, echoes.Load(), clean.Load(), time.Since(start).Round(time.Millisecond))
}
