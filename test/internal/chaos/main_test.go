package chaos

import (
	"os"
	"testing"

	"github.com/wsloop/websocket/test/internal/leakcheck"
)

// TestMain fails the run when a proxy, an echo server or one of their
// connections outlives the tests.
func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m)) }
