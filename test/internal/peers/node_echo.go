package peers

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/wsloop/websocket/test/internal/testenv"
)

// nodeInstallHint says how to get the Node peer: node itself, and the ws
// package pinned by package-lock.json, which .ci/run installs.
const nodeInstallHint = "install node (apt-get install nodejs npm) and run `npm ci` in test/internal/peers/node"

// nodeDir is the directory holding echo.js, package.json and, once `npm
// ci` ran, node_modules: next to this source file, which the tests run
// from.
func nodeDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	return filepath.Join(filepath.Dir(file), "node")
}

type nodeSetup struct {
	node, dir, why string
}

var nodeCheck = sync.OnceValue(checkNode)

// checkNode finds node and the installed ws package, or says why the Node
// peer can not run. It runs once per test binary.
func checkNode() nodeSetup {
	node, err := exec.LookPath("node")
	if err != nil {
		return nodeSetup{why: fmt.Sprintf("Node peer: %v; %s", err, nodeInstallHint)}
	}
	dir := nodeDir()
	if _, err := os.Stat(filepath.Join(dir, "echo.js")); err != nil {
		return nodeSetup{why: fmt.Sprintf("Node peer: %v", err)}
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ws", "package.json")); err != nil {
		return nodeSetup{why: fmt.Sprintf("Node peer: the ws package is not installed (%v); %s", err, nodeInstallHint)}
	}
	return nodeSetup{node: node, dir: dir}
}

// NodeEcho starts an echo server on the Node `ws` library
// (test/internal/peers/node/echo.js, with the ws version package-lock.json
// pins) on 127.0.0.1 with an ephemeral port and returns its ws:// URL; it
// is stopped by t.Cleanup.
//
// It behaves as PythonEcho: it selects the first of the client's protocols
// among protocols, echoes messages with their type, and understands "!close
// CODE REASON" and "!ping PAYLOAD" (reported by "pong:PAYLOAD" once the pong
// arrives). It answers a close frame with the same code and reason.
//
// It needs node on PATH and `npm ci` run in test/internal/peers/node;
// without them the test is skipped, or fails when WSLOOP_PEERS is
// "required".
func NodeEcho(t testing.TB, protocols ...string) string {
	t.Helper()
	setup := nodeCheck()
	if setup.why != "" {
		testenv.Unavailable(t, setup.why)
	}
	cmd := exec.Command(setup.node, append([]string{"echo.js"}, protocols...)...)
	cmd.Dir = setup.dir
	return startProcess(t, "Node", cmd)
}
