package poll

import (
	"net"
	"strconv"
	"testing"
)

// counter is a Handler that only counts what it reads: the benchmarks
// measure the poller, not a recorder.
type counter struct{ n int }

func (c *counter) OnRead(p []byte)    { c.n += len(p) }
func (c *counter) OnWritable()        {}
func (c *counter) OnHangup(err error) {}

// echo sends back what it reads until the connection ends.
func echo(c net.Conn) {
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, err := c.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// BenchmarkRoundTrip writes a message to a loopback echo server and waits
// for it to come back, driving Wait on the benchmark's goroutine as the
// event loop does.
func BenchmarkRoundTrip(b *testing.B) {
	for _, size := range []int{64, 4 << 10, 64 << 10} {
		for _, pc := range pollerCases {
			b.Run(pc.name+"/"+strconv.Itoa(size), func(b *testing.B) {
				p, err := pc.new()
				if err != nil {
					b.Fatal(err)
				}
				defer p.Close()
				client, server := tcpPair(b)
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

// BenchmarkFanOut is many connections on one poller: each op writes a
// 64-byte message to each of 256 echo servers and waits until all have
// come back, so the poller's cost per ready socket shows, not one socket's
// latency. The writes go through the poller's Batcher when it has one, as
// the event loop's flush does: native and native-noring compare the
// batched calls with the same calls made one by one.
func BenchmarkFanOut(b *testing.B) {
	const conns, size = 256, 64
	for _, pc := range pollerCases {
		b.Run(pc.name, func(b *testing.B) {
			p, err := pc.new()
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			h := &counter{}
			cs := make([]Conn, conns)
			for i := range cs {
				client, server := tcpPair(b)
				go echo(server)
				if cs[i], err = p.Add(client, h); err != nil {
					b.Fatal(err)
				}
			}
			msg := make([]byte, size)
			b.SetBytes(conns * size)
			b.ReportAllocs()
			b.ResetTimer()
			batcher, _ := p.(Batcher)
			for range b.N {
				for start := 0; start < conns; {
					end := start
					for end < conns && batcher != nil && batcher.QueueWrite(cs[end], msg) {
						end++
					}
					if end > start {
						batcher.WriteQueued()
						for i := range end - start {
							if n, err := batcher.Written(i); n != size || err != nil {
								b.Fatalf("batched Write: %d, %v", n, err)
							}
						}
					} else {
						if n, err := cs[start].Write(msg); n != size || err != nil {
							b.Fatalf("Write: %d, %v", n, err)
						}
						end++
					}
					start = end
				}
				for h.n < conns*size {
					if err := p.Wait(-1); err != nil {
						b.Fatal(err)
					}
				}
				h.n -= conns * size
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*conns), "ns/msg")
		})
	}
}
