// Package chaos is a TCP proxy that misbehaves on demand, for the tests of
// what the client does when the network does: keepalive that must notice a
// dead peer, reconnect that must survive a server that is down, deadlines
// that must fire when bytes stop flowing.
//
// A test starts an upstream server on loopback, puts a Proxy in front of it
// with Listen, dials Proxy.Addr instead of the server, and switches the
// path's behaviour with SetFault while its connections are open:
//
//   - Pass forwards both ways, as a plain proxy does.
//   - Stall stops reading both sockets: bytes pile up in the kernel's
//     buffers until the senders block, nothing is forwarded, and no FIN or
//     RST is sent. It is a stopped server process or a pulled cable; Pass
//     again forwards what piled up.
//   - Blackhole reads both sockets and throws the bytes away: a dead path
//     whose kernel still acknowledges, so senders never block.
//   - Delay(d) forwards every chunk d after it was read, in order, in each
//     direction: a latency line, not a throughput cap.
//   - HalfOpen resets the upstream socket and leaves the client's open and
//     silent, with neither FIN nor RST: the client holds a live TCP
//     connection to nobody, the case only keepalive can detect.
//   - Refuse resets new connections as soon as they are accepted, as a
//     host whose server is down does, and leaves open ones alone.
//
// ResetAll and CloseAll end every open connection with an RST or a FIN on
// both sides; Close does the former to all of them and returns once every
// goroutine and socket of the proxy is gone, so that a test run a thousand
// times under the race detector leaks nothing.
//
// A fault takes effect at once: SetFault interrupts the proxy's blocked
// reads and writes with a deadline in the past, returns only once those
// begun under the old fault have returned, and the proxy's goroutines then
// wait on the fault's change rather than on the socket. Nothing here
// sleeps to synchronise.
//
// Each direction of a connection is a pipe: a reader goroutine, a queue of
// chunks stamped with the time they were read, and a writer goroutine.
// Stall is the reader's business (it stops reading); Blackhole, Delay and
// the holding of chunks already read are the writer's. A FIN or an RST
// that a peer sends travels the queue behind the bytes before it and is
// passed on to the other peer.
//
// Only loopback is proxied: Listen binds 127.0.0.1 and refuses an upstream
// that is not a loopback address or localhost.
package chaos
