package peers

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/wsloop/websocket/test/internal/testenv"
)

// pythonPath is Debian's interpreter, which sees the python3-websockets
// package; another python3 on PATH (pyenv, a virtualenv) would not.
const pythonPath = "/usr/bin/python3"

// installHint says how to get the Python peer.
const installHint = "apt-get install python3-websockets"

//go:embed python_echo.py
var pythonEchoScript string

var pythonCheck = sync.OnceValue(checkPython)

// checkPython says why the Python peer can not run, or returns "" when it
// can. It runs once per test binary since the answer does not change.
func checkPython() string {
	if _, err := os.Stat(pythonPath); err != nil {
		return fmt.Sprintf("Python peer: %v; run %s", err, installHint)
	}
	out, err := exec.Command(pythonPath, "-I", "-c", "import websockets").CombinedOutput()
	if err != nil {
		return fmt.Sprintf(
			"Python peer: %s can not import websockets (%v: %s); run %s",
			pythonPath, err, bytes.TrimSpace(out), installHint,
		)
	}
	return ""
}

// PythonEcho starts a Python `websockets` echo server on 127.0.0.1 with an
// ephemeral port and returns its ws:// URL; it is stopped by t.Cleanup.
//
// protocols are the subprotocols the server supports: it selects the first
// one the client offers that is among them. The server echoes messages with
// their type; the text message "!close CODE REASON" makes it close with that
// code and reason, and "!ping PAYLOAD" makes it send a ping with that
// payload. Once the client's pong with that payload arrives, the server sends
// the text message "pong:PAYLOAD", which shows that the client answered. (A
// second "!ping" with the payload of a ping still unanswered is an error in
// websockets, which then fails the connection.)
//
// It needs /usr/bin/python3 with the websockets module (Debian package
// python3-websockets); without them the test is skipped, or fails when
// WSLOOP_PEERS is "required".
func PythonEcho(t testing.TB, protocols ...string) string {
	t.Helper()
	if why := pythonCheck(); why != "" {
		testenv.Unavailable(t, why)
	}

	return startPython(t, "", protocols)
}

// basicAuthEnv names the environment variable that puts python_echo.py
// behind Basic authentication.
const basicAuthEnv = "WSLOOP_BASIC_AUTH"

// PythonEchoBasicAuth is PythonEcho behind HTTP Basic authentication, as
// websockets' basic_auth_protocol_factory does it: the server accepts a
// handshake only with "Authorization: Basic" and user and pass, and
// answers any other with a 401 whose header is
// `WWW-Authenticate: Basic realm="wsloop", charset="UTF-8"`, closing the
// connection. user may not hold a colon (RFC 7617 2).
func PythonEchoBasicAuth(t testing.TB, user, pass string, protocols ...string) string {
	t.Helper()
	if why := pythonCheck(); why != "" {
		testenv.Unavailable(t, why)
	}
	if strings.Contains(user, ":") {
		t.Fatalf("Python peer: a Basic user name holds no colon: %q", user)
	}
	return startPython(t, user+":"+pass, protocols)
}

// startPython runs python_echo.py with protocols, behind Basic
// authentication with credentials ("USER:PASSWORD") unless they are "".
func startPython(t testing.TB, credentials string, protocols []string) string {
	t.Helper()
	args := append([]string{"-I", "-c", pythonEchoScript}, protocols...)
	cmd := exec.Command(pythonPath, args...)
	// The variable is set only here, never inherited.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, basicAuthEnv+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if credentials != "" {
		cmd.Env = append(cmd.Env, basicAuthEnv+"="+credentials)
	}
	return startProcess(t, "Python", cmd)
}
