package main

import (
	"net"
	"net/http"

	gorilla "github.com/gorilla/websocket"
)

// gorilla/websocket: Upgrader.Upgrade, then ReadMessage and WriteMessage
// in the handler's goroutine, as its echo example does: a goroutine per
// connection, blocked in a read while idle. Default buffer sizes (it
// reuses net/http's 4 KiB ones).
func serveGorilla(lns []net.Listener) {
	up := gorilla.Upgrader{}
	serveHTTP(lns, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return // answered with the error
		}
		conns.Add(1)
		defer conns.Add(-1)
		defer c.Close()
		for {
			mt, p, err := c.ReadMessage()
			if err != nil {
				return // its close handler has answered a close frame
			}
			if err := c.WriteMessage(mt, p); err != nil {
				return
			}
		}
	}))
}
