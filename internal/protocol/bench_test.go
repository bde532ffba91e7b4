package protocol

import (
	"bytes"
	"strings"
	"testing"
)

// The read and write benchmarks run at both ends: the client's
// (Benchmark*) and the server's (BenchmarkServer*), whose input is masked
// and whose output is not.

var (
	smallMessage = []byte("a small text message of 32 bytes")
	largeMessage = bytes.Repeat([]byte{0x5a}, 1<<20)
)

func BenchmarkFeedSmall(b *testing.B) { benchFeed(b, false, textFrame(string(smallMessage))) }
func BenchmarkFeedLarge(b *testing.B) { benchFeed(b, false, binFrame(largeMessage)) }

func BenchmarkServerFeedSmall(b *testing.B) { benchFeed(b, true, textFrame(string(smallMessage))) }
func BenchmarkServerFeedLarge(b *testing.B) { benchFeed(b, true, binFrame(largeMessage)) }

// benchFeed feeds one frame to Next again and again, masked to a server.
func benchFeed(b *testing.B, server bool, in []byte) {
	in = wireFor(server, in)
	c := NewConn(Config{Server: server})
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if err := drain(c, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteSmall(b *testing.B) { benchWrite(b, false, false, smallMessage) }

// BenchmarkWriteLarge drains the output after every message, as a driver
// would, so it includes the release and reallocation of the large buffer
// that keeps idle connections small.
func BenchmarkWriteLarge(b *testing.B) { benchWrite(b, false, true, largeMessage) }

func BenchmarkServerWriteSmall(b *testing.B) { benchWrite(b, true, false, smallMessage) }
func BenchmarkServerWriteLarge(b *testing.B) { benchWrite(b, true, true, largeMessage) }

// benchWrite queues p and drains the output, again and again.
func benchWrite(b *testing.B, server, binary bool, p []byte) {
	c := NewConn(Config{Server: server})
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		c.WriteMessage(binary, p)
		c.Advance(len(c.Output()))
	}
}

func BenchmarkUTF8(b *testing.B) {
	inputs := map[string][]byte{
		"ascii": bytes.Repeat([]byte("The quick brown fox jumps over the lazy dog. "), 1500),
		"latin": []byte(strings.Repeat("Größenänderung der Fenster möglich. ", 1500)),
		"cjk":   []byte(strings.Repeat("日本語のテキストです。", 2000)),
		"emoji": []byte(strings.Repeat("🙂🚀✨", 5000)),
	}
	for _, name := range []string{"ascii", "latin", "cjk", "emoji"} {
		p := inputs[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(p)))
			for b.Loop() {
				var v utf8Validator
				if !v.feed(p) || !v.complete() {
					b.Fatal("invalid")
				}
			}
		})
	}
}
