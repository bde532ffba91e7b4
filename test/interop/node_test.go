package interop_test

import "github.com/wsloop/websocket/test/internal/peers"

// node is the Node `ws` echo server (test/internal/peers/node, installed by
// `npm ci`). It answers a close frame with the same code and reason, and
// reports the pong to its "!ping" with a "pong:PAYLOAD" message.
var node = peer{
	name:              "Node",
	start:             peers.NodeEcho,
	closeEchoesReason: true,
	reportsPong:       true,
}
