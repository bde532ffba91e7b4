package protocol

import (
	"bytes"
	"strings"
	"testing"
)

func BenchmarkFeedSmall(b *testing.B) {
	in := textFrame("a small text message of 32 bytes")
	c := NewConn(Config{})
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if err := drain(c, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFeedLarge(b *testing.B) {
	in := binFrame(bytes.Repeat([]byte{0x5a}, 1<<20))
	c := NewConn(Config{})
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if err := drain(c, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteSmall(b *testing.B) {
	p := []byte("a small text message of 32 bytes")
	c := NewConn(Config{})
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		c.WriteMessage(false, p)
		c.Advance(len(c.Output()))
	}
}

// BenchmarkWriteLarge drains the output after every message, as a driver
// would, so it includes the release and reallocation of the large buffer
// that keeps idle connections small.
func BenchmarkWriteLarge(b *testing.B) {
	p := bytes.Repeat([]byte{0x5a}, 1<<20)
	c := NewConn(Config{})
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		c.WriteMessage(true, p)
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
