package poll

import (
	"crypto/tls"
	"strconv"
	"testing"
)

// tlsCases are the ways a poller can serve a client's tls.Conn: the
// Native's own socket through a Bridge, and goroutines.
var tlsCases = []struct {
	name   string
	new    func() (Poller, error)
	bridge bool
}{
	{"epoll-bridge", func() (Poller, error) { return NewNative() }, true},
	{"epoll-goroutines", func() (Poller, error) { return NewNative() }, false},
	{"portable", func() (Poller, error) { return NewPortable(), nil }, true},
}

// BenchmarkTLSRoundTrip is BenchmarkRoundTrip over TLS 1.3: a message to a
// loopback TLS echo server and back, Wait driven on the benchmark's
// goroutine.
func BenchmarkTLSRoundTrip(b *testing.B) {
	defer func(v bool) { verifyDrain = v }(verifyDrain)
	verifyDrain = false // it costs a Read per drain
	for _, size := range []int{64, 4 << 10, 64 << 10} {
		for _, tc := range tlsCases {
			b.Run(tc.name+"/"+strconv.Itoa(size), func(b *testing.B) {
				p, err := tc.new()
				if err != nil {
					b.Fatal(err)
				}
				defer p.Close()
				var client, server *tls.Conn
				if tc.bridge {
					client, server = bridgePair(b, pairOptions{})
				} else {
					tc, ts := tcpPair(b)
					client, server = handshake(b, tls.Client(tc, clientConfig()), tls.Server(ts, serverConfig()))
				}
				go echo(server)
				h := &counter{}
				c, err := p.Add(client, h)
				if err != nil {
					b.Fatal(err)
				}
				msg := make([]byte, size)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					for off := 0; off < len(msg); {
						n, err := c.Write(msg[off:])
						if err != nil {
							b.Fatal(err)
						}
						off += n
						if off < len(msg) {
							p.Wait(-1) // OnWritable, or echoed bytes
						}
					}
					for h.n < size {
						if err := p.Wait(-1); err != nil {
							b.Fatal(err)
						}
					}
					h.n -= size
				}
			})
		}
	}
}
