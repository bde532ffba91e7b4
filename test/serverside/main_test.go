// Package serverside_test proves the library's server side, the Upgrader
// and the sockets it makes, against clients nobody here wrote:
//
//   - browser_test.go: headless Chromium, on a page the server serves, and
//     on pages of other origins (another host name, another port);
//   - clients_test.go: Node's `ws` and Python's `websockets`, as client
//     processes (test/internal/peers) that echo and obey the server's
//     commands, so the server drives and checks every exchange;
//   - goclients_test.go: gorilla/websocket and coder/websocket in process;
//   - framing_test.go: a raw client that breaks RFC 6455's rules for what
//     a client sends, one rule a case;
//   - lifetime_test.go: keepalive, Shutdown's deadline and Shutdown during
//     upgrades, closes nobody answers, Broadcast past a slow client, the
//     background loop;
//   - load_test.go: 500 sockets through one Upgrader, shut down together,
//     leaving no goroutine, descriptor or socket behind.
//
// harness_test.go has what they share: the server's loop, an HTTP server
// that records what its Upgraders refuse, and an echo handler that keeps
// each socket's record.
package serverside_test

import (
	"os"
	"testing"

	"github.com/wsloop/websocket/test/internal/leakcheck"
)

// TestMain runs the tests on the default poller, then on the portable one,
// and fails the run when a socket, loop or server outlives the tests.
func TestMain(m *testing.M) { os.Exit(leakcheck.BothPollers(m)) }
