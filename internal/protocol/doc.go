// Package protocol is the sans-I/O core of the client side of RFC 6455.
//
// A Conn is a per-connection state machine that owns no socket and starts no
// goroutine: the driver hands it the bytes it read from the server and takes
// events out one at a time (Next), and it drains the masked frames the Conn queues in its output
// buffer. Keeping I/O out of the core lets one core serve both the blocking
// API and the event-loop API, and lets every protocol rule be tested with
// plain byte slices.
//
// The core enforces the client's half of RFC 6455 in full: unmasked server
// frames, fragmentation rules, control frame limits, incremental UTF-8
// validation of text messages (failing as soon as the bytes seen so far
// cannot start valid UTF-8), close code validation, automatic close and ping
// replies, and a message size limit checked before any payload is buffered.
// A violation fails the connection with the close code RFC 6455 asks for.
//
// A Conn is not safe for concurrent use; the driver serializes calls.
package protocol
