package netlab

import (
	"os"
	"testing"

	"github.com/wsloop/websocket/test/internal/leakcheck"
)

// TestMain fails the run when a server the tests started, or one of its
// connections, outlives the tests.
func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m)) }
