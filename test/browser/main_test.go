package browser_test

import (
	"os"
	"testing"

	"github.com/wsloop/websocket/test/internal/leakcheck"
)

// TestMain fails the run on goroutines left behind by the suite.
func TestMain(m *testing.M) { os.Exit(leakcheck.BothPollers(m)) }
