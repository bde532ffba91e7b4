package peers

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/wsloop/websocket/test/internal/testenv"
)

// The servers in this file are for the tests of sockets that keep working
// between the program's calls (pings answered, sends flushed, reading
// paused and resumed while the program does something else): each one
// does one thing the echo servers do not, and says what happened.

//go:embed python_runtime.py
var pythonRuntimeScript string

// ReportPath is the path of the connection on which PythonSlowReader and
// NodeFlood report: the server's URL with "report" appended.
const ReportPath = "report"

// PythonKeepalive starts a Python `websockets` echo server with the
// library's own keepalive on (python_runtime.py keepalive): it pings every
// client every interval and closes the connection with 1011 when the pong
// does not come within timeout. It echoes every message with its type. It
// returns the server's ws:// URL; the server is stopped by t.Cleanup.
//
// It needs what PythonEcho needs, and is skipped or failed as it is.
func PythonKeepalive(t testing.TB, interval, timeout time.Duration) string {
	t.Helper()
	if why := pythonCheck(); why != "" {
		testenv.Unavailable(t, why)
	}
	return startProcess(t, "Python keepalive", exec.Command(pythonPath, "-I", "-c", pythonRuntimeScript,
		"keepalive", seconds(interval), seconds(timeout)))
}

// SlowReadRecord is what PythonSlowReader reports of a connection once it
// has ended.
type SlowReadRecord struct {
	// Messages and Bytes count the messages read and their payload.
	Messages int `json:"messages"`
	Bytes    int `json:"bytes"`
	// Error says what was wrong with the first message that was not as
	// expected (see PythonSlowReader); empty when none was.
	Error string `json:"error"`
	// Code and Reason are those of the client's close frame: 1005 when it
	// had no code, 1006 when there was none.
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

// PythonSlowReader starts a Python `websockets` server that reads slowly
// (python_runtime.py slowread) and returns its ws:// URL; it is stopped by
// t.Cleanup. It reads the messages of a connection no faster than
// bytesPerSecond, sleeping after each one, with small kernel and library
// read buffers, so that a client's backlog drains at that rate. Message I
// (from 0) must be binary: I as 4 big-endian bytes, then bytes that are
// all I modulo 256 (NumberedMessage makes it).
//
// When the connection ends the server keeps a SlowReadRecord of it; a
// connection to the URL with ReportPath appended gets it as one JSON text
// message, waiting for it if need be, then a close 1000. One connection is
// recorded per server.
//
// It needs what PythonEcho needs, and is skipped or failed as it is.
func PythonSlowReader(t testing.TB, bytesPerSecond int) string {
	t.Helper()
	if why := pythonCheck(); why != "" {
		testenv.Unavailable(t, why)
	}
	return startProcess(t, "Python slow reader", exec.Command(pythonPath, "-I", "-c", pythonRuntimeScript,
		"slowread", strconv.Itoa(bytesPerSecond)))
}

// NumberedMessage returns message i of size bytes (at least 4) as
// PythonSlowReader expects it and NodeFlood sends it: i as 4 big-endian
// bytes, then bytes that are all i modulo 256.
func NumberedMessage(i, size int) []byte {
	// bytes.Repeat fills by doubling copies, which the race detector
	// checks a range at a time rather than a byte at a time.
	p := bytes.Repeat([]byte{byte(i)}, size)
	binary.BigEndian.PutUint32(p, uint32(i))
	return p
}

// FloodVerdict is what NodeFlood reports of its flood.
type FloodVerdict struct {
	// State is "flushed" when every message was handed to the kernel,
	// "stalled" when the server still held bytes it could not hand over
	// and handed over no further message for the stall time.
	State string `json:"state"`
	// Flushed is the payload of the whole messages handed to the kernel
	// by then, Total the flood's.
	Flushed int `json:"flushed"`
	Total   int `json:"total"`
	// BufferedAmount is what the server's ws still held then.
	BufferedAmount int `json:"bufferedAmount"`
}

// NodeFlood starts a Node `ws` server (test/internal/peers/node/flood.js)
// that floods its first client: on connect it queues count binary messages
// of size bytes (message I as NumberedMessage makes it) at once, and
// closes with 1000 "flood done" once all are handed to the kernel. It
// returns the server's ws:// URL; it is stopped by t.Cleanup.
//
// A connection to the URL with ReportPath appended gets the flood's
// FloodVerdict as one JSON text message, waiting for it if need be, then a
// close 1000: "flushed" once every message was handed to the kernel, or
// "stalled" once the server holds bytes it cannot hand over and has handed
// over no further message for stall, whichever comes first.
//
// It needs what NodeEcho needs, and is skipped or failed as it is.
func NodeFlood(t testing.TB, count, size int, stall time.Duration) string {
	t.Helper()
	setup := nodeCheck()
	if setup.why == "" {
		if _, err := os.Stat(filepath.Join(setup.dir, "flood.js")); err != nil {
			setup.why = "Node peer: " + err.Error()
		}
	}
	if setup.why != "" {
		testenv.Unavailable(t, setup.why)
	}
	cmd := exec.Command(setup.node, "flood.js", strconv.Itoa(count), strconv.Itoa(size), strconv.FormatInt(stall.Milliseconds(), 10))
	cmd.Dir = setup.dir
	return startProcess(t, "Node flood", cmd)
}

// seconds formats d as the seconds Python takes.
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}
