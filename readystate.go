package websocket

import "strconv"

// ReadyState is a socket's state, numbered as the browser's readyState.
type ReadyState int32

// The four states of a WebSocket, in the order a socket goes through them.
const (
	// Connecting: the connection is not yet open.
	Connecting ReadyState = 0
	// Open: the connection is open and ready to communicate.
	Open ReadyState = 1
	// Closing: the closing handshake has started.
	Closing ReadyState = 2
	// Closed: the connection is closed or could not be opened.
	Closed ReadyState = 3
)

// String returns the state's name as in the WHATWG standard, e.g. "OPEN".
func (s ReadyState) String() string {
	switch s {
	case Connecting:
		return "CONNECTING"
	case Open:
		return "OPEN"
	case Closing:
		return "CLOSING"
	case Closed:
		return "CLOSED"
	}
	return "ReadyState(" + strconv.Itoa(int(s)) + ")"
}
