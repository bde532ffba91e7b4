package protocol

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

func TestUTF8AgainstStdlibExhaustive(t *testing.T) {
	// Every 1-, 2- and 3-byte string: complete validation must agree with
	// the standard library.
	var b [3]byte
	for n := 1; n <= 3; n++ {
		for x := 0; x < 1<<(8*n); x++ {
			for i := 0; i < n; i++ {
				b[i] = byte(x >> (8 * i))
			}
			if got, want := validUTF8(b[:n]), utf8.Valid(b[:n]); got != want {
				t.Fatalf("% x: got %v want %v", b[:n], got, want)
			}
			// Followed by more bytes, the sequence takes the whole-
			// sequence fast path, which short inputs never reach. A
			// 3-byte string not starting with a lead byte is either
			// invalid at once or reduces to a shorter case.
			if n == 3 && (b[0] < 0xc2 || b[0] > 0xf4) {
				continue
			}
			for _, pad := range []string{"abcd", "\xc3\xa9xy", "\x80\x80\x80\x80"} {
				q := append(b[:n:n], pad...)
				if got, want := validUTF8(q), utf8.Valid(q); got != want {
					t.Fatalf("% x: got %v want %v", q, got, want)
				}
			}
		}
	}
}

// validPrefix reports, by brute force with the standard library, whether p
// can be extended to valid UTF-8. Continuation bytes 80, 90 and A0 stand for
// every sub-range the lead bytes constrain.
func validPrefix(p []byte) bool {
	reps := []byte{0x80, 0x90, 0xA0}
	var try func(s []byte, left int) bool
	try = func(s []byte, left int) bool {
		if utf8.Valid(s) {
			return true
		}
		if left == 0 {
			return false
		}
		for _, r := range reps {
			if try(append(s[:len(s):len(s)], r), left-1) {
				return true
			}
		}
		return false
	}
	return try(p, 3)
}

func TestUTF8FailsFastExhaustive(t *testing.T) {
	// feed must reject exactly when no continuation could make the prefix
	// valid: that is what lets a text message fail mid-frame.
	for x := 0; x < 1<<16; x++ {
		p := []byte{byte(x), byte(x >> 8)}
		for n := 1; n <= 2; n++ {
			var v utf8Validator
			if got, want := v.feed(p[:n]), validPrefix(p[:n]); got != want {
				t.Fatalf("% x: feed %v, prefix of valid UTF-8 %v", p[:n], got, want)
			}
		}
	}
}

func TestUTF8FourByteSequences(t *testing.T) {
	reps := []byte{0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xf4, 0xff}
	for lead := 0xf0; lead <= 0xf7; lead++ {
		for b1 := range 256 {
			for _, b2 := range reps {
				for _, b3 := range reps {
					for _, q := range [][]byte{
						{byte(lead), byte(b1), b2, b3},
						{'a', byte(lead), byte(b1), b2, b3, 'b', 'c', 'd', 'e'},
					} {
						if got, want := validUTF8(q), utf8.Valid(q); got != want {
							t.Fatalf("% x: got %v want %v", q, got, want)
						}
					}
				}
			}
		}
	}
}

func TestUTF8Boundaries(t *testing.T) {
	valid := []string{
		"", "\x00", "\x7f", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf",
		"\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf",
		"κόσμε", strings.Repeat("a", 17) + "é" + strings.Repeat("b", 9),
	}
	invalid := []string{
		"\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf",
		"\xed\xa0\x80", "\xed\xbf\xbf", "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf",
		"\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\xfe", "\xc2\x41",
		"\xe1\x80\x41", "\xf1\x80\x80\x41", strings.Repeat("a", 20) + "\xc3\x28",
	}
	for _, s := range valid {
		if !validUTF8([]byte(s)) {
			t.Errorf("%q rejected", s)
		}
	}
	for _, s := range invalid {
		if validUTF8([]byte(s)) {
			t.Errorf("%q accepted", s)
		}
	}
	for _, s := range []string{"\xc2", "\xe0\xa0", "\xf0\x90\x80", "ab\xf4"} {
		var v utf8Validator
		if !v.feed([]byte(s)) || v.complete() {
			t.Errorf("%q: want a valid but incomplete prefix", s)
		}
	}
}

