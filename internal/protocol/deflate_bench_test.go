package protocol

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/gobwas/ws"

	"github.com/wsloop/websocket/internal/bufpool"
)

// benchText is size bytes of JSON lines of made-up events, as the bench
// module's payload package makes them (that module is apart from this
// one): keys and words repeat, numbers do not, so BestSpeed takes a 1 KiB
// message alone to about 44 % and 64 KiB to about 30 %.
func benchText(size int, seed uint64) []byte {
	words := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
		"india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa",
		"quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey", "xray",
		"yankee", "zulu", "amber", "basalt", "cobalt", "dune", "ember", "fjord"}
	actions := []string{"create", "update", "delete", "view", "share", "like", "order", "refund"}
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	b := make([]byte, 0, size+256)
	for seq := 0; len(b) < size; seq++ {
		b = append(b, `{"seq":`...)
		b = strconv.AppendInt(b, int64(seed)*100000+int64(seq), 10)
		b = append(b, `,"ts":`...)
		b = strconv.AppendInt(b, 1764000000000+int64(r.IntN(1<<30)), 10)
		b = append(b, `,"user":"`...)
		b = append(b, words[r.IntN(len(words))]...)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(r.IntN(10000)), 10)
		b = append(b, `","action":"`...)
		b = append(b, actions[r.IntN(len(actions))]...)
		b = append(b, `","item":{"id":`...)
		b = strconv.AppendInt(b, int64(r.IntN(1<<24)), 10)
		b = append(b, `,"name":"`...)
		b = append(b, words[r.IntN(len(words))]...)
		b = append(b, ' ')
		b = append(b, words[r.IntN(len(words))]...)
		b = append(b, `","price":`...)
		b = strconv.AppendInt(b, int64(r.IntN(100000)), 10)
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(10+r.IntN(90)), 10)
		b = append(b, `,"qty":`...)
		b = strconv.AppendInt(b, int64(1+r.IntN(20)), 10)
		b = append(b, `},"tags":["`...)
		b = append(b, words[r.IntN(len(words))]...)
		b = append(b, `","`...)
		b = append(b, words[r.IntN(len(words))]...)
		b = append(b, "\"]}\n"...)
	}
	return b[:size]
}

func sizeLabel(n int) string {
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// BenchmarkDeflateWrite queues a text message and drains the output, as
// BenchmarkWriteLarge does: plain, compressed (BestSpeed, each message on
// its own, as both ends always compress), and with a 9-bit window
// (back-references of 512 bytes at most); at the client's end, and at the
// server's (the server- modes). MB/s are of the message; wire/payload is
// the frame's bytes over the message's, from the output written.
func BenchmarkDeflateWrite(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		for _, mode := range []string{"plain", "deflate", "deflate-window9", "server-plain", "server-deflate", "server-deflate-window9"} {
			b.Run(sizeLabel(size)+"/"+mode, func(b *testing.B) {
				server := strings.HasPrefix(mode, "server-")
				cfg := Config{Server: server}
				switch strings.TrimPrefix(mode, "server-") {
				case "deflate":
					cfg.Deflate = &Deflate{}
				case "deflate-window9":
					cfg.Deflate = roleDeflate(server, 15, false, 9)
				}
				p := benchText(size, 1)
				c := NewConn(cfg)
				// Once before the clock: the frame must be what the mode
				// says.
				if err := c.WriteMessage(false, p); err != nil {
					b.Fatal(err)
				}
				frames, err := decodeFrames(allOutput(c), !server)
				if err != nil || len(frames) != 1 || (frames[0].rsv == 4) != (cfg.Deflate != nil) {
					b.Fatalf("%d frames (%v)", len(frames), err)
				}
				var wire, n int
				b.ReportAllocs()
				b.SetBytes(int64(size))
				for b.Loop() {
					c.WriteMessage(false, p)
					for out := c.Output(); len(out) > 0; out = c.Output() {
						wire += len(out)
						c.Advance(len(out))
					}
					n++
				}
				b.ReportMetric(float64(wire)/float64(n)/float64(size), "wire/payload")
			})
		}
	}
}

// BenchmarkDeflateRead feeds the peer's text messages and takes each one
// as the root package does (TakeMessage, else Next), giving its buffer
// back as a handler with Release does: plain; compressed with the peer's
// context taken over (one flate stream, each message referring back to
// the ones before, the Conn keeping the window); and compressed message
// by message (the peer's no_context_takeover); at the client's end, and
// at the server's (the server- modes, the input masked). The messages are a
// round of distinct texts of at least 64 KiB, fed in turn: so a message's
// own last copy is beyond the 32 KiB window. With context takeover the
// stream is the second round of a stream compressed twice over, fed after
// the first; each of its references reaches only into bytes that precede
// it in every repetition, so the round repeats validly. MB/s are of the
// inflated messages.
func BenchmarkDeflateRead(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		for _, mode := range []string{"plain", "takeover", "no-takeover", "server-plain", "server-takeover", "server-no-takeover"} {
			b.Run(sizeLabel(size)+"/"+mode, func(b *testing.B) {
				server := strings.HasPrefix(mode, "server-")
				k := max(2, (64<<10+size-1)/size)
				msgs := make([][]byte, k)
				for i := range msgs {
					msgs[i] = benchText(size, uint64(i+1))
				}
				cfg := Config{Server: server}
				var first []byte
				frames := make([][]byte, k)
				switch strings.TrimPrefix(mode, "server-") {
				case "plain":
					for i, m := range msgs {
						frames[i] = frame(true, ws.OpText, m)
					}
				case "takeover":
					cfg.Deflate = &Deflate{}
					z := newServerDeflater()
					for _, m := range msgs {
						first = append(first, compressedFrame(ws.OpText, z.compress(m, true))...)
					}
					for i, m := range msgs {
						frames[i] = compressedFrame(ws.OpText, bytes.Clone(z.compress(m, true)))
					}
				case "no-takeover":
					cfg.Deflate = roleDeflate(server, 15, false, 15)
					z := newServerDeflater()
					for i, m := range msgs {
						frames[i] = compressedFrame(ws.OpText, bytes.Clone(z.compress(m, false)))
					}
				}
				first = wireFor(server, first)
				for i := range frames {
					frames[i] = wireFor(server, frames[i])
				}
				c := NewConn(cfg)
				if err := drain(c, first); err != nil {
					b.Fatal(err)
				}
				// One round before the clock, checked.
				wire := 0
				for i, f := range frames {
					wire += len(f)
					evs, err := feedFast(c, f)
					if err != nil || len(evs) != 1 || !bytes.Equal(evs[0].Data, msgs[i]) {
						b.Fatalf("message %d: %d events, %v", i, len(evs), err)
					}
					bufpool.Put(evs[0].Data)
				}
				b.ReportAllocs()
				b.SetBytes(int64(size))
				i := 0
				for b.Loop() {
					p := frames[i%k]
					i++
					for len(p) > 0 {
						ev, n, ok := c.TakeMessage(p)
						if !ok {
							var err error
							if ev, n, err = c.Next(p); err != nil {
								b.Fatal(err)
							}
						}
						p = p[n:]
						if ev.Kind == KindMessage {
							bufpool.Put(ev.Data)
						}
					}
				}
				b.ReportMetric(float64(wire)/float64(k*size), "wire/payload")
			})
		}
	}
}
