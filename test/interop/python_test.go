package interop_test

import (
	"testing"

	"github.com/wsloop/websocket/test/internal/peers"
)

// python is the Python `websockets` echo server (Debian python3-websockets).
// It answers a close frame with its own payload, reason included, and
// reports the pong to its "!ping" with a "pong:PAYLOAD" message.
var python = peer{
	start:             peers.PythonEcho,
	closeEchoesReason: true,
	reportsPong:       true,
}

func TestPython(t *testing.T) {
	runScenarios(t, python)
}
