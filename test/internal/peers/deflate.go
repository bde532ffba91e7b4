package peers

import (
	_ "embed"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/wsloop/websocket/test/internal/testenv"
)

// The servers in this file have permessage-deflate (RFC 7692) configured:
// the echo servers' compression is their library's default (Python's
// websockets: 12-bit windows both ways; Node's ws: off).

//go:embed python_deflate.py
var pythonDeflateScript string

// Deflate is a permessage-deflate server's configuration, in its library's
// terms, which both libraries share.
type Deflate struct {
	// Off configures no compression: the server declines the extension.
	Off bool `json:"off,omitempty"`
	// ServerNoContextTakeover: the server compresses each message on its
	// own, and says so, whatever the client asked.
	ServerNoContextTakeover bool `json:"serverNoContextTakeover,omitempty"`
	// ClientNoContextTakeover: the server tells the client to compress
	// each message on its own.
	ClientNoContextTakeover bool `json:"clientNoContextTakeover,omitempty"`
	// ServerMaxWindowBits, 8 to 15, is the window the server compresses
	// with: the smaller of it and the client's request for Python, while
	// Node's ws answers an offer asking for less (or, with
	// ClientMaxWindowBits, offering less) with 400 Bad Request, since it
	// can accept none of the offers. 0 leaves it to the client.
	ServerMaxWindowBits int `json:"serverMaxWindowBits,omitempty"`
	// ClientMaxWindowBits, 8 to 15, is the window the server imposes on a
	// client that offered client_max_window_bits (with or without a
	// value). 0 leaves it to the client.
	ClientMaxWindowBits int `json:"clientMaxWindowBits,omitempty"`
	// Threshold, for Node only, is ws's threshold: without the server's
	// context takeover, messages shorter than that go uncompressed. Zero
	// compresses every message (ws's own default is 1024). Python's
	// websockets compresses every message.
	Threshold int `json:"threshold,omitempty"`
}

// DeflateStats is a permessage-deflate server's answer to "!stats".
type DeflateStats struct {
	// Header is the server's Sec-WebSocket-Extensions response header,
	// "" when it sent none.
	Header string `json:"header"`
	// Params is the settlement as the server's extension holds it, the
	// windows 15 when not negotiated; nil without the extension.
	Params *DeflateParams `json:"params"`
	// Received and Sent count the messages since the connection opened or
	// since the previous "!stats", the command itself not counted.
	Received DeflateCounts `json:"received"`
	Sent     DeflateCounts `json:"sent"`
}

// DeflateParams is a permessage-deflate settlement.
type DeflateParams struct {
	ServerNoContextTakeover bool `json:"server_no_context_takeover"`
	ClientNoContextTakeover bool `json:"client_no_context_takeover"`
	ServerMaxWindowBits     int  `json:"server_max_window_bits"`
	ClientMaxWindowBits     int  `json:"client_max_window_bits"`
}

// DeflateCounts counts messages one way.
type DeflateCounts struct {
	Messages int `json:"messages"`
	// Compressed is the messages with RSV1 set.
	Compressed int `json:"compressed"`
	// Wire is their payload as it went over the wire (compressed or not),
	// Plain as it was given or delivered.
	Wire  int `json:"wire"`
	Plain int `json:"plain"`
}

// PythonDeflate starts a Python `websockets` echo server
// (python_deflate.py) whose ServerPerMessageDeflateFactory is configured
// by d, on 127.0.0.1 with an ephemeral port, and returns its ws:// URL; it
// is stopped by t.Cleanup.
//
// It echoes every message with its type (compressing each one: websockets
// has no threshold), answers "!stats" with a DeflateStats as JSON text,
// and "!bomb N" with a binary message of N zero bytes; after "!frag K" it
// echoes each message in K fragments (the first one with RSV1 when
// compressed), then an empty final one, until "!frag 1". d.Threshold is
// ignored.
//
// websockets 10.4 gives zlib server_max_window_bits=8 as it is, which
// zlib refuses for raw deflate; the server compresses with 9 bits then, as
// Node's zlib does (see python_deflate.py).
//
// It needs what PythonEcho needs, and is skipped or failed as it is.
func PythonDeflate(t testing.TB, d Deflate) string {
	t.Helper()
	if why := pythonCheck(); why != "" {
		testenv.Unavailable(t, why)
	}
	return startProcess(t, "Python deflate", exec.Command(pythonPath, "-I", "-c", pythonDeflateScript, d.json(t)))
}

// NodeDeflate starts a Node `ws` echo server
// (test/internal/peers/node/deflate.js) whose perMessageDeflate option is
// configured by d, on 127.0.0.1 with an ephemeral port, and returns its
// ws:// URL; it is stopped by t.Cleanup. It answers "!stats", "!bomb N"
// and "!frag K" as PythonDeflate does, but that its K fragments are cut at
// any byte, inside a character of a text message too, and the last one
// is not empty. After "!plain K" it sends every K-th echo uncompressed,
// the others still compressed with its context ("!plain 0" stops).
//
// zlib cannot compress raw deflate with an 8-bit window: with
// server_max_window_bits=8, Node's zlib uses 9 bits.
//
// It needs what NodeEcho needs, and is skipped or failed as it is.
func NodeDeflate(t testing.TB, d Deflate) string {
	t.Helper()
	setup := nodeCheck()
	if setup.why == "" {
		if _, err := os.Stat(filepath.Join(setup.dir, "deflate.js")); err != nil {
			setup.why = "Node peer: " + err.Error()
		}
	}
	if setup.why != "" {
		testenv.Unavailable(t, setup.why)
	}
	cmd := exec.Command(setup.node, "deflate.js", d.json(t))
	cmd.Dir = setup.dir
	return startProcess(t, "Node deflate", cmd)
}

func (d Deflate) json(t testing.TB) string {
	t.Helper()
	for _, bits := range []int{d.ServerMaxWindowBits, d.ClientMaxWindowBits} {
		if bits != 0 && (bits < 8 || bits > 15) {
			t.Fatalf("peers.Deflate: a window of %d bits; want 8 to 15, or 0", bits)
		}
	}
	p, err := json.Marshal(d)
	if err != nil {
		t.Fatalf("peers.Deflate: %v", err)
	}
	return string(p)
}
