package netlab

import (
	"os"
	"testing"
)

// requiredEnv names the environment variable that turns a missing program
// or privilege from a skip into a failure, as for package peers.
const requiredEnv = "WSLOOP_PEERS"

// unavailable ends t because the lab or a proxy can not run, as a failure
// or a skip depending on requiredEnv.
func unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv(requiredEnv) == "required" {
		t.Fatalf(
			"%s (%s=required)",
			why, requiredEnv,
		)
	} else {
		t.Skip(why)
	}
}
