// Package poll is the seam between the event loop and the operating
// system's sockets. The loop asks a Poller to wait for I/O readiness (or a
// wake-up) and the Poller calls each ready connection's Handler on the
// loop's goroutine. This keeps one blocking point per loop, which is what
// lets an epoll or kqueue implementation hold very many sockets without a
// goroutine each; the portable implementation here emulates that contract
// with goroutines.
//
// On Linux, macOS and the BSDs, New returns a Native, which owns its TCP
// sockets outright and waits on epoll (Linux) or kqueue (the others): an
// idle connection costs neither a goroutine nor a read buffer. That holds
// for TLS too when the *tls.Conn runs over a Bridge, as the dial package
// makes it: the Native then takes the socket once the handshake is done
// and runs crypto/tls on the loop. Elsewhere (Windows, Plan 9, js/wasm)
// New returns a Portable. Setting the environment variable WSLOOP_POLLER
// to "portable" makes New return a Portable everywhere, to compare the two
// or to rule the native poller out when chasing a bug; it is read by every
// New, that is by every new event loop.
//
// On Linux, a Native reads the sockets one Wait finds ready together in one
// system call, and makes the sends a Batcher is given together, through an
// io_uring of its own used as a batch of non-blocking calls (see
// batch_linux.go); where the kernel refuses io_uring, each call is made on
// its own, with the same results. Setting WSLOOP_IOURING to "0" makes every
// new Native make its calls one by one without asking the kernel, for a
// policy that rules io_uring out or to rule it out when chasing a bug.
//
// The kqueue backend is compiled and vetted for macOS and each BSD by
// TestCrossBuild, but this project's CI, on Linux, does not run it; on
// those systems, this package's tests run every poller case on it.
package poll

import (
	"net"
	"os"
	"time"
)

// Handler receives a registered connection's I/O, always on the goroutine
// that called Poller.Wait.
type Handler interface {
	// OnRead is given bytes read from the connection. They are valid only
	// during the call: the buffer is reused for the next read.
	OnRead(p []byte)
	// OnWritable follows a Write that accepted less than it was given, once
	// the connection can take more.
	OnWritable()
	// OnHangup reports the end of the input: err is nil on a clean EOF.
	// No OnRead follows it.
	OnHangup(err error)
}

// Conn is a connection registered with a Poller.
type Conn interface {
	// Write accepts as much of p as the connection can take without
	// blocking and returns how much that was. When it returns n < len(p)
	// and a nil error, OnWritable follows once more can be written.
	// Write is safe to call from any goroutine.
	Write(p []byte) (int, error)
	// CloseWrite half-closes the connection once every accepted byte is
	// written, so the peer sees our last frame and then EOF while we can
	// still read its answer.
	CloseWrite() error
	// Unsent reports how many of the bytes Write accepted the peer has not
	// taken yet, as far as the system tells (the kernel's send queue, on
	// Linux, and anything the Conn still holds itself), or -1 when it
	// cannot tell. It is an estimate: bytes being handed to the kernel may
	// be counted twice. It belongs to the goroutine that calls Wait.
	Unsent() int
	// SetPaused stops (true) or resumes (false) reading the connection:
	// while paused no OnRead or OnHangup is called and the kernel's
	// receive buffer fills, so TCP makes the peer wait. It belongs to the
	// goroutine that calls Wait, like Close. Input already read when it is
	// called (the rest of a TLS record's plaintext) is still delivered.
	SetPaused(paused bool)
	// Close unregisters the connection and closes it after the accepted
	// bytes are written (bounded by a short deadline). No Handler call
	// follows Close.
	Close() error
}

// Poller waits for I/O on its connections.
type Poller interface {
	// Add registers c; from then on the Poller owns it and reports its I/O
	// to h.
	Add(c net.Conn, h Handler) (Conn, error)
	// Wait blocks until some connection has I/O to report, Wake is called
	// or timeout passes (timeout < 0: no limit; 0: do not block), and calls
	// the Handlers of the ready connections before it returns.
	Wait(timeout time.Duration) error
	// Wake makes a blocked or the next Wait return. It is safe from any
	// goroutine and cheap when called often: wake-ups coalesce.
	Wake()
	// Close releases the Poller's resources. Connections still registered
	// are closed.
	Close() error
}

// Batcher is implemented by a Poller that can make the writes to several
// of its connections in one system call (Native, on Linux, with io_uring).
// The loop queues the output of each socket it flushes, makes the writes,
// and then takes each one's result. It belongs to the goroutine that calls
// Wait.
type Batcher interface {
	// QueueWrite adds a Write of p to c to the batch, or reports false
	// when it cannot: c is another Poller's or a TLS connection, or
	// closed, or p is empty or too large for a batch. The caller writes
	// those itself. p must not change until WriteQueued returns, and c
	// must be neither queued again nor written meanwhile.
	QueueWrite(c Conn, p []byte) bool
	// WriteQueued makes the queued writes and empties the batch.
	WriteQueued()
	// Written is the result of the i-th write of the batch just made, as
	// Write would have returned it.
	Written(i int) (int, error)
}

// New returns the Poller for this platform, or a Portable when
// WSLOOP_POLLER is "portable" (see the package documentation).
func New() (Poller, error) {
	if os.Getenv("WSLOOP_POLLER") == "portable" {
		return NewPortable(), nil
	}
	return newNative()
}
