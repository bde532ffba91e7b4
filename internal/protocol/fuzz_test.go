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
		checkFeed(t, Config{MaxMessageSize: int64(limit)}, cuts, data)
	})
}

// checkFeed feeds data to Conns made with cfg whole, in the chunks cuts
// gives, and as the root package's driver does (TakeMessage first): the
// three must agree, and what comes out, events and frames queued, must be
// valid. It returns the events and the error fed whole.
func checkFeed(t *testing.T, cfg Config, cuts []byte, data []byte) ([]Event, error) {
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
		frames := mustDecodeRole(t, c.server, allOutput(c))
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
			if limit := cfg.MaxMessageSize; limit > 0 && int64(len(e.Data)) > limit {
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
	return wantEvs, wantErr
}

// FuzzFeedServer is FuzzFeed at the server's end: data is what a client
// sends, masked (the seeds are; a frame the fuzzer unmasks fails the
// connection), with permessage-deflate negotiated when flags has bit 0,
// the client keeping no context when bit 1. Beyond FuzzFeed's checks, the
// server must see what a client-role Conn sees of the same frames
// unmasked: the rules are the same at both ends.
func FuzzFeedServer(f *testing.F) {
	z := newServerDeflater()
	f.Add([]byte{1}, uint16(0), byte(0), maskFrames(fuzzSeed(), 1))
	f.Add([]byte{3, 1, 7, 200}, uint16(100), byte(0), maskFrames(fuzzSeed(), 2))
	f.Add([]byte{0}, uint16(0), byte(0), maskFrames(cat(frame(false, ws.OpText, []byte("\xe2\x82")), pingFrame("p"), frame(true, ws.OpContinuation, []byte("\xac"))), 3))
	f.Add([]byte{1}, uint16(0), byte(0), cat(maskFrames(textFrame("a"), 4), textFrame("unmasked")))
	f.Add([]byte{13}, uint16(0), byte(1), maskFrames(cat(compressedFrame(ws.OpText, z.compress([]byte("hello hello hello"), true)),
		compressedFrame(ws.OpBinary, z.compress(bytes.Repeat([]byte{7}, 300), true)), pingFrame("p"), textFrame("plain")), 5))
	f.Add([]byte{2}, uint16(64), byte(3), maskFrames(compressedFrame(ws.OpText, newServerDeflater().compress(make([]byte, 1000), false)), 6))
	f.Fuzz(func(t *testing.T, cuts []byte, limit uint16, flags byte, data []byte) {
		cfg := func(server bool) Config {
			c := Config{MaxMessageSize: int64(limit), Server: server}
			if flags&1 != 0 {
				c.Deflate = roleDeflate(server, 15, flags&2 == 0, 15)
			}
			return c
		}
		evs, err := checkFeed(t, cfg(true), cuts, data)
		plain, rest := unmaskFrames(data)
		client := NewConn(cfg(false))
		cevs, cerr := feed(client, plain)
		if cerr == nil && len(rest) > 0 {
			// A frame not masked, or a header cut short: the server
			// judges it by its first two bytes, as the client would
			// but for the mask bit.
			switch {
			case client.CloseReceived():
				cerr = newError(codeProtocolError, reasonAfterClose)
			case len(rest) < 2:
			case rest[1]&bitMask == 0:
				cerr = newError(codeProtocolError, reasonUnmasked)
			default:
				if e := client.checkStart(rest[0], rest[1]&^bitMask); e != nil {
					cerr = e
				}
			}
		}
		if !slices.Equal(eventsString(evs), eventsString(cevs)) {
			t.Fatalf("events differ:\nserver %q\nclient %q", eventsString(evs), eventsString(cevs))
		}
		if (err == nil) != (cerr == nil) || err != nil && err.Error() != cerr.Error() {
			t.Fatalf("errors differ: server %v, client %v", err, cerr)
		}
	})
}

// unmaskFrames is what a client-role Conn must see as a server-role one
// sees data: its frames unmasked, up to the first one that is not masked
// or whose header is cut short, which is returned as rest.
func unmaskFrames(data []byte) (plain, rest []byte) {
	for len(data) >= 2 {
		hn := headerSize(data[1])
		if data[1]&bitMask == 0 || len(data) < hn {
			return plain, data
		}
		plain = append(plain, data[0], data[1]&^bitMask)
		plain = append(plain, data[2:hn-4]...)
		p := framePayload(data, hn)
		start := len(plain)
		plain = append(plain, p...)
		ws.Cipher(plain[start:], [4]byte(data[hn-4:hn]), 0)
		data = data[hn+len(p):]
	}
	return plain, data
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
