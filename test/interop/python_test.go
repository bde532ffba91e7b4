package interop_test

import "github.com/wsloop/websocket/test/internal/peers"

// python is the Python `websockets` echo server (Debian python3-websockets).
// It answers a close frame with its own payload, reason included, and
// reports the pong to its "!ping" with a "pong:PAYLOAD" message.
var python = peer{
	name:              "Python",
	start:             peers.PythonEcho,
	closeEchoesReason: true,
	reportsPong:       true,
}
