package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// expectedOutput derives, from what Feed reported, the frames the Conn must
// have queued: a pong for the latest of consecutive pings (nothing is
// written meanwhile), an echo of the close, the close of a failure.
func expectedOutput(evs []Event, err error) []outFrame {
	var want []outFrame
	pongs := 0 // nothing is written: every pong queued counts
	for _, e := range evs {
		switch e.Kind {
		case KindPing:
			// Every ping its pong, until maxPongRun wait; then a pong
			// still queued and last is replaced by the newer answer.
			if n := len(want); pongs >= maxPongRun && n > 0 && want[n-1].op == ws.OpPong {
				want = want[:n-1]
			} else {
				pongs++
			}
			want = append(want, outFrame{op: ws.OpPong, payload: e.Data})
		case KindClose:
			var p []byte
			if e.Code != 0 {
				p = append(binary.BigEndian.AppendUint16(nil, e.Code), e.Reason...)
			}
			want = append(want, outFrame{op: ws.OpClose, payload: p})
		}
	}
	var pe *Error
	closed := false
	for _, f := range want {
		closed = closed || f.op == ws.OpClose
	}
	if errors.As(err, &pe) && !closed {
		p := binary.BigEndian.AppendUint16(nil, pe.Code)
		want = append(want, outFrame{op: ws.OpClose, payload: append(p, pe.Reason...)})
	}
	return want
}

// fuzzSeed is a compact conversation touching every header form (the 64-bit
// one non-minimally), kept small because the fuzzer minimizes each new
// input it finds, which is slow for large ones.
func fuzzSeed() []byte {
	return cat(
		textFrame("hello"),
		frame(false, ws.OpText, []byte("fr\xe2")),
		pingFrame("p"),
		frame(true, ws.OpContinuation, []byte("\x82\xacx")),
		binFrame(bytes.Repeat([]byte{0x5a}, 130)),
		[]byte{0x82, 127, 0, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3},
		pongFrame(""),
		closeCode(4001, "bye"),
		textFrame("ignored"),
	)
}

