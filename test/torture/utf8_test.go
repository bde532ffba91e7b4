package torture_test

import (
	"fmt"
	"testing"
	"unicode/utf8"

	websocket "github.com/wsloop/websocket"
)

// Invalid UTF-8 in text: every kind of bad sequence, at every position a
// validator that works frame by frame, or read by read, could get wrong.
// Each must fail the connection with 1007.

// badSequences are the ways a byte sequence is not UTF-8. A truncated
// sequence is invalid only where the text ends or an ASCII byte follows.
var badSequences = []struct {
	name string
	b    string
}{
	{"LoneContinuation", "\x80"},
	{"ByteFF", "\xff"},
	{"ByteFE", "\xfe"},
	{"OverlongNUL", "\xc0\x80"},
	{"OverlongSlash3", "\xe0\x80\xaf"},
	{"Overlong4", "\xf0\x8f\xbf\xbf"},
	{"SurrogateHigh", "\xed\xa0\x80"},
	{"SurrogateLow", "\xed\xbf\xbf"},
	{"Above10FFFF", "\xf4\x90\x80\x80"},
	{"FiveBytes", "\xf8\x88\x80\x80\x80"},
	{"TwoByteThenASCII", "\xc3A"},
	{"ThreeByteCut", "\xe2\x82A"},
	{"FourByteCut", "\xf0\x9f\x98A"},
}

// positions place a bad sequence in the input, as frames or reads. Each
// returns the server's input.
var positions = []struct {
	name  string
	input func(bad string) []byte
}{
	{"Start", func(bad string) []byte { return frame(true, opText, []byte(bad+"tail")) }},
	{"Middle", func(bad string) []byte { return frame(true, opText, []byte("héad "+bad+" tail")) }},
	{"End", func(bad string) []byte { return frame(true, opText, []byte("héad "+bad)) }},
	{"Alone", func(bad string) []byte { return frame(true, opText, []byte(bad)) }},
	// The first byte ends one fragment, the rest starts the next.
	{"AcrossFragments", func(bad string) []byte {
		return cat(frame(false, opText, []byte("héad "+bad[:1])), frame(true, opCont, []byte(bad[1:]+" tail")))
	}},
	// In a later fragment, after valid ones.
	{"LaterFragment", func(bad string) []byte {
		return cat(frame(false, opText, []byte("€ one ")), frame(false, opCont, []byte("two ")),
			frame(true, opCont, []byte("thr"+bad+"ee")))
	}},
	// Alone in a fragment of its own, between valid ones.
	{"OwnFragment", func(bad string) []byte {
		return cat(frame(false, opText, []byte("one ")), frame(false, opCont, []byte(bad)),
			frame(true, opCont, []byte(" three")))
	}},
	// After a ping between the fragments.
	{"AfterControlFrame", func(bad string) []byte {
		return cat(frame(false, opText, []byte("one ")), frame(true, opPing, []byte("p")),
			frame(true, opCont, []byte(bad+" two")))
	}},
	// Every byte of the sequence in a fragment of its own.
	{"OneBytePerFragment", func(bad string) []byte {
		b := frame(false, opText, []byte("x"))
		for i := 0; i < len(bad); i++ {
			b = appendFrame(b, false, opCont, []byte{bad[i]})
		}
		return appendFrame(b, true, opCont, []byte("y"))
	}},
}

func TestInvalidUTF8(t *testing.T) {
	for _, seq := range badSequences {
		if utf8.ValidString(seq.b) {
			t.Fatalf("%s: %q is valid UTF-8", seq.name, seq.b)
		}
		for _, pos := range positions {
			t.Run(seq.name+"/"+pos.name, func(t *testing.T) {
				input := pos.input(seq.b)
				srv := serve(t, func(c *rawConn) {
					c.write(input)
					for {
						f := c.mustFrame()
						if f.op == opPong {
							continue
						}
						if f.op != opClose || f.closeCode() != websocket.CloseInvalidPayload {
							c.fatalf("client sent %v; want close(1007)", f)
						}
						break
					}
					c.expectEOF()
				})
				cl := newClient(t, srv.URL, nil)
				cl.quietPings = true
				cl.run()
				srv.wait(t)
				cl.wantTrace(openThenFailed(websocket.CloseInvalidPayload)...)
				cl.wantProtocolError(websocket.CloseInvalidPayload)
				cl.wantHeap(2*MiB, retainBound)
			})
		}
	}
}

// A bad sequence fails the connection as soon as its bytes arrive: the
// server announces a frame 1000 bytes longer than what it sends, and waits
// for the client's 1007 without sending the rest.
func TestInvalidUTF8BeforeFrameEnds(t *testing.T) {
	for _, seq := range badSequences {
		t.Run(seq.name, func(t *testing.T) {
			p := "valid ✓ " + seq.b
			input := append(appendHeader(nil, true, opText, uint64(len(p)+1000), 0), p...)
			violation(t, nil, websocket.CloseInvalidPayload, 2*MiB, input)
		})
	}
	// The same in a continuation frame.
	t.Run("Continuation", func(t *testing.T) {
		input := frame(false, opText, []byte("first "))
		input = appendHeader(input, true, opCont, 2000, 0)
		input = append(input, "second \xff"...)
		violation(t, nil, websocket.CloseInvalidPayload, 2*MiB, input)
	})
}

// A text message that ends inside a sequence, whole or in fragments: 1007
// when the final frame ends.
func TestTruncatedUTF8AtMessageEnd(t *testing.T) {
	for _, tc := range []struct {
		name  string
		input []byte
	}{
		{"OneFrame2of3", frame(true, opText, []byte("price: \xe2\x82"))},
		{"OneFrame1of2", frame(true, opText, []byte("\xc3"))},
		{"OneFrame3of4", frame(true, opText, []byte("smile \xf0\x9f\x98"))},
		{"EmptyFinalFragment", cat(frame(false, opText, []byte("smile \xf0\x9f")), frame(true, opCont, nil))},
		{"FinalFragmentStartsSequence", cat(frame(false, opText, []byte("ok")), frame(true, opCont, []byte("\xe2")))},
		{"SequenceAcrossThreeFragmentsCut", cat(frame(false, opText, []byte("\xf0")), frame(false, opCont, []byte("\x9f")),
			frame(true, opCont, []byte("\x98")))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			violation(t, nil, websocket.CloseInvalidPayload, 2*MiB, tc.input)
		})
	}
}

// A close reason that is not UTF-8: 1007.
func TestInvalidUTF8CloseReason(t *testing.T) {
	for _, seq := range badSequences {
		if len(seq.b) > 120 {
			continue
		}
		t.Run(seq.name, func(t *testing.T) {
			violation(t, nil, websocket.CloseInvalidPayload, 2*MiB, closeFrame(1000, "bye "+seq.b))
		})
	}
}

// The same bytes in binary messages are data: delivered as they are.
func TestInvalidUTF8InBinaryIsData(t *testing.T) {
	var input []byte
	var want []string
	want = append(want, traceOpen)
	for _, seq := range badSequences {
		input = appendFrame(input, true, opBinary, []byte(seq.b))
		want = append(want, fmt.Sprintf("message OPEN binary %q", seq.b))
	}
	input = append(input, closeFrame(1000, "")...)
	want = append(want, `close CLOSED 1000 "" clean=true`)
	srv := serve(t, func(c *rawConn) {
		c.write(input)
		c.expectClose(1000)
	})
	cl := newClient(t, srv.URL, nil)
	cl.run()
	srv.wait(t)
	cl.wantTrace(want...)
}
