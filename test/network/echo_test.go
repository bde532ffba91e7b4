package network

import (
	"net/http"

	"github.com/gorilla/websocket"
)

// upgrader accepts any origin: the client sends none unless told to.
var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// serveEcho upgrades r with gorilla/websocket, header going with the 101,
// and echoes messages until the connection ends. An upgrade that fails has
// been answered by gorilla.
func serveEcho(w http.ResponseWriter, r *http.Request, header http.Header) {
	c, err := upgrader.Upgrade(w, r, header)
	if err != nil {
		return
	}
	defer c.Close()
	for {
		typ, p, err := c.ReadMessage()
		if err != nil {
			return
		}
		c.WriteMessage(typ, p)
	}
}
