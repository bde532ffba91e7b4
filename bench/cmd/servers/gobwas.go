package main

import (
	"net"
	"net/http"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// gobwas/ws: its README's server, ws.UpgradeHTTP then a goroutine per
// connection with wsutil.ReadClientData and wsutil.WriteServerMessage on
// the bare connection (the README leaves UpgradeHTTP's bufio.ReadWriter
// unused, so each frame takes several small reads). Its netpoll pattern,
// which frees idle connections of their goroutine, needs a poller of the
// user's own and is not what the README shows first.
func serveGobwas(lns []net.Listener) {
	serveHTTP(lns, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return // answered with the error
		}
		conns.Add(1)
		go func() {
			defer conns.Add(-1)
			defer conn.Close()
			for {
				msg, op, err := wsutil.ReadClientData(conn)
				if err != nil {
					return // a close frame was answered inside
				}
				if err := wsutil.WriteServerMessage(conn, op, msg); err != nil {
					return
				}
			}
		}()
	}))
}
