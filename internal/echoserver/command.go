package echoserver

import (
	"bytes"
	"strconv"

	"github.com/gobwas/ws"
)

// Command prefixes; see the package documentation. They work on bytes, not
// strings, so that looking at a large echoed message copies nothing. The
// parsers are exported because wsloop serve, an echo server on the public
// Upgrader, speaks the same commands: one grammar, so that a test or a
// script works against either server.
var (
	closeCommand = []byte("!close")
	pingCommand  = []byte("!ping")
)

// ParseClose recognizes "!close CODE" and "!close CODE REASON": CODE is
// any number from 0 to 65535, REASON at most 123 bytes.
func ParseClose(p []byte) (code uint16, reason string, ok bool) {
	rest, ok := cutWord(p, closeCommand)
	if !ok {
		return 0, "", false
	}
	digits, r, _ := bytes.Cut(rest, []byte(" "))
	// The length checks come first so that a long message that merely
	// starts like a command is not copied into a string.
	if len(digits) > len("65535") || len(r) > ws.MaxControlFramePayloadSize-2 {
		return 0, "", false
	}
	n, err := strconv.ParseUint(string(digits), 10, 16)
	if err != nil {
		return 0, "", false
	}
	return uint16(n), string(r), true
}

// ParsePing recognizes "!ping" and "!ping PAYLOAD" (at most 125 bytes).
func ParsePing(p []byte) (payload []byte, ok bool) {
	if bytes.Equal(p, pingCommand) {
		return nil, true
	}
	rest, ok := cutWord(p, pingCommand)
	if !ok || len(rest) > ws.MaxControlFramePayloadSize {
		return nil, false
	}
	return rest, true
}

// cutWord returns what follows word and a space at the start of p.
func cutWord(p, word []byte) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(p, word)
	if !ok {
		return nil, false
	}
	return bytes.CutPrefix(rest, []byte(" "))
}
