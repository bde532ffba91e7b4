package websocket

import "unicode/utf8"

// Skipped is a socket a broadcast did not send to, and why: the error its
// Send returned (ErrBufferFull for a client whose backlog would pass its
// MaxBufferedAmount, ErrInvalidState or ErrClosed for one not open).
type Skipped struct {
	Socket *WebSocket
	Err    error
}

// Broadcast sends p as one binary message to each socket, as Send does:
// it never waits, so a client that reads slowly holds back no other;
// once its backlog would pass its MaxBufferedAmount it is skipped. It
// returns the sockets skipped, in the order given; nil when it sent to
// all. Safe from any goroutine; a loop's Sockets is the list of all.
func Broadcast(sockets []*WebSocket, p []byte) []Skipped {
	var skipped []Skipped
	for _, ws := range sockets {
		if err := ws.Send(p); err != nil {
			skipped = append(skipped, Skipped{ws, err})
		}
	}
	return skipped
}

// BroadcastText is Broadcast of one text message; s must be valid UTF-8,
// or every socket is skipped with ErrInvalidUTF8.
func BroadcastText(sockets []*WebSocket, s string) []Skipped {
	var skipped []Skipped
	valid := utf8.ValidString(s)
	for _, ws := range sockets {
		err := ErrInvalidUTF8
		if valid {
			err = ws.SendText(s)
		}
		if err != nil {
			skipped = append(skipped, Skipped{ws, err})
		}
	}
	return skipped
}
