package websocket_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/wsloop/websocket"
)

// Run runs the default loop, where New's sockets and DefaultLoop's timers
// live, until nothing is left.
func ExampleRun() {
	websocket.DefaultLoop().SetTimeout(func() { fmt.Println("timer") }, time.Millisecond)
	err := websocket.Run()
	fmt.Println("Run returned:", err)
	// Output:
	// timer
	// Run returned: <nil>
}

// DefaultLoop is the loop of sockets made by New (and by NewWithConfig
// without Config.Loop), run by the package-level Run.
func ExampleDefaultLoop() {
	srv := startEcho()
	defer srv.Close()

	ws, err := websocket.New(srv.URL())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("on the default loop:", ws.Loop() == websocket.DefaultLoop())
	websocket.DefaultLoop().Post(func() { ws.Close() })
	websocket.Run()
	// Output:
	// on the default loop: true
}

// A new loop holds nothing, and Run returns at once; given a timer, it runs
// until the timer has fired.
func ExampleNewEventLoop() {
	loop := websocket.NewEventLoop()
	fmt.Println("empty:", loop.Run())
	loop.SetTimeout(func() { fmt.Println("fired") }, time.Millisecond)
	fmt.Println("with a timer:", loop.Run())
	// Output:
	// empty: <nil>
	// fired
	// with a timer: <nil>
}

// Post queues a task behind those already queued; a task posted by a task
// runs in the loop's next turn. From another goroutine, Post is how a
// program hands work to the loop.
func ExampleEventLoop_Post() {
	loop := websocket.NewEventLoop()
	loop.Post(func() {
		fmt.Println("first")
		loop.Post(func() { fmt.Println("third: posted by the first") })
	})
	loop.Post(func() { fmt.Println("second") })
	done := make(chan struct{})
	go func() {
		defer close(done)
		loop.Run()
	}()
	<-done
	// Output:
	// first
	// second
	// third: posted by the first
}

// A loop runs on one goroutine at a time: Run while it runs elsewhere is
// refused.
func ExampleEventLoop_Run() {
	loop := websocket.NewEventLoop()
	ctx, cancel := context.WithCancel(context.Background())
	running := make(chan struct{})
	done := make(chan error)
	loop.Post(func() { close(running) })
	go func() { done <- loop.RunContext(ctx) }()
	<-running

	err := loop.Run()
	fmt.Println(errors.Is(err, websocket.ErrLoopRunning))
	cancel()
	fmt.Println(<-done)
	// Output:
	// true
	// context canceled
}

// Timeouts fire in the order they are due, on the loop's goroutine; a
// zero delay runs in the loop's next turn.
func ExampleEventLoop_SetTimeout() {
	loop := websocket.NewEventLoop()
	loop.SetTimeout(func() { fmt.Println("after 20ms") }, 20*time.Millisecond)
	loop.SetTimeout(func() { fmt.Println("after 10ms") }, 10*time.Millisecond)
	loop.SetTimeout(func() { fmt.Println("next turn") }, 0)
	loop.Run()
	// Output:
	// next turn
	// after 10ms
	// after 20ms
}

// An interval keeps the loop running until it is stopped, as it keeps a
// Node process alive.
func ExampleEventLoop_SetInterval() {
	loop := websocket.NewEventLoop()
	ticks := 0
	var t *websocket.Timer
	t = loop.SetInterval(func() {
		if ticks++; ticks == 3 {
			t.Stop()
		}
	}, 2*time.Millisecond)
	loop.Run() // returns once the interval is stopped
	fmt.Println("ticks:", ticks)
	// Output:
	// ticks: 3
}

// Sockets lists a loop's sockets in the order they were made, until
// nothing of them is left on it.
func ExampleEventLoop_Sockets() {
	loop := websocket.NewEventLoop()
	var made []*websocket.WebSocket
	for range 3 {
		ws, err := websocket.NewWithConfig("ws://127.0.0.1:1/", &websocket.Config{Loop: loop})
		if err != nil {
			log.Fatal(err)
		}
		made = append(made, ws)
	}
	socks := loop.Sockets()
	fmt.Println(len(socks), socks[0] == made[0], socks[2] == made[2])
	for _, ws := range socks {
		ws.Close()
	}
	loop.Run()
	fmt.Println("after they closed:", len(loop.Sockets()))
	// Output:
	// 3 true true
	// after they closed: 0
}

// A Timer is what SetTimeout and SetInterval return, to cancel them.
func ExampleTimer() {
	loop := websocket.NewEventLoop()
	t := loop.SetTimeout(func() { fmt.Println("never runs") }, time.Hour)
	done := loop.SetTimeout(func() { fmt.Println("runs") }, time.Millisecond)
	fmt.Println("stopped while pending:", t.Stop())
	loop.Run()
	fmt.Println("stopped once it has run:", done.Stop())
	// Output:
	// stopped while pending: true
	// runs
	// stopped once it has run: false
}

// Stop from another goroutine wakes a loop waiting for that timer: here
// the only thing the loop had, so Run returns at once.
func ExampleTimer_Stop() {
	loop := websocket.NewEventLoop()
	t := loop.SetTimeout(func() { fmt.Println("never runs") }, time.Hour)
	go func() {
		time.Sleep(10 * time.Millisecond)
		t.Stop()
	}()
	start := time.Now()
	loop.Run()
	fmt.Println("Run returned within a second:", time.Since(start) < time.Second)
	// Output:
	// Run returned within a second: true
}
