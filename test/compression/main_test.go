// Package compression_test checks permessage-deflate (RFC 7692) against
// real servers: Python's websockets and Node's ws, each configured by the
// peers package (PythonDeflate, NodeDeflate) for every negotiated mode,
// the server's and the client's context takeover on and off, and windows
// of 8 to 15 bits both ways, set by the server or asked for by the client.
//
// matrix_test.go echoes messages of many sizes, text and binary,
// compressible and random, in a burst and then one at a time, measuring
// each one's bytes on the wire both ways (Stats) and checking them against
// the server's own count ("!stats"); window probes show that the server
// refers back to the previous message, and that the client follows; the
// servers' fragmented echoes are inflated across their fragments.
// loop_test.go runs the burst on an event loop. between_test.go has Node
// send uncompressed messages between compressed ones that refer back past
// them. bomb_test.go has the servers send a message that inflates far past
// MaxMessageSize, and one of exactly MaxMessageSize; memory_test.go
// measures the server's window a socket keeps between messages.
package compression_test

import (
	"os"
	"testing"

	"github.com/wsloop/websocket/test/internal/leakcheck"
)

// TestMain runs the tests on the default poller, then on the portable one,
// and fails the run when a socket, loop or server outlives the tests.
func TestMain(m *testing.M) { os.Exit(leakcheck.BothPollers(m)) }
