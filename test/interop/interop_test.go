package interop_test

import (
	"os"
	"testing"

	"github.com/wsloop/websocket/test/internal/leakcheck"
)

// matrix is every peer the scenarios run against, each in a file of its
// own that says what it does differently.
var matrix = []peer{python, node, gorilla, coder}

// TestInterop runs every scenario against every peer: the peers in
// parallel, and within a peer the scenarios in parallel, each with a
// connection of its own. Run one peer with -run 'TestInterop/Node', one
// scenario everywhere with -run 'TestInterop/.*/Echo/Binary16MiB'. It is
// parallel itself, so that the long tests of runtime_test.go overlap it.
func TestInterop(t *testing.T) {
	t.Parallel()
	for _, p := range matrix {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			runScenarios(t, p)
		})
	}
}

// TestMain fails the run when goroutines of the library, or of the servers
// the tests started, outlive the tests.
func TestMain(m *testing.M) { os.Exit(leakcheck.BothPollers(m)) }