func FuzzFeed(f *testing.F) {
	f.Add([]byte{1}, uint16(0), fuzzSeed())
	f.Add([]byte{3, 1, 7, 200}, uint16(100), fuzzSeed())
	f.Add([]byte{0}, uint16(0), cat(frame(false, ws.OpText, []byte("\xe2\x82")), pingFrame("p"), frame(true, ws.OpContinuation, []byte("\xac"))))
	f.Add([]byte{2}, uint16(10), cat(frame(false, ws.OpBinary, make([]byte, 8)), hdr(0x80, 3), []byte{1, 2, 3}))
	f.Add([]byte{5}, uint16(0), cat(textFrame("a"), closeCode(1000, "bye"), textFrame("b")))
	f.Add([]byte{1}, uint16(0), []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{1}, uint16(0), cat(textFrame("ok"), closeFrame([]byte{3})))
	f.Fuzz(func(t *testing.T, cuts []byte, limit uint16, data []byte) {
		cfg := Config{MaxMessageSize: int64(limit)}

		whole := NewConn(cfg)
		wantEvs, wantErr := feed(whole, data)

		chunked := NewConn(cfg)
		var chunks [][]byte
		for i, q := 0, data; len(q) > 0; i++ {
			n := 1
			if len(cuts) > 0 {
				n = int(cuts[i%len(cuts)]) // 0 gives an empty chunk
			}
			n = min(n, len(q))
			chunks = append(chunks, q[:n])
			q = q[n:]
			if i > 4*len(data)+8 { // all-zero cuts: finish in one piece
				chunks = append(chunks, q)
				break
			}
		}
		gotEvs, gotErr := feed(chunked, chunks...)

		if !slices.Equal(eventsString(gotEvs), eventsString(wantEvs)) {
			t.Fatalf("events differ:\nchunked %q\nwhole   %q", eventsString(gotEvs), eventsString(wantEvs))
		}
		if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
			t.Fatalf("errors differ: chunked %v, whole %v", gotErr, wantErr)
		}
		// The root package's driver: TakeMessage where it can, Next where
		// it declines, on the same chunks.
		fast := NewConn(cfg)
		fastEvs, fastErr := feedFast(fast, chunks...)
		if !slices.Equal(eventsString(fastEvs), eventsString(wantEvs)) {
			t.Fatalf("events differ:\nTakeMessage first %q\nNext only         %q", eventsString(fastEvs), eventsString(wantEvs))
		}
		if (fastErr == nil) != (wantErr == nil) || fastErr != nil && fastErr.Error() != wantErr.Error() {
			t.Fatalf("errors differ: TakeMessage first %v, Next only %v", fastErr, wantErr)
		}
		if whole.Partial() != fast.Partial() || whole.CloseReceived() != fast.CloseReceived() {
			t.Fatal("final states differ with TakeMessage")
		}
		for _, c := range []*Conn{whole, chunked, fast} {
			frames := mustDecode(t, allOutput(c))
			want := expectedOutput(wantEvs, wantErr)
			if len(frames) != len(want) {
				t.Fatalf("%d frames queued, want %d", len(frames), len(want))
			}
			for i := range want {
				if frames[i].op != want[i].op || !bytes.Equal(frames[i].payload, want[i].payload) {
					t.Fatalf("frame %d: %v % x, want %v % x", i, frames[i].op, frames[i].payload, want[i].op, want[i].payload)
				}
			}
			if c.Failed() == nil != (wantErr == nil) {
				t.Fatalf("Failed() = %v with error %v", c.Failed(), wantErr)
			}
		}
		if whole.CloseReceived() != chunked.CloseReceived() || whole.CloseSent() != chunked.CloseSent() ||
			whole.Partial() != chunked.Partial() {
			t.Fatal("final states differ")
		}
		for _, e := range wantEvs {
			switch e.Kind {
			case KindMessage:
				if !e.Binary && !utf8.Valid(e.Data) {
					t.Fatalf("invalid UTF-8 text delivered: %q", e.Data)
				}
				if limit != 0 && len(e.Data) > int(limit) {
					t.Fatalf("%d-byte message passed a %d-byte limit", len(e.Data), limit)
				}
			case KindPing, KindPong:
				if len(e.Data) > 125 {
					t.Fatal("oversized control payload delivered")
				}
			case KindClose:
				if e.Code != 0 && !ValidWireCode(e.Code) || !utf8.ValidString(e.Reason) {
					t.Fatalf("invalid close delivered: %d %q", e.Code, e.Reason)
				}
			default:
				t.Fatalf("event kind %d", e.Kind)
			}
		}
	})
}

func FuzzParseClosePayload(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x03})
	f.Add([]byte{0x03, 0xe8})
	f.Add([]byte{0x03, 0xe8, 'o', 'k'})
	f.Add([]byte{0x03, 0xed, 'x'})
	f.Add([]byte{0x0f, 0xa0, 0xff})
	f.Fuzz(func(t *testing.T, p []byte) {
		code, reason, err := ParseClosePayload(p)
		if err != nil {
			if code != 0 || reason != "" || (err.Code != 1002 && err.Code != 1007) {
				t.Fatalf("failure %v with results %d %q", err, code, reason)
			}
			// The failure must be justified.
			if len(p) >= 2 && ValidWireCode(binary.BigEndian.Uint16(p)) && utf8.Valid(p[2:]) {
				t.Fatalf("valid payload % x rejected: %v", p, err)
			}
			return
		}
		if len(p) == 0 {
			if code != 0 || reason != "" {
				t.Fatal("empty payload parsed to something")
			}
			return
		}
		if !ValidWireCode(code) || !utf8.ValidString(reason) {
			t.Fatalf("accepted %d %q", code, reason)
		}
		if code != binary.BigEndian.Uint16(p) || reason != string(p[2:]) {
			t.Fatalf("misparsed % x as %d %q", p, code, reason)
		}
	})
}
