package interop_test

import "github.com/wsloop/websocket/test/internal/peers"

// coder is the github.com/coder/websocket echo server, in this process. It
// answers a close frame with the same code and reason, and reports the pong
// to its "!ping" with a "pong:PAYLOAD" message.
var coder = peer{
	name:              "Coder",
	start:             peers.CoderEcho,
	closeEchoesReason: true,
	reportsPong:       true,
}
