package main

import (
	"context"
	"net"
	"net/http"
	"runtime"
	"sync/atomic"

	"github.com/wsloop/websocket"
)

// wsloop: one event loop per core (GOMAXPROCS), as the library advises for
// many sockets (README, "Many cores"), each with its Upgrader, since an
// Upgrader puts its sockets on one loop; connections go to the loops in
// turn. Upgrader.Handler's function sets the socket's OnMessage on its
// loop. An idle socket then has no goroutine: net/http's ends when the
// handler returns.
func serveWsloop(lns []net.Listener) {
	k := runtime.GOMAXPROCS(0)
	handlers := make([]http.Handler, k)
	for i := range handlers {
		loop := websocket.NewEventLoop()
		go loop.RunContext(context.Background()) // a server's loop waits for sockets
		up := &websocket.Upgrader{Loop: loop, NoCompression: true}
		handlers[i] = up.Handler(func(ws *websocket.WebSocket, r *http.Request) {
			conns.Add(1)
			ws.OnMessage = func(m websocket.MessageEvent) {
				// A text message goes back as text: SendText takes a
				// string, so the echo copies the message once (and
				// checks its UTF-8 again), as a user's echo would.
				if m.Binary {
					ws.Send(m.Data)
				} else {
					ws.SendText(m.Text())
				}
				m.Release() // Send and SendText have copied it
			}
			ws.OnClose = func(websocket.CloseEvent) { conns.Add(-1) }
		})
	}
	var next atomic.Uint64
	serveHTTP(lns, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers[next.Add(1)%uint64(k)].ServeHTTP(w, r)
	}))
}
