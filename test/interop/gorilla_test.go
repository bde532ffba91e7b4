package interop_test

import "github.com/wsloop/websocket/test/internal/peers"

// gorilla is the github.com/gorilla/websocket echo server, in this process.
// Its default close handler answers a close frame with the code alone; it
// reports the pong to its "!ping" with a "pong:PAYLOAD" message.
var gorilla = peer{
	name:              "Gorilla",
	start:             peers.GorillaEcho,
	closeEchoesReason: false,
	reportsPong:       true,
}
