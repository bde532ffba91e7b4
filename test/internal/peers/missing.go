package peers

import (
	"os"
	"testing"
)

// requiredEnv names the environment variable that turns a missing peer from
// a skip into a failure.
const requiredEnv = "WSLOOP_PEERS"

// unavailable ends t because a peer can not run, as a failure or a skip
// depending on requiredEnv.
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
