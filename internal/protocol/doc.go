// Package protocol is the sans-I/O core of RFC 6455, for either end of a
// connection: the client's, or with Config.Server the server's.
//
// A Conn is a per-connection state machine that owns no socket and starts no
// goroutine: the driver hands it the bytes it read from the peer and takes
// events out one at a time (Next), and it drains the frames the Conn queues
// in its output buffer (masked in the client role). Keeping I/O out of the
// core lets one core serve both the blocking API and the event-loop API,
// and lets every protocol rule be tested with plain byte slices.
//
// The core enforces its end's half of RFC 6455 in full: frames masked as
// the role requires (a server's peer masks every frame, a client's none),
// fragmentation rules, control frame limits, incremental UTF-8 validation
// of text messages (failing as soon as the bytes seen so far cannot start
// valid UTF-8), close code validation, automatic close and ping replies,
// and a message size limit checked before any payload is buffered. A
// violation fails the connection with the close code RFC 6455 asks for.
// The two roles differ in masking and in which permessage-deflate settings
// are their own (role.go); every other rule is shared.
//
// A Conn is not safe for concurrent use; the driver serializes calls.
package protocol
