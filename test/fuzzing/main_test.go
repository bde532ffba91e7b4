// Package fuzzing_test holds the fuzz targets that need a server or the
// public API (the protocol core's own are in internal/protocol), and
// TestFuzzBudget, which runs every fuzz target of the repository for a
// bounded time.
//
// Each target's seed corpus is committed in testdata/fuzz/<FuzzName>: a
// plain `go test` runs it as a regression test, and a crasher the fuzzer
// finds lands there too, to be committed the same way.
package fuzzing_test

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"

	"github.com/wsloop/websocket/test/internal/leakcheck"
)

// errNoDNS is what name resolution fails with in this package: fuzzed URLs
// name arbitrary hosts, and a fuzzer must not send their names to a DNS
// server. /etc/hosts still answers.
var errNoDNS = errors.New("fuzzing: no DNS")

func TestMain(m *testing.M) {
	net.DefaultResolver = &net.Resolver{
		PreferGo: true,
		Dial: func(context.Context, string, string) (net.Conn, error) {
			return nil, errNoDNS
		},
	}
	os.Exit(leakcheck.Main(m))
}
