package main

import (
	"os"
	"testing"
)

// requiredEnv turns a missing tmux or peer from a skip into a failure, as in the
// test module (test/internal/testenv, which this module cannot import):
// .ci/run sets it to "required".
const requiredEnv = "WSLOOP_PEERS"

func unavailable(t *testing.T, why string) {
	t.Helper()
	if os.Getenv(requiredEnv) == "required" {
		t.Fatalf("%s (%s=required)", why, requiredEnv)
	}
	t.Skip(why)
}
