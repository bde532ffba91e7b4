package websocket_test

// A hostile server that sends without end: the client must bound what it
// buffers ("never a panic, a hang or unbounded memory").

import (
	"bytes"
	"runtime"
	"testing"
	"time"

	"github.com/wsloop/websocket"
)

// floodBound is how much a flooding server may get the client to accept
// before the client gives up: far above any sane handshake response, far
// below what the flood sends.
const (
	floodBound = 8 << 20
	floodTotal = 16 << 20
)

// flood writes prefix, then unit repeated until floodTotal bytes are written
// or the client stops taking them (it closed, or a write stalls for a
// second), and returns how many bytes of the flood were accepted.
func (c *rawConn) flood(prefix string, unit string) int64 {
	c.nc.SetWriteBuffer(64 << 10)
	c.write([]byte(prefix))
	chunk := bytes.Repeat([]byte(unit), (64<<10)/len(unit))
	var n int64
	for n < floodTotal {
		c.nc.SetWriteDeadline(time.Now().Add(time.Second))
		k, err := c.nc.Write(chunk)
		n += int64(k)
		if err != nil {
			break
		}
	}
	return n
}

// A response line or header without end: the client must fail the
// handshake after a bounded amount, not buffer it all until the
// HandshakeTimeout.
func TestRawHandshakeResponseFloodIsBounded(t *testing.T) {
	cases := []struct {
		name, prefix, unit string
	}{
		{"endless status line", "HTTP/1.1 101 Switching Protocols", "x"},
		{"endless header line in a 403", "HTTP/1.1 403 Forbidden\r\nX-Flood: ", "a"},
		{"endless headers in a 403", "HTTP/1.1 403 Forbidden\r\n", "X-Flood: 0123456789abcdef\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			accepted := make(chan int64, 1)
			srv := startRawServer(t, func(c *rawConn) {
				accepted <- c.flood(tc.prefix, tc.unit)
			})
			cl := newTraceClient(t, srv.URL, &websocket.Config{HandshakeTimeout: 5 * time.Second})
			cl.run()
			srv.report(t)
			cl.expectTrace(handshakeFailTrace...)
			if n := <-accepted; n > floodBound {
				t.Errorf("the client read %d MiB of handshake response without giving up", n>>20)
			}
		})
	}
}

// A server that pings without end and never reads: every ping queues a pong
// that cannot be written, so unless the client stops reading (TCP
// backpressure) or answers only the latest ping (RFC 6455 5.5.3 allows it),
// its output grows without bound.
func TestRawPingFloodWithoutReadingIsBounded(t *testing.T) {
	const total = 32 << 20
	ping := pingFrame(bytes.Repeat([]byte{'p'}, 125))
	chunk := bytes.Repeat(ping, (64<<10)/len(ping))
	measured := make(chan struct{})
	stalled := make(chan bool, 1)
	srv := startRawServer(t, func(c *rawConn) {
		c.nc.SetReadBuffer(64 << 10)
		c.nc.SetWriteBuffer(64 << 10)
		c.accept()
		for n := 0; n < total; n += len(chunk) {
			c.nc.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := c.nc.Write(chunk); err != nil {
				// The client stopped reading: backpressure.
				stalled <- true
				c.reset()
				return
			}
		}
		stalled <- false
		c.nc.SetWriteDeadline(time.Now().Add(rawConnDeadline))
		c.write(textFrame("end"))
		select {
		case <-measured:
		case <-time.After(rawFailBound):
			c.fail("the client never got the end message")
		}
		c.reset()
	})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tc := newTraceClient(t, srv.URL, nil)
	tc.QuietPings = true
	tc.OnMessage = func(*websocket.WebSocket, websocket.MessageEvent) {
		runtime.GC()
		runtime.ReadMemStats(&after)
		close(measured)
	}
	tc.run()
	srv.report(t)
	if <-stalled {
		t.Logf("the client applied backpressure after %d pings", tc.Pings)
		return
	}
	tc.expectTrace(traceOpen, `message OPEN text "end"`, traceAbnormal)
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d pings, heap growth %d MiB", tc.Pings, growth>>20)
	if growth > 12<<20 {
		t.Errorf("after %d MiB of pings from a server that does not read, the client holds %d MiB more heap: its pongs are buffered without bound",
			total>>20, growth>>20)
	}
}
