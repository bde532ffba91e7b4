// Package network tests dials through real networks: TLS with certificates
// made at test time, real proxies (test/internal/netlab), custom dialers,
// each on the event loop and the blocking API.
package network

import (
	"os"
	"testing"

	"github.com/wsloop/websocket/test/internal/leakcheck"
)

func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m)) }
