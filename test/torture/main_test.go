// Package torture_test feeds the client what no sane server sends: lengths
// no memory holds, messages in 100 000 pieces, floods of pings, invalid
// UTF-8 everywhere, reserved opcodes in every fragment state, headers one
// byte at a time. Each case asserts the close code the client sends, the
// events it fires (error then close 1006 on a failure), that its loop
// returns, and what it allocates.
package torture_test

import (
	"os"
	"testing"

	"github.com/wsloop/websocket/test/internal/leakcheck"
)

// TestMain fails the run when goroutines outlive the tests.
func TestMain(m *testing.M) { os.Exit(leakcheck.BothPollers(m)) }
