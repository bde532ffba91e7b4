// Package echoserver is a small WebSocket echo server for the examples and
// the tests.
//
// It is written on gobwas/ws, not on the library's Upgrader, on purpose.
// The client's tests need a peer that shares no code with what they test:
// a mistake made the same way at both ends (framing, masking, deflate, the
// closing handshake) would cancel out against the library's own server.
// It also sends what the library's API refuses to, such as a close code a
// server must not send ("!close 1005"), for the client's checks. And an
// internal package does not import the root package: the root's own tests
// could not use it. wsloop serve is the echo server on the Upgrader; it
// speaks the same commands, parsed by ParseClose and ParsePing.
//
// Every text and binary message a client sends is sent back whole, with the
// same type, however the client fragmented it. Pings are answered with pongs
// carrying the same payload; pongs are ignored. When the client sends a close
// frame the server answers with a close frame carrying the same status code
// (no reason; an empty close frame is answered with an empty one) and closes
// the TCP connection.
//
// A few text messages are commands rather than data, so that a test can make
// the server do what a client can not trigger otherwise:
//
//	!close CODE [REASON]
//		The server sends a close frame with CODE and REASON, waits up to
//		two seconds for the client's close frame, then closes the TCP
//		connection. CODE is any number from 0 to 65535 and is sent as is,
//		even one a server must not send, so that a client's validation
//		can be tested. REASON is the rest of the message after the space
//		that follows CODE.
//	!ping [PAYLOAD]
//		The server sends a ping carrying PAYLOAD, or none. The
//		client's pong is ignored like any other pong.
//
// A message that does not have exactly one of these forms, or whose close
// reason (more than 123 bytes) or ping payload (more than 125 bytes) would not
// fit a control frame, is echoed like any other.
//
// Messages are limited to 64 MiB: a bigger one makes the server close the
// connection with status 1009. Invalid UTF-8 in a text message closes it with
// 1007, and a protocol violation with 1002.
package echoserver