func TestUTF8ChunkingRandom(t *testing.T) {
	// Any split of any input gives the same verdict as the whole.
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{'a', 0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff}
	for range 20000 {
		p := make([]byte, r.IntN(40))
		for i := range p {
			p[i] = alphabet[r.IntN(len(alphabet))]
		}
		if r.IntN(2) == 0 {
			p = []byte(strings.ToValidUTF8(string(p), "\uFFFD"))
		}
		var v utf8Validator
		ok := true
		for q := p; len(q) > 0 && ok; {
			n := min(len(q), 1+r.IntN(9))
			ok = v.feed(q[:n])
			q = q[n:]
		}
		if got, want := ok && v.complete(), utf8.Valid(p); got != want {
			t.Fatalf("% x: chunked %v, utf8.Valid %v", p, got, want)
		}
		// The fast paths end in the same state as the byte-wise rules.
		var whole, bytewise utf8Validator
		whole.feed(p)
		for i := range p {
			bytewise.feed(p[i : i+1])
		}
		if whole.state != bytewise.state {
			t.Fatalf("% x: state %d at once, %d byte by byte", p, whole.state, bytewise.state)
		}
	}
}

func TestInvalidUTF8MidFrame(t *testing.T) {
	// Only the header and the first bytes of a 100-byte text frame arrive;
	// the invalid byte alone must fail the connection, without waiting for
	// the rest of the frame.
	c := NewConn(Config{})
	in := append(hdr(0x81, 100), "abc\xc0"...)
	_, err := feedAll(c, in)
	checkFailed(t, c, err, 1007)

	// Same in a later fragment, and with the bad byte arriving alone.
	c = NewConn(Config{})
	_, err = feed(c, frame(false, ws.OpText, []byte("ok")), hdr(0x80, 50), []byte("fine"), []byte{0xff})
	checkFailed(t, c, err, 1007)

	// A surrogate is known to be invalid at its second byte.
	c = NewConn(Config{})
	_, err = feedAll(c, append(hdr(0x81, 10), 0xed, 0xa0))
	checkFailed(t, c, err, 1007)
}

func TestCodePointSplitAcrossFragments(t *testing.T) {
	s := "€𝄞é" // 3-, 4- and 2-byte sequences
	b := []byte(s)
	for cut := 1; cut < len(b); cut++ {
		c := NewConn(Config{})
		evs, err := feedAll(c, cat(frame(false, ws.OpText, b[:cut]), pingFrame(""), frame(true, ws.OpContinuation, b[cut:])))
		if err != nil || len(evs) != 2 || string(evs[1].Data) != s {
			t.Fatalf("cut %d: %v %v", cut, eventsString(evs), err)
		}
	}
	// Split in three, with an empty fragment in between.
	c := NewConn(Config{})
	evs, err := feedAll(c, cat(frame(false, ws.OpText, b[:1]), frame(false, ws.OpContinuation, nil),
		frame(false, ws.OpContinuation, b[1:2]), frame(true, ws.OpContinuation, b[2:])))
	if err != nil || len(evs) != 1 || string(evs[0].Data) != s {
		t.Fatalf("%v %v", eventsString(evs), err)
	}
}

func TestIncompleteUTF8AtMessageEnd(t *testing.T) {
	expectViolation(t, textFrame("abc\xe2\x82"), 1007)
	expectViolation(t, cat(frame(false, ws.OpText, []byte("abc")), frame(true, ws.OpContinuation, []byte{0xf0})), 1007)
	// An empty final fragment cannot complete the sequence either.
	expectViolation(t, cat(frame(false, ws.OpText, []byte{0xc3}), frame(true, ws.OpContinuation, nil)), 1007)
	// Binary messages are not validated.
	c := NewConn(Config{})
	if evs, err := feedAll(c, binFrame([]byte{0xff, 0xc0})); err != nil || len(evs) != 1 {
		t.Fatalf("binary: %v %v", evs, err)
	}
}

func TestInvalidUTF8WholeFrame(t *testing.T) {
	for _, s := range []string{"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "a\x80", "\xf8\x88\x80\x80\x80"} {
		expectViolation(t, textFrame(s), 1007)
	}
	// Large ASCII prefix then an error, exercising the word-at-a-time path.
	expectViolation(t, textFrame(strings.Repeat("x", 1000)+"\xff"), 1007)
	if !validUTF8(bytes.Repeat([]byte("abcdefgh"), 100)) {
		t.Fatal("ascii rejected")
	}
}
